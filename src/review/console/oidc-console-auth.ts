import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { isLoopbackHost } from '../../config/sandbox-mode.js';
import { RequestError, coerceError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { insertSignIn, takeSignIn } from '../../store/queries/console-sessions.js';
import type { Database } from '../../store/schema.js';
import { AccessTokenCache } from './access-token-cache.js';
import { API_TOKEN_PREFIX, SHARED_TOKEN_NAME, apiTokenName } from './api-tokens.js';
import type { ConsoleAuth, ConsoleSession, ReviewerIdentity } from './console-auth.js';
import { readCookies, serializeCookie } from './console-cookies.js';
import { sendConsoleRedirect } from './console-response.js';
import { ConsoleSessionStore, hashId } from './console-session-store.js';
import { sendSignInPage, signInUnavailablePage, signedOutPage, notReviewerPage, signInFailedPage } from './sign-in-pages.js';
import type { OidcSignIn } from './oidc-client.js';
import { listAssignees, personIdentity, personOf, tokenIdentity, type ReviewerPolicy } from './reviewer-roles.js';

/** How long a started sign-in may take at the provider before its callback is refused. */
const SIGN_IN_TTL_MS = 10 * 60_000;

export interface OidcConsoleAuthOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** Where browsers reach the service, without a trailing slash; the redirect URI hangs off it. */
  publicUrl: string;
  /** null: no SSO configured; browsers are told so, and the API takes tokens only. */
  oidc: OidcSignIn | null;
  policy: ReviewerPolicy;
  /** The shared review API token (`review.token` or the generated one). */
  sharedToken: string;
  sessionIdleMs: number;
  sessionMaxAgeMs: number;
}

/**
 * Sign-in to the review console with OpenID Connect (code flow, PKCE S256, state and nonce), and
 * bearer authentication for the review API. Sessions and sign-ins in progress live in Postgres;
 * the browser holds only random ids in HttpOnly, SameSite=Lax cookies (Secure unless the public
 * URL is plain http on loopback). Roles are worked out from the config on every request.
 */
export class OidcConsoleAuth implements ConsoleAuth {
  private readonly sessions: ConsoleSessionStore;
  private readonly secure: boolean;
  private readonly sessionCookie: string;
  private readonly signInCookie: string;
  private readonly redirectUri: string;
  private readonly accessTokens: AccessTokenCache;

  constructor(private readonly options: OidcConsoleAuthOptions) {
    this.accessTokens = new AccessTokenCache(options.clock);
    this.sessions = new ConsoleSessionStore({ db: options.db, clock: options.clock, idleMs: options.sessionIdleMs, maxAgeMs: options.sessionMaxAgeMs });
    const publicUrl = new URL(options.publicUrl);
    this.secure = !(publicUrl.protocol === 'http:' && isLoopbackHost(publicUrl.hostname));
    // __Host- cookies are refused by browsers unless Secure, on Path=/, without Domain: no subdomain can plant one.
    this.sessionCookie = this.secure ? '__Host-vouch_session' : 'vouch_session';
    this.signInCookie = this.secure ? '__Host-vouch_sign_in' : 'vouch_sign_in';
    this.redirectUri = `${options.publicUrl}/review/callback`;
  }

  /** True when browsers can sign in (SSO configured, or the sandbox's provider). */
  get signInAvailable(): boolean {
    return this.options.oidc !== null;
  }

  async assignees(): Promise<string[]> {
    const { policy } = this.options;
    const people = await this.sessions.signedInPeople();
    const reviewers = people.filter((person) => personIdentity(person, policy).reviewer).map((person) => person.actor);
    return listAssignees(policy, reviewers);
  }

  async session(req: IncomingMessage): Promise<ConsoleSession | null> {
    const id = readCookies(req).get(this.sessionCookie);
    if (!id) return null;
    const found = await this.sessions.find(id);
    if (!found) return null;
    return { identity: personIdentity(found.person, this.options.policy), csrfToken: found.csrfToken };
  }

  async beginSignIn(req: IncomingMessage, res: ServerResponse, returnTo: string, options: { reauthenticate?: boolean } = {}): Promise<void> {
    const target = safeReturnTo(returnTo);
    const oidc = this.options.oidc;
    if (!oidc) return sendSignInPage(res, 503, signInUnavailablePage());
    // The sign-in cookie must be set on the host the provider sends the browser back to.
    if (!this.onPublicHost(req)) {
      return sendConsoleRedirect(res, `${this.options.publicUrl}/review/login?return_to=${encodeURIComponent(target)}${options.reauthenticate ? '&switch=1' : ''}`);
    }
    const { url, checks } = await oidc.start(this.redirectUri, options);
    const id = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    await insertSignIn(this.options.db, hashId(id), { ...checks, returnTo: target }, now, new Date(now.getTime() + SIGN_IN_TTL_MS));
    sendConsoleRedirect(res, url.href, { 'set-cookie': this.cookie(this.signInCookie, id, SIGN_IN_TTL_MS) });
  }

  /** `GET /review/callback`: finishes a sign-in, starts the session, and returns where it began. */
  async finishSignIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const oidc = this.options.oidc;
    if (!oidc) return sendSignInPage(res, 503, signInUnavailablePage());
    const clearSignIn = this.cookie(this.signInCookie, '', 0);
    const id = readCookies(req).get(this.signInCookie);
    const pending = id ? await takeSignIn(this.options.db, hashId(id), this.options.clock.now()) : undefined;
    if (!pending) {
      return sendSignInPage(res, 400, signInFailedPage('This sign-in expired or was started in another browser.'), { 'set-cookie': clearSignIn });
    }
    const refusal = url.searchParams.get('error');
    if (refusal !== null) {
      return sendSignInPage(res, 403, signInFailedPage(`The identity provider refused the sign-in: ${refusal.slice(0, 200)}.`), { 'set-cookie': clearSignIn });
    }
    let claims;
    try {
      claims = await oidc.finish(new URL(`${this.options.publicUrl}${url.pathname}${url.search}`), pending);
    } catch (error) {
      this.options.logger.warn('console sign-in failed', { error: coerceError(error) });
      return sendSignInPage(res, 400, signInFailedPage('The identity provider\'s answer did not check out.'), { 'set-cookie': clearSignIn });
    }
    const person = personOf(claims);
    const identity = personIdentity(person, this.options.policy);
    if (!identity.reviewer) {
      this.options.logger.info('console sign-in refused: not a reviewer', { actor: person.actor });
      return sendSignInPage(res, 403, notReviewerPage(identity), { 'set-cookie': clearSignIn });
    }
    const session = await this.sessions.create(person);
    this.options.logger.info('console sign-in', { actor: person.actor, admin: identity.admin });
    sendConsoleRedirect(res, pending.returnTo, { 'set-cookie': [clearSignIn, this.cookie(this.sessionCookie, session.id, this.options.sessionMaxAgeMs)] });
  }

  /** `POST /review/logout`: deletes the server-side session (CSRF-checked) and the cookie. */
  async signOut(req: IncomingMessage, res: ServerResponse, submittedCsrf: string | undefined): Promise<void> {
    const id = readCookies(req).get(this.sessionCookie);
    const session = id ? await this.session(req) : null;
    if (session) {
      this.checkCsrf(session, submittedCsrf);
      await this.sessions.end(id as string);
    }
    sendSignInPage(res, 200, signedOutPage(), { 'set-cookie': this.cookie(this.sessionCookie, '', 0) });
  }

  checkCsrf(session: ConsoleSession, submitted: string | undefined): void {
    if (!submitted || !constantTimeEqual(submitted, session.csrfToken)) {
      throw new RequestError(403, 'the form\'s CSRF token is missing or wrong; reload the page and try again');
    }
  }

  async apiIdentity(req: IncomingMessage): Promise<ReviewerIdentity> {
    const header = req.headers.authorization;
    if (header === undefined) return this.sessionApiIdentity(req);
    const bearer = /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
    if (!bearer) throw new RequestError(401, 'Authorization must be "Bearer <token>": an API token, the review token, or an OIDC access token');
    if (constantTimeEqual(bearer, this.options.sharedToken)) return tokenIdentity(SHARED_TOKEN_NAME);
    if (bearer.startsWith(API_TOKEN_PREFIX)) {
      const name = await apiTokenName(this.options.db, bearer, this.options.clock.now());
      if (name === null) throw new RequestError(401, 'unknown or revoked API token');
      return tokenIdentity(name);
    }
    const oidc = this.options.oidc;
    if (!oidc) throw new RequestError(401, 'missing or wrong bearer token');
    let claims;
    try {
      claims = await this.accessTokens.claims(bearer, (token) => oidc.userInfo(token));
    } catch (error) {
      this.options.logger.debug('bearer refused by the identity provider', { error: coerceError(error) });
      throw new RequestError(401, 'missing or wrong bearer token (the identity provider did not accept it as an access token)');
    }
    return requireReviewer(personIdentity(personOf(claims), this.options.policy));
  }

  /** A console page's own script calling the API: its session cookie, and the CSRF header on writes. */
  private async sessionApiIdentity(req: IncomingMessage): Promise<ReviewerIdentity> {
    const session = await this.session(req);
    if (!session) throw new RequestError(401, 'missing bearer token (or console session)');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const header = req.headers['x-csrf-token'];
      this.checkCsrf(session, typeof header === 'string' ? header : undefined);
    }
    return requireReviewer(session.identity);
  }

  private onPublicHost(req: IncomingMessage): boolean {
    return (req.headers.host ?? '').toLowerCase() === new URL(this.options.publicUrl).host.toLowerCase();
  }

  private cookie(name: string, value: string, maxAgeMs: number): string {
    return serializeCookie(name, value, { secure: this.secure, path: '/', maxAgeSeconds: Math.floor(maxAgeMs / 1000) });
  }
}

/** 403 unless the identity may review. */
export function requireReviewer(identity: ReviewerIdentity): ReviewerIdentity {
  if (!identity.reviewer) throw new RequestError(403, `${identity.actor} is neither a reviewer nor an admin (review.reviewers, review.admins)`);
  return identity;
}

/** Only a path of this console is a place to return to; anything else (another site, `//host`) is /review. */
export function safeReturnTo(returnTo: string): string {
  return /^\/review(?:[/?#]|$)/.test(returnTo) && !/[\\\u0000-\u001f]/.test(returnTo) ? returnTo : '/review';
}

function constantTimeEqual(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}
