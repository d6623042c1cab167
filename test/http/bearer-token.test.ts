import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { RequestError } from '../../src/errors.js';
import { bearerToken, requireBearer } from '../../src/http/bearer-token.js';
import { constantTimeEqual } from '../../src/http/constant-time-equal.js';

const withAuthorization = (authorization: string | undefined) => ({ headers: { authorization } }) as unknown as IncomingMessage;

describe('bearerToken', () => {
  it('takes the token of a Bearer header, the scheme in any case, spaces around allowed', () => {
    expect(bearerToken('Bearer abc.def-1')).toBe('abc.def-1');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER \tabc  ')).toBe('abc');
  });

  it('finds no token in other schemes, empty tokens or tokens with spaces', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer a b', 'Bearerabc', 'Token abc']) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });
});

describe('requireBearer', () => {
  it('passes the expected token and answers 401 for a wrong, partial or missing one', () => {
    const expected = 'r'.repeat(40);
    expect(() => requireBearer(withAuthorization(`Bearer ${expected}`), expected)).not.toThrow();
    for (const header of [undefined, `Bearer ${expected.slice(1)}`, `Bearer ${expected}x`, `Basic ${expected}`]) {
      let thrown: unknown;
      try {
        requireBearer(withAuthorization(header), expected);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RequestError);
      expect((thrown as RequestError).status).toBe(401);
    }
  });
});

describe('constantTimeEqual', () => {
  it('is true only for equal strings, also across lengths and non-ASCII text', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret2')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual('clé', 'cle\u0301')).toBe(false);
  });

  it('compares strings of different lengths without throwing (timingSafeEqual alone would)', () => {
    expect(() => constantTimeEqual('a', 'a'.repeat(10_000))).not.toThrow();
  });
});
