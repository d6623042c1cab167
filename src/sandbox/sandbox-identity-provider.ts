import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { OidcContext, OidcGrant } from 'oidc-provider';
import type { OidcConfig } from '../config/config.js';
import { RequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import { escapeHtml } from '../review/console/html.js';
import { CONSOLE_HEADERS } from '../review/console/console-response.js';
import { readBody } from '../http/request-body.js';
import type { HttpServer } from '../server/http-server.js';
import { sandboxIdentityStore } from './sandbox-identity-store.js';

/** A person the sandbox's identity provider can sign in, one click each. */
export interface DemoIdentity {
  id: string;
  email: string;
  name: string;
  groups: string[];
  /** What the sign-in page says they are, e.g. "reviewer". */
  role: string;
  /** The `email_verified` claim as the provider sends it (default `true`; some send text, `"false"`). */
  emailVerified?: boolean | string | number;
}

/** The sandbox's reviewers: one who reviews, one admin, and one the console must refuse. */
export const DEMO_IDENTITIES: readonly DemoIdentity[] = [
  { id: 'dana', email: 'dana@example.com', name: 'Dana Reviewer', groups: ['security'], role: 'reviewer' },
  { id: 'erin', email: 'erin@example.com', name: 'Erin Admin', groups: ['security', 'security-admins'], role: 'admin' },
  { id: 'mallory', email: 'mallory@example.com', name: 'Mallory Outsider', groups: ['engineering'], role: 'not a reviewer' },
];

/** The review policy that goes with DEMO_IDENTITIES. */
export const DEMO_POLICY = { reviewers: ['dana@example.com'], admins: ['erin@example.com'] } as const;

export interface IdentityProviderOptions {
  /** The issuer URL; requests arrive under its path (e.g. http://127.0.0.1:8080/sandbox/oidc). */
  issuer: string;
  /** The console's redirect URIs (`<public_url>/review/callback`), plus any a test adds. */
  redirectUris: string[];
  people?: readonly DemoIdentity[];
  /** Where oidc-provider's own notices go (it prints them with console.warn otherwise). */
  logger?: Logger;
  /**
   * Where the people's claims are sent: `userinfo` (the default; as oidc-provider conforms, a code
   * flow's ID token then holds only `sub`), or `id_token`: in the ID token, with no userinfo
   * endpoint, as some providers are set up (a test reads the ID token's claims alone this way).
   */
  claimsIn?: 'userinfo' | 'id_token';
}

export interface SandboxIdentityProvider {
  /** The console's client registration at this provider, as review.oidc would hold it. */
  oidc: OidcConfig;
  /** Serves the provider (discovery, authorize, token, userinfo, its sign-in page) under the issuer's path. */
  route(http: HttpServer): void;
}

/**
 * A real OpenID provider (oidc-provider) in process, for the sandbox and the tests: demo people,
 * signed in by a click on a plain form (no password: it is a sandbox), one confidential client for
 * the console, keys and secrets generated per start. Its own sessions live in memory: a restart
 * means signing in at it again, never a lost review.
 */
export function createSandboxIdentityProvider(options: IdentityProviderOptions): SandboxIdentityProvider {
  const people = options.people ?? DEMO_IDENTITIES;
  const mountPath = new URL(options.issuer).pathname.replace(/\/$/, '');
  const oidc: OidcConfig = { issuer: options.issuer, clientId: 'vouch-console', clientSecret: randomBytes(24).toString('base64url') };
  // Built on the first request, so a sandbox that nobody signs in to starts no slower for it.
  let started: Promise<Provider> | null = null;
  let handler: ReturnType<Provider['callback']> | null = null;
  const provider = () => (started ??= startProvider(options, oidc, people, mountPath));
  return {
    oidc,
    route(http) {
      http.route('GET', `${mountPath}/interaction/*`, async (req, res) => showSignIn(await provider(), people, mountPath, req, res));
      http.route('POST', `${mountPath}/interaction/*`, async (req, res) => finishSignIn(await provider(), people, req, res));
      http.route('*', `${mountPath}/*`, async (req, res) => {
        handler ??= (await provider()).callback();
        const handle = handler;
        // As when mounted under a prefix by connect or express: the provider sees its own paths.
        const original = req.url ?? '/';
        Object.assign(req, { originalUrl: original, url: original.slice(mountPath.length) || '/' });
        return new Promise<void>((resolve) => {
          res.once('close', resolve);
          res.once('finish', resolve);
          handle(req, res);
        });
      });
    },
  };
}

async function startProvider(options: IdentityProviderOptions, oidc: OidcConfig, people: readonly DemoIdentity[], mountPath: string): Promise<Provider> {
  const { default: OidcProvider } = await importQuietly(() => import('oidc-provider'), options.logger);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new OidcProvider(options.issuer, {
    clients: [
      {
        client_id: oidc.clientId,
        client_secret: oidc.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      const person = people.find((candidate) => candidate.id === id);
      if (!person) return undefined;
      return {
        accountId: person.id,
        claims: () => ({ sub: person.id, email: person.email, email_verified: person.emailVerified ?? true, name: person.name, groups: person.groups }),
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    conformIdTokenClaims: options.claimsIn !== 'id_token',
    features: { devInteractions: { enabled: false }, userinfo: { enabled: options.claimsIn !== 'id_token' } },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    // The console is this provider's only client: consent is implied, as at a company's own SSO.
    loadExistingGrant: (ctx) => implicitGrant(ctx),
    renderError: async (ctx, out) => {
      ctx.type = 'text';
      ctx.body = `sign-in error: ${String(out.error)}: ${String(out.error_description ?? '')}`;
    },
    clientBasedCORS: () => false,
    adapter: sandboxIdentityStore(),
    // Seconds; short, as suits a sandbox (the console's own session outlives the provider's).
    ttl: { Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
  });
}

/**
 * Imports oidc-provider, whose load-time notices (it warns about Node 20) are printed with
 * console.warn: with a logger they go to the service's log instead, so stderr stays JSON lines.
 */
async function importQuietly<T>(load: () => Promise<T>, logger: Logger | undefined): Promise<T> {
  if (!logger) return load();
  const warn = console.warn;
  // Info, not warn: chiefly "Unsupported runtime" on Node 20, which this product supports and the provider runs on.
  console.warn = (...parts: unknown[]) => logger.info('sandbox identity provider notice', { notice: parts.map(String).join(' ') });
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}

async function implicitGrant(ctx: OidcContext): Promise<OidcGrant | undefined> {
  const { client, session, result, provider } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  if (grantId) return provider.Grant.find(grantId);
  const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
  grant.addOIDCScope('openid email profile');
  await grant.save();
  return grant;
}

async function showSignIn(provider: Provider, people: readonly DemoIdentity[], mountPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const interaction = await interactionOf(provider, req, res);
  const buttons = people
    .map((person) => `<p><button type="submit" name="account" value="${escapeHtml(person.id)}">Sign in as ${escapeHtml(person.name)}</button> ${escapeHtml(person.email)}, ${escapeHtml(person.role)}</p>`)
    .join('\n');
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Sandbox sign-in</title></head><body><main>',
    '<h1>Sandbox sign-in</h1>',
    '<p>This is the sandbox\'s own identity provider, standing in for your company\'s SSO. Choose who you are:</p>',
    `<form method="post" action="${escapeHtml(`${mountPath}/interaction/${encodeURIComponent(interaction.uid)}/login`)}">`,
    buttons,
    '</form></main></body></html>',
  ].join('\n');
  res.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

async function finishSignIn(provider: Provider, people: readonly DemoIdentity[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const account = new URLSearchParams((await readBody(req, 4096)).toString('utf8')).get('account');
  const person = people.find((candidate) => candidate.id === account);
  if (!person) throw new RequestError(400, 'choose one of the demo people');
  const interaction = await interactionOf(provider, req, res);
  if (interaction.prompt.name !== 'login') throw new RequestError(400, `this sign-in asks for ${interaction.prompt.name}, not a login`);
  await provider.interactionFinished(req, res, { login: { accountId: person.id } }, { mergeWithLastSubmission: false });
}

/** The sign-in under way for this browser; 400 when it expired or belongs to another browser. */
async function interactionOf(provider: Provider, req: IncomingMessage, res: ServerResponse) {
  try {
    return await provider.interactionDetails(req, res);
  } catch {
    throw new RequestError(400, 'this sign-in expired; start again from the console');
  }
}
