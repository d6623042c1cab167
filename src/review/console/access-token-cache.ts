import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { SignedInClaims } from './oidc-client.js';

/** How long the provider's answer about an access token is trusted without asking again. */
export const ACCESS_TOKEN_CACHE_MS = 60_000;
/** Tokens remembered at most; the oldest are forgotten first. */
const MAX_TOKENS = 1000;

/**
 * The identity provider's answers about OIDC access tokens used as review API bearers, kept for a
 * minute, so a script polling the API does not send every request on to the provider's userinfo
 * endpoint. Only accepted tokens are kept (a refusal is asked again next time), by the token's
 * sha256, never the token itself; concurrent requests with one token share one call. The price:
 * a token revoked at the provider still works here for up to ACCESS_TOKEN_CACHE_MS, while roles
 * are still worked out from the claims on every request.
 */
export class AccessTokenCache {
  private readonly entries = new Map<string, { claims: Promise<SignedInClaims>; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = ACCESS_TOKEN_CACHE_MS,
    private readonly maxTokens = MAX_TOKENS,
  ) {}

  /** The claims of `token`: remembered when fresh, else from `ask` (the provider). */
  claims(token: string, ask: (token: string) => Promise<SignedInClaims>): Promise<SignedInClaims> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.clock.now().getTime();
    const known = this.entries.get(key);
    if (known && known.until > now) return known.claims;
    if (known) this.entries.delete(key);
    const claims = ask(token);
    this.entries.set(key, { claims, until: now + this.ttlMs });
    // A refusal is not remembered: the next request asks the provider again.
    claims.catch(() => {
      if (this.entries.get(key)?.claims === claims) this.entries.delete(key);
    });
    while (this.entries.size > this.maxTokens) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return claims;
  }
}
