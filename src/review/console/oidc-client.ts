import * as openid from 'openid-client';
import type { OidcConfig } from '../../config/config.js';
import { isLoopbackHost } from '../../config/sandbox-mode.js';

/** What the console keeps of a person the identity provider vouched for. */
export interface SignedInClaims {
  sub: string;
  /** Only when `email_verified` is absent, `true` or `"true"` (see emailCounts). */
  email: string | null;
  name: string | null;
  /** The `groups` claim (a list, or one string), empty when absent. */
  groups: string[];
}

/** The values a sign-in's callback is checked against; kept server-side until the callback. */
export interface SignInChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The console's view of an OpenID provider: the three calls it makes, no vendor types. */
export interface OidcSignIn {
  /**
   * The issuer's authorization URL (code flow, PKCE S256, state and nonce) and the checks to keep;
   * `reauthenticate` asks the provider to sign the person in again (`prompt=login`) instead of
   * reusing its session, so someone else can sign in.
   */
  start(redirectUri: string, options?: { reauthenticate?: boolean }): Promise<{ url: URL; checks: SignInChecks }>;
  /** Redeems the code of `callbackUrl` after checking state, nonce and PKCE; throws on any mismatch. */
  finish(callbackUrl: URL, checks: SignInChecks): Promise<SignedInClaims>;
  /** The person behind an access token, from the provider's userinfo endpoint; throws when refused. */
  userInfo(accessToken: string): Promise<SignedInClaims>;
}

const SCOPES = 'openid email profile';

/**
 * OpenID Connect through openid-client. Discovery happens on first use and is retried on the
 * next when it fails, so a provider that is down at start-up does not keep the service down.
 */
export function createOidcSignIn(config: OidcConfig, options: { timeoutMs?: number; extraScopes?: string } = {}): OidcSignIn {
  let discovered: Promise<openid.Configuration> | null = null;
  const scope = options.extraScopes ? `${SCOPES} ${options.extraScopes}` : SCOPES;
  const configuration = (): Promise<openid.Configuration> => {
    discovered ??= discover(config, options.timeoutMs ?? 10_000).catch((error: unknown) => {
      discovered = null;
      throw error;
    });
    return discovered;
  };
  return {
    async start(redirectUri, options = {}) {
      const server = await configuration();
      const checks: SignInChecks = { state: openid.randomState(), nonce: openid.randomNonce(), codeVerifier: openid.randomPKCECodeVerifier() };
      const url = openid.buildAuthorizationUrl(server, {
        redirect_uri: redirectUri,
        response_type: 'code',
        scope,
        state: checks.state,
        nonce: checks.nonce,
        code_challenge: await openid.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        ...(options.reauthenticate ? { prompt: 'login' } : {}),
      });
      return { url, checks };
    },
    async finish(callbackUrl, checks) {
      const server = await configuration();
      const tokens = await openid.authorizationCodeGrant(server, callbackUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('the provider returned no ID token');
      // Many providers put email and groups only in userinfo (OpenID Connect core 5.4 allows it).
      // The ID token is already verified, so a userinfo that fails only leaves those claims out
      // (and a person then missing from the lists is refused, as they would be anyway).
      const extra = server.serverMetadata().userinfo_endpoint
        ? await openid.fetchUserInfo(server, tokens.access_token, idClaims.sub).catch(() => ({}))
        : {};
      return claimsOf({ ...extra, ...idClaims });
    },
    async userInfo(accessToken) {
      const server = await configuration();
      return claimsOf(await openid.fetchUserInfo(server, accessToken, openid.skipSubjectCheck));
    },
  };
}

/**
 * Checks that the issuer answers discovery as itself, for `vouch doctor`; resolves to what it
 * offers, throws with the reason otherwise.
 */
export async function checkIssuer(config: OidcConfig, timeoutMs = 10_000): Promise<{ userInfo: boolean; pkceS256: boolean }> {
  const metadata = (await discover(config, timeoutMs)).serverMetadata();
  return { userInfo: Boolean(metadata.userinfo_endpoint), pkceS256: metadata.code_challenge_methods_supported?.includes('S256') ?? false };
}

async function discover(config: OidcConfig, timeoutMs: number): Promise<openid.Configuration> {
  const issuer = new URL(config.issuer);
  // Config validation allowed plain http only for an issuer on loopback (the sandbox's, a test's).
  const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
  return openid.discovery(issuer, config.clientId, config.clientSecret, openid.ClientSecretBasic(config.clientSecret), {
    timeout: Math.ceil(timeoutMs / 1000),
    ...(insecure ? { execute: [openid.allowInsecureRequests] } : {}),
  });
}

/** The claims the console uses; an email the provider does not vouch for is not trusted as identity. */
export function claimsOf(claims: Record<string, unknown>): SignedInClaims {
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (sub === '') throw new Error('the provider returned no subject');
  const email = typeof claims.email === 'string' && claims.email !== '' && emailCounts(claims.email_verified) ? claims.email : null;
  const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name : null;
  const rawGroups = claims.groups;
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === 'string') : typeof rawGroups === 'string' ? [rawGroups] : [];
  return { sub, email, name, groups };
}

/**
 * Whether an `email_verified` claim lets the email stand for the person: `true`, or `"true"` as
 * some providers send it as text (Amazon Cognito's userinfo); also when the claim is absent, as
 * many providers leave it out for addresses they manage themselves. Anything else (`false`,
 * `"false"`, `0`, `"0"`, null) does not: the person is then known by their `sub`.
 */
function emailCounts(verified: unknown): boolean {
  return verified === undefined || verified === true || verified === 'true';
}
