import type { Clock } from '../../clock.js';
import type { VouchConfig } from '../../config/config.js';
import type { Logger } from '../../logger.js';
import { DEMO_POLICY, createSandboxIdentityProvider } from '../../sandbox/sandbox-identity-provider.js';
import type { HttpServer } from '../../server/http-server.js';
import type { VouchDatabase } from '../../store/database.js';
import { routeApiTokens } from './api-tokens.js';
import { routeApiTokensPage } from './api-tokens-page.js';
import { routeConsoleAuth } from './console-auth-routes.js';
import { createOidcSignIn } from './oidc-client.js';
import { OidcConsoleAuth } from './oidc-console-auth.js';

/** Where the sandbox's own OpenID provider is served, under the service's own URL. */
export const SANDBOX_ISSUER_PATH = '/sandbox/oidc';

/**
 * Builds the console's sign-in and routes it (login, callback, logout, the token API and page). With
 * review.oidc set it signs in at the company's provider; in the sandbox without it, at a real
 * OpenID provider served in process under /sandbox/oidc with demo people (dana reviews, erin
 * administers, mallory is refused); live without it, browsers are told sign-in is not
 * configured and the API takes tokens only.
 */
export function setUpConsoleAuth(options: {
  config: VouchConfig;
  store: VouchDatabase;
  http: HttpServer;
  /** The URL the server listens on; the public URL when none is configured. */
  baseUrl: string;
  clock: Clock;
  logger: Logger;
  /** The shared review API token. */
  sharedToken: string;
}): OidcConsoleAuth {
  const { config, http, baseUrl, logger } = options;
  const review = config.review;
  const publicUrl = review.publicUrl ?? baseUrl;
  let oidc = review.oidc ? createOidcSignIn(review.oidc) : null;
  let policy = { reviewers: review.reviewers, admins: review.admins };
  if (!oidc && config.sandbox) {
    // oidc-provider itself is loaded on the first sign-in: a live deployment never loads it.
    const provider = createSandboxIdentityProvider({ issuer: `${baseUrl}${SANDBOX_ISSUER_PATH}`, redirectUris: [`${publicUrl}/review/callback`], logger });
    provider.route(http);
    oidc = createOidcSignIn(provider.oidc);
    policy = { reviewers: [...policy.reviewers, ...DEMO_POLICY.reviewers], admins: [...policy.admins, ...DEMO_POLICY.admins] };
    logger.info('sandbox: the review console signs in at a built-in OpenID provider (dana reviews, erin administers)', { url: `${publicUrl}/review` });
  } else if (!oidc) {
    logger.warn('review console sign-in is not configured: set review.oidc (issuer, client_id, client_secret) and review.public_url');
  }
  const auth = new OidcConsoleAuth({
    db: options.store.db,
    clock: options.clock,
    logger,
    publicUrl,
    oidc,
    policy,
    sharedToken: options.sharedToken,
    sessionIdleMs: review.sessionIdleMs,
    sessionMaxAgeMs: review.sessionMaxAgeMs,
  });
  routeConsoleAuth(http, auth);
  routeApiTokens(http, { db: options.store.db, clock: options.clock, auth });
  routeApiTokensPage(http, { db: options.store.db, clock: options.clock, auth });
  return auth;
}

