import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSignedRequest,
  canonicalParams,
  compareCodeUnits,
  signRequest,
  strictEncode,
  verifyRequest,
  type DuoParams,
} from '../../../src/verify/duo/duo-signer.js';

/** The official Node SDK's signer, used as the oracle (it ships no types). */
interface DuoSigOracle {
  sign(ikey: string, skey: string, method: string, host: string, path: string, params: DuoParams, date: string): string;
  signV5(
    ikey: string,
    skey: string,
    method: string,
    host: string,
    path: string,
    params: DuoParams,
    date: string,
    body: string,
  ): string;
  _canonParams(params: DuoParams): string;
}
const oracle = createRequire(import.meta.url)('@duosecurity/duo_api/lib/duo_sig') as DuoSigOracle;

const IKEY = 'test_ikey';
const SKEY = 'test_skey';
const HOST = 'test.duosecurity.com';
const PATH = '/test/v1';
const DATE = 'Tue, 21 Aug 2012 17:29:18 -0000';
const PARAMS = { realname: 'First Last', username: 'root' };

/** The hex signature inside `Basic base64(ikey:hex)`. */
function signatureOf(authorization: string): string {
  const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const FIXTURES: Record<string, DuoParams> = {
  empty: {},
  arrays: { realname: ['First Last'], username: ['root'], multi: ['b', 'a', 'b'] },
  'printable ascii': {
    digits: '0123456789',
    letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
    punctuation: PUNCTUATION,
    whitespace: '\t\n\x0b\x0c\r ',
  },
  'repeated punctuation': { punctuation: [PUNCTUATION], again: [PUNCTUATION] },
  'unicode values': {
    bar: '\u2815\uaaa3\u37cf\u4bb7\u36e9\ucc05\u668e\u8162\uc2bd\ua1f1',
    foo: '\ud4ce\ud6d6\u7938\u50c0\u8a20\u8f15\ufd0b\u8024\u5cb3\uc655',
    emoji: '\u{1F600} caf\u00e9',
  },
  'unicode keys': {
    '\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\xc8\uc170': '\u0f45\u1a76\u341a',
    '\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934': '\ufba9\u41aa\ubd83',
    '\u{1F511}': 'astral key',
  },
  'shared prefix': { foo_bar: '2', foo: '1', ip_whitelist_enroll_policy: '2', ip_whitelist: '1' },
  'hostile command': { command: 'rm -rf / <!channel> <script>alert(1)</script> \u0000\u001b[31m' },
};

describe('duo signer: documented vectors', () => {
  it('v2 (HMAC-SHA512) matches the SDK vector beginning 042a30c6', () => {
    const signed = signRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: PARAMS, date: DATE, version: 2 });
    expect(signatureOf(signed.authorization).startsWith('042a30c6')).toBe(true);
    expect(signed.authorization).toBe(oracle.sign(IKEY, SKEY, 'POST', HOST, PATH, PARAMS, DATE));
    expect(signed.date).toBe(DATE);
  });

  it('v5 with a JSON body matches the SDK vector beginning 7d02409a', () => {
    const body = JSON.stringify(PARAMS);
    const signed = signRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: {}, date: DATE, body });
    expect(signatureOf(signed.authorization).startsWith('7d02409a')).toBe(true);
    expect(signed.authorization).toBe(oracle.signV5(IKEY, SKEY, 'POST', HOST, PATH, {}, DATE, body));
  });

  it('buildSignedRequest lays out a v5 POST as the vector expects: JSON body, empty param line', () => {
    const built = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'post', host: HOST, path: PATH, params: PARAMS, date: DATE });
    expect(built.body).toBe('{"realname":"First Last","username":"root"}');
    expect(built.headers['Content-Type']).toBe('application/json');
    expect(built.pathWithQuery).toBe(PATH);
    expect(signatureOf(built.headers['Authorization'] ?? '').startsWith('7d02409a')).toBe(true);
  });

  it('buildSignedRequest lays out a v2 POST as a form body', () => {
    const built = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: PARAMS, date: DATE, version: 2 });
    expect(built.body).toBe('realname=First%20Last&username=root');
    expect(built.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(signatureOf(built.headers['Authorization'] ?? '').startsWith('042a30c6')).toBe(true);
  });

  it('formats a Date with toUTCString and signs that exact string', () => {
    const when = new Date(Date.UTC(2026, 10, 24, 14, 23, 28));
    const signed = signRequest({ ikey: IKEY, skey: SKEY, method: 'GET', host: HOST, path: PATH, params: {}, date: when });
    expect(signed.date).toBe('Tue, 24 Nov 2026 14:23:28 GMT');
    expect(signed.authorization).toBe(oracle.signV5(IKEY, SKEY, 'GET', HOST, PATH, {}, signed.date, ''));
  });
});

describe('duo signer: canonical parameters', () => {
  for (const [name, params] of Object.entries(FIXTURES)) {
    it(`matches the SDK for ${name}`, () => {
      expect(canonicalParams(params)).toBe(oracle._canonParams(params));
    });
  }

  it('encodes space as %20 and the sub-delimiters encodeURIComponent skips', () => {
    expect(strictEncode("a b!'()*~")).toBe('a%20b%21%27%28%29%2A~');
  });

  it('sorts a key before the keys it prefixes, by UTF-16 code unit', () => {
    expect(canonicalParams({ foo_bar: '2', foo: '1' })).toBe('foo=1&foo_bar=2');
    expect(['b', 'B', '\u{1F600}', '\uFFFF', 'a'].sort(compareCodeUnits)).toEqual(['B', 'a', 'b', '\u{1F600}', '\uFFFF']);
  });

  it('writes one pair per array value, in order', () => {
    expect(canonicalParams({ k: ['2', '1', '2'] })).toBe('k=2&k=1&k=2');
  });

  it('encodes lone surrogates as U+FFFD instead of throwing', () => {
    expect(strictEncode('x\uD800y\uDC00')).toBe('x%EF%BF%BDy%EF%BF%BD');
    expect(strictEncode('\u{1F600}')).toBe('%F0%9F%98%80');
  });
});

describe('duo signer: requests compared with the SDK', () => {
  for (const [name, params] of Object.entries(FIXTURES)) {
    it(`v5 GET signs the query string and the hash of "" (${name})`, () => {
      const built = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'GET', host: 'API-X.Duosecurity.com', path: PATH, params, date: DATE });
      expect(built.body).toBeUndefined();
      expect(built.headers['Authorization']).toBe(oracle.signV5(IKEY, SKEY, 'GET', 'api-x.duosecurity.com', PATH, params, DATE, ''));
      const query = canonicalParams(params);
      expect(built.pathWithQuery).toBe(query ? `${PATH}?${query}` : PATH);
    });

    it(`v2 GET and POST match (${name})`, () => {
      for (const method of ['GET', 'POST']) {
        const built = buildSignedRequest({ ikey: IKEY, skey: SKEY, method, host: HOST, path: PATH, params, date: DATE, version: 2 });
        expect(built.headers['Authorization']).toBe(oracle.sign(IKEY, SKEY, method, HOST, PATH, params, DATE));
      }
    });
  }

  it('v5 POST signs the JSON body and no parameters', () => {
    const params = FIXTURES['unicode values'] ?? {};
    const built = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params, date: DATE });
    expect(built.body).toBe(JSON.stringify(params));
    expect(built.headers['Authorization']).toBe(oracle.signV5(IKEY, SKEY, 'POST', HOST, PATH, {}, DATE, built.body ?? ''));
  });

  it('property: random parameters give the same Authorization header as the SDK', () => {
    const value = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', minLength: 1 }), value, { maxKeys: 6 }),
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.constantFrom<2 | 5>(2, 5),
        fc.string({ unit: 'binary' }),
        (params, method, version, skey) => {
          const input = { ikey: IKEY, skey, method, host: HOST, path: PATH, params, date: DATE, version };
          const built = buildSignedRequest(input);
          const expected =
            version === 2
              ? oracle.sign(IKEY, skey, method, HOST, PATH, params, DATE)
              : method === 'POST'
                ? oracle.signV5(IKEY, skey, method, HOST, PATH, {}, DATE, JSON.stringify(params))
                : oracle.signV5(IKEY, skey, method, HOST, PATH, params, DATE, '');
          expect(built.headers['Authorization']).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('duo signer: verifyRequest', () => {
  const base = { integrationKey: IKEY, secretKey: SKEY, host: HOST, method: 'POST', path: PATH, query: {}, date: DATE };

  it('accepts a v5 JSON request and a v2 form request', () => {
    const v5 = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: PARAMS, date: DATE });
    expect(verifyRequest({ ...base, body: v5.body ?? '', authorization: v5.headers['Authorization'] })).toEqual({ ok: true, version: 5 });
    const v2 = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: PARAMS, date: DATE, version: 2 });
    expect(
      verifyRequest({ ...base, body: v2.body ?? '', form: PARAMS, authorization: v2.headers['Authorization'] }),
    ).toEqual({ ok: true, version: 2 });
  });

  it('rejects a tampered body, another key, a wrong ikey and junk credentials', () => {
    const v5 = buildSignedRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: PATH, params: PARAMS, date: DATE });
    const authorization = v5.headers['Authorization'];
    expect(verifyRequest({ ...base, body: '{"username":"admin"}', authorization })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyRequest({ ...base, secretKey: 'other', body: v5.body ?? '', authorization })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyRequest({ ...base, integrationKey: 'DIOTHER', body: v5.body ?? '', authorization })).toEqual({
      ok: false,
      reason: 'wrong_integration_key',
    });
    expect(verifyRequest({ ...base, body: '', authorization: 'Bearer x' })).toEqual({ ok: false, reason: 'malformed_credentials' });
    expect(verifyRequest({ ...base, body: '', authorization: undefined })).toEqual({ ok: false, reason: 'missing_credentials' });
  });
});
