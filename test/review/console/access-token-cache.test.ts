import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { AccessTokenCache } from '../../../src/review/console/access-token-cache.js';
import type { SignedInClaims } from '../../../src/review/console/oidc-client.js';

const dana: SignedInClaims = { sub: 'dana', email: 'dana@example.com', name: 'Dana', groups: [] };

/** A provider double that counts its calls and accepts only the tokens it was given. */
function provider(accepted: Record<string, SignedInClaims>) {
  const calls: string[] = [];
  const ask = async (token: string): Promise<SignedInClaims> => {
    calls.push(token);
    const claims = accepted[token];
    if (!claims) throw new Error('invalid_token');
    return claims;
  };
  return { calls, ask };
}

describe('the access token cache', () => {
  it('asks the provider once a minute per token, and again once the minute is over', async () => {
    const clock = new ManualClock();
    const cache = new AccessTokenCache(clock, 60_000);
    const idp = provider({ 'at-1': dana });
    for (let i = 0; i < 5; i++) expect(await cache.claims('at-1', idp.ask)).toEqual(dana);
    expect(idp.calls).toEqual(['at-1']);
    clock.advance(60_001);
    await cache.claims('at-1', idp.ask);
    expect(idp.calls).toEqual(['at-1', 'at-1']);
  });

  it('never remembers a refusal, and shares one call between concurrent requests', async () => {
    const cache = new AccessTokenCache(new ManualClock(), 60_000);
    const idp = provider({ 'at-1': dana });
    await expect(cache.claims('forged', idp.ask)).rejects.toThrow('invalid_token');
    await expect(cache.claims('forged', idp.ask)).rejects.toThrow('invalid_token');
    expect(idp.calls).toEqual(['forged', 'forged']);
    const both = await Promise.all([cache.claims('at-1', idp.ask), cache.claims('at-1', idp.ask)]);
    expect(both).toEqual([dana, dana]);
    expect(idp.calls.filter((t) => t === 'at-1')).toHaveLength(1);
  });

  it('forgets the oldest tokens beyond its size', async () => {
    const cache = new AccessTokenCache(new ManualClock(), 60_000, 2);
    const idp = provider({ a: dana, b: dana, c: dana });
    for (const token of ['a', 'b', 'c', 'c', 'b', 'a']) await cache.claims(token, idp.ask);
    // "a" was pushed out by "c", so it is asked again; "b" and "c" were not.
    expect(idp.calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
