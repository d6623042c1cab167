/**
 * A small fetch-based client for the Duo Auth API v2: signed requests (v5 canonical form by
 * default), a timeout on every call, 429 back-off that honours Retry-After, and defensive parsing.
 * Every failure is a SecondFactorUnavailableError, so callers fail closed without inspecting it.
 */
import { systemClock, type Clock } from '../../clock.js';
import { SecondFactorUnavailableError } from '../../errors.js';
import { buildSignedRequest, strictEncode, type DuoParams, type DuoSignatureVersion } from './duo-signer.js';

export interface DuoClientOptions {
  integrationKey: string;
  /** Never logged, never put in an error message. */
  secretKey: string;
  /** The API hostname requests are signed for, e.g. `api-xxxxxxxx.duosecurity.com`. */
  apiHost: string;
  /**
   * Where requests go; defaults to `https://<apiHost>`. May carry a path prefix (a simulator
   * mounted under `/sandbox/duo`); the signed path is always the Duo path alone.
   */
  apiUrl?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Source of the Date header. Defaults to the system clock. */
  clock?: Clock;
  /** Per-request timeout for everything except the auth_status long poll. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** How many times a 429 answer is retried before giving up. Default 3. */
  maxRetries?: number;
  /** How the client waits between 429 retries; injectable so tests never wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Canonical form to sign with. Default 5 (JSON bodies). */
  signatureVersion?: DuoSignatureVersion;
}

/** A device as preauth lists it; fields other than `device` and `capabilities` are informative. */
export interface DuoDevice {
  device: string;
  type?: string;
  name?: string;
  display_name?: string;
  number?: string;
  capabilities: string[];
}

export interface DuoPreauthResponse {
  /** `auth`, `allow`, `deny`, `enroll`; kept open because Duo may add values. */
  result: string;
  status_msg: string;
  devices: DuoDevice[];
  enroll_portal_url?: string;
}

export interface DuoAuthRequest {
  username: string;
  factor: 'push';
  device: string;
  async: true;
  /** Key/value context shown in Duo Mobile; sent URL-encoded as `k=v&k2=v2`. */
  pushinfo?: Record<string, string>;
  /** The label shown as the push's type. */
  type?: string;
  /** Shown instead of the username. */
  displayUsername?: string;
}

export interface DuoAuthStatusResponse {
  /** `allow`, `deny` or `waiting`; any other value must be treated as a denial. */
  result: string;
  /** An open list: pushed, allow, deny, fraud, timeout, ... */
  status: string;
  status_msg: string;
  /**
   * The transaction the answer is about, when Duo names it. Duo's auth_status does not echo it in
   * every version, so absent is normal; present, it must be the txid asked about.
   */
  txid?: string;
}

/** A request ran out of time. A subclass, so callers that ignore the difference still fail closed. */
export class DuoTimeoutError extends SecondFactorUnavailableError {}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRIES = 3;
/** A Retry-After beyond this is clamped: a verification should not stall for hours. */
const MAX_RETRY_WAIT_MS = 60_000;
/** Duo's answers are a few hundred bytes; anything far larger is not Duo. */
const MAX_RESPONSE_CHARS = 1_000_000;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface CallOptions {
  signed: boolean;
  timeoutMs: number;
}

export class DuoClient {
  private readonly baseUrl: string;
  private readonly host: string;
  private readonly fetchFn: typeof fetch;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly version: DuoSignatureVersion;

  constructor(private readonly options: DuoClientOptions) {
    // Signed with the configured host: fetch ignores a custom Host header, so a simulator on
    // 127.0.0.1 is told which host to expect instead.
    this.host = options.apiHost.trim().toLowerCase();
    this.baseUrl = (options.apiUrl ?? `https://${this.host}`).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.sleep = options.sleep ?? realSleep;
    this.version = options.signatureVersion ?? 5;
  }

  /** How long one request may take before it is abandoned. */
  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** Unsigned liveness check; returns Duo's time in epoch seconds. */
  async ping(): Promise<{ time: number }> {
    const response = await this.call('GET', '/auth/v2/ping', {}, { signed: false, timeoutMs: this.timeoutMs });
    return { time: requireNumber(response, 'time', '/auth/v2/ping') };
  }

  /** Signed check: proves the keys and host are right. Returns Duo's time in epoch seconds. */
  async check(): Promise<{ time: number }> {
    const response = await this.call('GET', '/auth/v2/check', {}, this.signedDefaults());
    return { time: requireNumber(response, 'time', '/auth/v2/check') };
  }

  /** Whether the user may authenticate and with which devices. */
  async preauth(request: { username: string }): Promise<DuoPreauthResponse> {
    const path = '/auth/v2/preauth';
    const response = await this.call('POST', path, { username: request.username }, this.signedDefaults());
    const devices = response['devices'] === undefined ? [] : parseDevices(response['devices'], path);
    const portal = response['enroll_portal_url'];
    return {
      result: requireString(response, 'result', path),
      status_msg: optionalString(response, 'status_msg'),
      devices,
      ...(typeof portal === 'string' ? { enroll_portal_url: portal } : {}),
    };
  }

  /** Starts an asynchronous push and returns its transaction id. */
  async auth(request: DuoAuthRequest): Promise<{ txid: string }> {
    const path = '/auth/v2/auth';
    const params: Record<string, string> = {
      username: request.username,
      factor: request.factor,
      device: request.device,
      async: '1',
    };
    if (request.pushinfo) params['pushinfo'] = encodePushinfo(request.pushinfo);
    if (request.type !== undefined) params['type'] = request.type;
    if (request.displayUsername !== undefined) params['display_username'] = request.displayUsername;
    const response = await this.call('POST', path, params, this.signedDefaults());
    const txid = requireString(response, 'txid', path);
    // Without an id the push's answer can never be asked for: no push Vouch could follow was started.
    if (txid.trim() === '') throw new SecondFactorUnavailableError(`Duo ${path} answered with an empty "txid"`);
    return { txid };
  }

  /**
   * Long-polls a transaction's status. Duo holds the request until the status changes, so the
   * request is bounded by `timeoutMs` instead of the default timeout; when it runs out, a
   * DuoTimeoutError is thrown.
   */
  async authStatus(txid: string, options: { timeoutMs: number }): Promise<DuoAuthStatusResponse> {
    const path = '/auth/v2/auth_status';
    const response = await this.call('GET', path, { txid }, { signed: true, timeoutMs: options.timeoutMs });
    const answered = response['txid'] === undefined ? {} : { txid: requireString(response, 'txid', path) };
    return {
      result: requireString(response, 'result', path),
      status: requireString(response, 'status', path),
      status_msg: optionalString(response, 'status_msg'),
      ...answered,
    };
  }

  private signedDefaults(): CallOptions {
    return { signed: true, timeoutMs: this.timeoutMs };
  }

  /** One API call with its 429 retries; returns the `response` object of a `stat: OK` answer. */
  private async call(method: string, path: string, params: DuoParams, options: CallOptions): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(method, path, params, options);
      if (response.status !== 429) return parseEnvelope(response.status, response.text, method, path);
      if (attempt >= this.maxRetries) {
        throw new SecondFactorUnavailableError(
          `Duo ${method} ${path} is rate limited (HTTP 429) after ${attempt + 1} attempts`,
        );
      }
      await this.sleep(retryWaitMs(response.headers, attempt, this.clock));
    }
  }

  /** Sends one signed request (a fresh Date per attempt) and reads the whole body within the timeout. */
  private async send(
    method: string,
    path: string,
    params: DuoParams,
    options: CallOptions,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    const built = buildSignedRequest({
      ikey: this.options.integrationKey,
      skey: this.options.secretKey,
      method,
      host: this.host,
      path,
      params,
      date: this.clock.now(),
      version: this.version,
    });
    const headers: Record<string, string> = { ...built.headers, 'User-Agent': 'vouch-duo-client' };
    if (!options.signed) delete headers['Authorization'];
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await this.fetchFn(this.baseUrl + built.pathWithQuery, {
        method,
        headers,
        body: built.body,
        signal,
        redirect: 'error',
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      throw transportError(error, method, path, options.timeoutMs, signal);
    }
  }
}

/** Encodes push context the way duo_unix does: `k=v&k2=v2`, strictly percent-encoded, in order. */
export function encodePushinfo(pushinfo: Record<string, string>): string {
  return Object.entries(pushinfo)
    .map(([key, value]) => `${strictEncode(key)}=${strictEncode(value)}`)
    .join('&');
}

function transportError(error: unknown, method: string, path: string, timeoutMs: number, signal: AbortSignal): Error {
  if (signal.aborted) {
    return new DuoTimeoutError(`Duo ${method} ${path} did not answer within ${timeoutMs} ms`, { cause: error });
  }
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  const message = error instanceof Error ? error.message : String(error);
  return new SecondFactorUnavailableError(`Duo ${method} ${path} could not be reached: ${message}${cause}`, {
    cause: error,
  });
}

/** Retry-After / X-Retry-After (seconds or an HTTP date), else exponential 1, 2, 4 s plus jitter. */
function retryWaitMs(headers: Headers, attempt: number, clock: Clock): number {
  const header = headers.get('retry-after') ?? headers.get('x-retry-after');
  const fromHeader = header === null ? undefined : parseRetryAfter(header.trim(), clock);
  const wait = fromHeader ?? 1000 * 2 ** attempt + Math.floor(Math.random() * 1000);
  return Math.min(Math.max(wait, 0), MAX_RETRY_WAIT_MS);
}

function parseRetryAfter(value: string, clock: Clock): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at - clock.now().getTime();
}

/** Turns a Duo answer into its `response` object, or a descriptive error. */
function parseEnvelope(status: number, text: string, method: string, path: string): Record<string, unknown> {
  const where = `Duo ${method} ${path}`;
  if (text.length > MAX_RESPONSE_CHARS) {
    throw new SecondFactorUnavailableError(`${where} answered HTTP ${status} with an oversized body`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new SecondFactorUnavailableError(
      `${where} answered HTTP ${status} with a non-JSON body: ${snippet(text)}`,
      { cause: error },
    );
  }
  if (!isRecord(body)) throw new SecondFactorUnavailableError(`${where} answered HTTP ${status} with unexpected JSON`);
  if (body['stat'] === 'OK' && status === 200 && isRecord(body['response'])) return body['response'];
  if (body['stat'] === 'FAIL') {
    const detail = typeof body['message_detail'] === 'string' ? ` (${snippet(body['message_detail'])})` : '';
    throw new SecondFactorUnavailableError(
      `${where} failed: HTTP ${status}, code ${String(body['code'])}: ${snippet(String(body['message']))}${detail}`,
    );
  }
  throw new SecondFactorUnavailableError(`${where} answered HTTP ${status} with an unexpected shape`);
}

/** A short, printable excerpt of untrusted text for an error message. */
function snippet(text: string): string {
  // Cut first: a hostile or broken endpoint's body can be megabytes.
  const printable = text.slice(0, 201).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return printable.length > 200 ? `${printable.slice(0, 200)}...` : printable;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw new SecondFactorUnavailableError(`Duo ${path} answered without a string "${key}"`);
  }
  return value;
}

function optionalString(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  return typeof value === 'string' ? value : '';
}

function requireNumber(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SecondFactorUnavailableError(`Duo ${path} answered without a numeric "${key}"`);
  }
  return value;
}

function parseDevices(value: unknown, path: string): DuoDevice[] {
  if (!Array.isArray(value)) throw new SecondFactorUnavailableError(`Duo ${path} answered with non-list "devices"`);
  return value.map((entry) => {
    if (!isRecord(entry)) throw new SecondFactorUnavailableError(`Duo ${path} answered with a malformed device`);
    const capabilities = Array.isArray(entry['capabilities'])
      ? entry['capabilities'].filter((c): c is string => typeof c === 'string')
      : [];
    const device: DuoDevice = { device: requireString(entry, 'device', path), capabilities };
    for (const key of ['type', 'name', 'display_name', 'number'] as const) {
      const field = entry[key];
      if (typeof field === 'string') device[key] = field;
    }
    return device;
  });
}
