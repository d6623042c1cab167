/**
 * Duo request signing (HMAC-SHA512), canonical forms v2 and v5, byte-for-byte as the official
 * SDKs build them. Used by the Duo client to sign and by the Duo simulator to verify.
 */
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../http/constant-time-equal.js';
import { wellFormed } from '../../well-formed.js';

/** Request parameters: one value, or one pair per array element (in the given order). */
export type DuoParams = Readonly<Record<string, string | readonly string[]>>;

/** Canonicalisation version. v5 signs the body hash; v2 signs the parameters only. */
export type DuoSignatureVersion = 2 | 5;

/** What both canonical forms need. `host` is lower-cased and `method` upper-cased here. */
export interface CanonicalInput {
  /** The exact Date header value. */
  date: string;
  method: string;
  host: string;
  /** The path as sent, without the query string, e.g. `/auth/v2/preauth`. */
  path: string;
  /** The parameters that are signed (for a v5 JSON request: the query string, usually none). */
  params: DuoParams;
}

export interface SignRequestInput {
  ikey: string;
  skey: string;
  method: string;
  host: string;
  path: string;
  /** Signed parameters; for a v5 POST pass `{}` and the JSON in `body`. */
  params: DuoParams;
  /** A Date (formatted with toUTCString) or the exact header string. */
  date: Date | string;
  /** Raw request body, signed by v5 only. Defaults to `""`. */
  body?: string;
  /** Defaults to 5. */
  version?: DuoSignatureVersion;
}

export interface SignedHeaders {
  authorization: string;
  /** The Date header value: the same string that was signed. */
  date: string;
}

/** Methods whose parameters travel in the body. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Characters encodeURIComponent leaves alone but RFC 3986 reserves. */
const SUB_DELIMS = /[!'()*]/g;

/**
 * Strict RFC 3986 percent-encoding: encodeURIComponent plus `! ' ( ) *`; a space is `%20`.
 * Lone surrogates are encoded as U+FFFD instead of throwing, as a UTF-8 encoder would.
 */
export function strictEncode(value: string): string {
  // Lone surrogates cannot be encoded (encodeURIComponent throws), so they become U+FFFD first.
  return encodeURIComponent(wellFormed(value)).replace(
    SUB_DELIMS,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Orders by UTF-16 code unit, a prefix first (`foo` before `foo_bar`), as every Duo SDK does. */
export function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** The canonical `k=v&k2=v2` string: sorted keys, strict encoding, one pair per array value. */
export function canonicalParams(params: DuoParams): string {
  const pairs: string[] = [];
  for (const key of Object.keys(params).sort(compareCodeUnits)) {
    const value = params[key];
    const encodedKey = strictEncode(key);
    const values: readonly string[] = typeof value === 'string' ? [value] : (value ?? []);
    for (const v of values) pairs.push(`${encodedKey}=${strictEncode(v)}`);
  }
  return pairs.join('&');
}

/** Lower-case hex SHA-512. */
export function sha512Hex(data: string): string {
  return createHash('sha512').update(data, 'utf8').digest('hex');
}

/** The v2 canonical string: date, method, host, path, parameters. */
export function canonicalizeV2(input: CanonicalInput): string {
  return [
    input.date,
    input.method.toUpperCase(),
    input.host.toLowerCase(),
    input.path,
    canonicalParams(input.params),
  ].join('\n');
}

/**
 * The v5 canonical string: the v2 lines, the body's SHA-512 and the SHA-512 of the canonical
 * `X-Duo-*` headers. No such headers are sent, so that hash is of `""`, as the Node SDK does.
 */
export function canonicalizeV5(input: CanonicalInput & { body: string }): string {
  return [canonicalizeV2(input), sha512Hex(input.body), sha512Hex('')].join('\n');
}

/** The Date header format the Node SDK uses, e.g. `Tue, 24 Nov 2026 14:23:28 GMT`. */
export function formatDuoDate(date: Date): string {
  return date.toUTCString();
}

/** Hex HMAC-SHA512 of the canonical string for the chosen version. */
function signatureHex(input: Omit<SignRequestInput, 'date' | 'ikey'>, date: string): string {
  const canonical = { date, method: input.method, host: input.host, path: input.path, params: input.params };
  const text =
    (input.version ?? 5) === 5 ? canonicalizeV5({ ...canonical, body: input.body ?? '' }) : canonicalizeV2(canonical);
  return createHmac('sha512', input.skey).update(text, 'utf8').digest('hex');
}

function basicAuthorization(ikey: string, hex: string): string {
  return 'Basic ' + Buffer.from(`${ikey}:${hex}`, 'utf8').toString('base64');
}

/**
 * Signs one request. The returned `date` must be sent as the Date header unchanged: the
 * signature covers that exact string.
 */
export function signRequest(input: SignRequestInput): SignedHeaders {
  const date = typeof input.date === 'string' ? input.date : formatDuoDate(input.date);
  return { authorization: basicAuthorization(input.ikey, signatureHex(input, date)), date };
}

/** What signRequest takes, less the body: buildSignedRequest lays the body out itself. */
export type BuildRequestInput = Omit<SignRequestInput, 'body'>;

export interface BuiltRequest {
  /** Path plus query string (GET and other non-body methods), ready to append to the base URL. */
  pathWithQuery: string;
  /** Headers to send: Date, Authorization, and Content-Type when there is a body. */
  headers: Record<string, string>;
  /** The body, or undefined for methods without one. */
  body: string | undefined;
}

/**
 * Lays out and signs a whole request the way Duo expects. v5: a POST/PUT/PATCH sends the
 * parameters as a JSON body and signs an empty parameter line plus the body hash; other methods
 * sign the query string and the hash of `""`. v2: parameters are form-encoded in the body (or the
 * query string) and signed as such.
 */
export function buildSignedRequest(input: BuildRequestInput): BuiltRequest {
  const method = input.method.toUpperCase();
  const version = input.version ?? 5;
  const inBody = BODY_METHODS.has(method);
  const query = inBody ? '' : canonicalParams(input.params);
  const pathWithQuery = query ? `${input.path}?${query}` : input.path;
  const base = { ikey: input.ikey, skey: input.skey, method, host: input.host, path: input.path, date: input.date };
  if (!inBody) {
    const signed = signRequest({ ...base, params: input.params, body: '', version });
    return { pathWithQuery, headers: headersOf(signed), body: undefined };
  }
  if (version === 5) {
    const body = JSON.stringify(input.params);
    const signed = signRequest({ ...base, params: {}, body, version });
    return { pathWithQuery, headers: { ...headersOf(signed), 'Content-Type': 'application/json' }, body };
  }
  const signed = signRequest({ ...base, params: input.params, version });
  return {
    pathWithQuery,
    headers: { ...headersOf(signed), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: canonicalParams(input.params),
  };
}

function headersOf(signed: SignedHeaders): Record<string, string> {
  return { Date: signed.date, Authorization: signed.authorization };
}

export interface VerifyRequestInput {
  integrationKey: string;
  secretKey: string;
  /** The host the requests are expected to be signed for. */
  host: string;
  method: string;
  /** The path as received, without the query string. */
  path: string;
  /** Decoded query-string parameters. */
  query: DuoParams;
  /** The raw body as received (`""` when none): what v5 hashes. */
  body: string;
  /** Parameters decoded from a form-encoded body (v2 POST); `{}` otherwise. */
  form?: DuoParams;
  authorization: string | undefined;
  date: string | undefined;
}

export type VerifyResult =
  | { ok: true; version: DuoSignatureVersion }
  | { ok: false; reason: 'missing_credentials' | 'malformed_credentials' | 'wrong_integration_key' | 'bad_signature' };

/**
 * Checks a received request's Authorization header against both canonical forms (v5, then v2),
 * comparing signatures in constant time. Does not judge the Date header's age; callers do.
 */
export function verifyRequest(input: VerifyRequestInput): VerifyResult {
  if (!input.authorization || input.date === undefined) return { ok: false, reason: 'missing_credentials' };
  const credentials = parseBasic(input.authorization);
  if (!credentials) return { ok: false, reason: 'malformed_credentials' };
  if (!constantTimeEqual(credentials.user, input.integrationKey)) return { ok: false, reason: 'wrong_integration_key' };
  const common = { skey: input.secretKey, method: input.method, host: input.host, path: input.path };
  const v5 = signatureHex({ ...common, params: input.query, body: input.body, version: 5 }, input.date);
  const v2 = signatureHex({ ...common, params: { ...input.query, ...input.form }, version: 2 }, input.date);
  // Both are computed and compared so the time taken does not reveal which form was tried.
  const matchesV5 = constantTimeEqual(credentials.password, v5);
  const matchesV2 = constantTimeEqual(credentials.password, v2);
  if (matchesV5) return { ok: true, version: 5 };
  if (matchesV2) return { ok: true, version: 2 };
  return { ok: false, reason: 'bad_signature' };
}

function parseBasic(header: string): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
