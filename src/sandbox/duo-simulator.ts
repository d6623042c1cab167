/**
 * A Duo Auth API v2 simulator speaking the real wire protocol: signed requests (v5 JSON bodies and
 * v2 form bodies, HMAC-SHA512), Duo's JSON envelopes and error codes, asynchronous pushes and the
 * long-polling auth_status. Tests, the local sandbox and benchmarks all use it. It depends only on
 * node built-ins because it ships with the service.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { NotFoundError, RequestError } from '../errors.js';
import { jsonObjectBody, readBody, trackResponses } from '../http/request-body.js';
import { sendJson } from '../http/respond.js';
import { verifyRequest, type DuoParams } from '../verify/duo/duo-signer.js';

/** How a simulated person answers a push. */
export type DuoPushAnswer = 'allow' | 'deny' | 'fraud' | 'timeout';

export interface DuoSimulatorOptions {
  integrationKey: string;
  secretKey: string;
  /** The host requests must be signed for (what the client is configured with). */
  apiHost: string;
  /** Judges the Date header and stamps pushes. Default: the system clock. */
  clock?: Clock;
  /** How long auth_status holds a request waiting for a change, in real milliseconds. Default 5000. */
  longPollMs?: number;
  /** Answers given at once when these users are pushed. */
  autoRespond?: Record<string, DuoPushAnswer>;
  /** Pushes left unanswered this long (by `clock`) end as `timeout`. Default 60000. */
  pushExpiryMs?: number;
}

export interface DuoSimulatedUser {
  /** `push`: one phone with Duo Mobile; `none`: enrolled but without a device. Default `push`. */
  devices?: 'push' | 'none';
  /** Not enrolled yet: preauth answers `enroll`. Default false. */
  enroll?: boolean;
  /** A policy outcome for preauth: `deny` (locked out) or `allow` (bypass). Default: normal auth. */
  policy?: 'deny' | 'allow';
}

export interface DuoSimulatedPush {
  txid: string;
  username: string;
  /** The decoded pushinfo pairs. */
  pushinfo: Record<string, string>;
  type: string;
  displayUsername: string | undefined;
  createdAt: Date;
  /** null while pending. */
  outcome: DuoPushAnswer | null;
  answeredAt: Date | null;
}

export interface DuoSimulatorListener {
  /** e.g. `http://127.0.0.1:43123` */
  url: string;
  close(): Promise<void>;
}

export interface DuoSimulator {
  /**
   * Serves one request. `path` is the Duo path plus query as the client signed it (the part after
   * any mount prefix), e.g. `/auth/v2/preauth?x=y`. Never throws; always answers.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Its own HTTP server on 127.0.0.1 (port 0: any free port). */
  listen(port?: number): Promise<DuoSimulatorListener>;
  /** Adds or replaces a user. Unknown users are told to enroll. */
  addUser(username: string, user?: DuoSimulatedUser): void;
  /** Answers a pending push. Throws NotFoundError (unknown txid) or RequestError 409 (already answered). */
  respond(txid: string, answer: DuoPushAnswer): void;
  /** Makes every later push to this user answer itself; `undefined` turns that off. */
  autoRespond(username: string, answer: DuoPushAnswer | undefined): void;
  pendingPushes(): DuoSimulatedPush[];
  /** Every push still kept (the newest 10000), with its outcome. */
  pushes(): DuoSimulatedPush[];
  /** The next `count` requests get `httpStatus` and `body` (default: a Duo FAIL envelope). */
  failNext(count: number, httpStatus: number, body?: string): void;
  /** The next `count` requests get 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** The next `count` requests are never answered (until close), to exercise client timeouts. */
  hangNext(count: number): void;
  /** Called for every new push; returns a function that unsubscribes. */
  on(event: 'push', listener: (push: DuoSimulatedPush) => void): () => void;
  off(event: 'push', listener: (push: DuoSimulatedPush) => void): void;
  /** Requests held open right now: long polls, synchronous auths and hung requests. */
  heldRequests(): number;
  /** Resolves with the next push created (optionally: for this user). */
  nextPush(username?: string): Promise<DuoSimulatedPush>;
  /** Ends held long polls and hung requests, and closes every server from listen(). */
  close(): Promise<void>;
  /** Every kept push (pending ones too) as plain JSON. */
  snapshot(): DuoSimulatorState;
  /** Continues from a snapshot: a push pending before a restart can still be answered and polled. */
  restore(state: DuoSimulatorState): void;
}

/** What a restarted sandbox needs to continue its pushes; dates as ISO strings. */
export interface DuoSimulatorState {
  version: 1;
  pushes: unknown[];
}

const MAX_BODY_BYTES = 256 * 1024;
const MAX_DATE_SKEW_MS = 5 * 60 * 1000;
const MAX_PUSHES_KEPT = 10_000;

const STATUS_TEXT: Record<DuoPushAnswer | 'waiting', { result: string; status: string; status_msg: string }> = {
  waiting: { result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request to your device...' },
  allow: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
  deny: { result: 'deny', status: 'deny', status_msg: 'Login request denied.' },
  fraud: { result: 'deny', status: 'fraud', status_msg: 'Login request reported as fraudulent.' },
  timeout: { result: 'deny', status: 'timeout', status_msg: 'Login timed out.' },
};

/** A Duo-shaped error answer; `status` is the HTTP status. */
class DuoFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

const missingParams = (detail?: string): DuoFailure =>
  new DuoFailure(400, 40002, 'Missing required request parameters', detail);
const invalidParams = (detail: string): DuoFailure => new DuoFailure(400, 40003, 'Invalid request parameters', detail);

interface Injection {
  kind: 'fail' | 'rate_limit' | 'hang';
  remaining: number;
  status: number;
  body?: string;
  retryAfterSeconds?: number;
}

interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
}

/** Creates a simulator. It holds no resources until listen() or a long poll; close() releases them. */
export function createDuoSimulator(options: DuoSimulatorOptions): DuoSimulator {
  return new Simulator(options);
}

class Simulator implements DuoSimulator {
  private readonly clock: Clock;
  private readonly longPollMs: number;
  private readonly pushExpiryMs: number;
  private readonly host: string;
  private readonly users = new Map<string, Required<Pick<DuoSimulatedUser, 'devices' | 'enroll'>> & DuoSimulatedUser>();
  private readonly autoAnswers = new Map<string, DuoPushAnswer>();
  private readonly pushLog = new Map<string, DuoSimulatedPush>();
  private readonly pushListeners = new Set<(push: DuoSimulatedPush) => void>();
  /** Held long polls and sync auths, woken when their push changes or on close. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly hung = new Set<ServerResponse>();
  private readonly servers = new Set<DuoSimulatorListener>();
  private readonly injections: Injection[] = [];
  private closed = false;

  constructor(private readonly options: DuoSimulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.longPollMs = options.longPollMs ?? 5000;
    this.pushExpiryMs = options.pushExpiryMs ?? 60_000;
    this.host = options.apiHost.trim().toLowerCase();
    for (const [username, answer] of Object.entries(options.autoRespond ?? {})) this.autoAnswers.set(username, answer);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      if (this.applyInjection(res)) return;
      const request = await this.authenticate(req, path);
      const response = await this.route(request, res);
      this.dropKeepAliveWhenClosing(res);
      sendJson(res, 200, { stat: 'OK', response });
    } catch (error) {
      if (res.headersSent || res.writableEnded) return;
      this.dropKeepAliveWhenClosing(res);
      if (error instanceof DuoFailure) {
        const body: Record<string, unknown> = { stat: 'FAIL', code: error.code, message: error.message };
        if (error.detail !== undefined) body['message_detail'] = error.detail;
        sendJson(res, error.status, body);
      } else {
        sendJson(res, 500, { stat: 'FAIL', code: 50000, message: 'Internal server error' });
      }
    }
  }

  async listen(port = 0): Promise<DuoSimulatorListener> {
    const server = createServer((req, res) => void this.handle(req, res, req.url ?? '/'));
    trackResponses(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    const listener: DuoSimulatorListener = {
      url: `http://127.0.0.1:${bound}`,
      close: async () => {
        this.servers.delete(listener);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Answers being written (released long polls) get a moment to flush; then the rest is cut.
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        force.unref();
        await closed;
        clearTimeout(force);
      },
    };
    this.servers.add(listener);
    return listener;
  }

  addUser(username: string, user: DuoSimulatedUser = {}): void {
    this.users.set(username, { ...user, devices: user.devices ?? 'push', enroll: user.enroll ?? false });
  }

  respond(txid: string, answer: DuoPushAnswer): void {
    const push = this.pushLog.get(txid);
    if (!push) throw new NotFoundError(`No push with txid ${txid}`);
    this.expire(push);
    if (push.outcome !== null) throw new RequestError(409, `Push ${txid} was already answered: ${push.outcome}`);
    push.outcome = answer;
    push.answeredAt = this.clock.now();
    this.wake(txid);
  }

  snapshot(): DuoSimulatorState {
    return JSON.parse(JSON.stringify({ version: 1, pushes: [...this.pushLog.values()] })) as DuoSimulatorState;
  }

  restore(state: DuoSimulatorState): void {
    if (state.version !== 1) throw new Error(`unknown Duo simulator state version ${String(state.version)}`);
    this.pushLog.clear();
    for (const raw of state.pushes as Array<DuoSimulatedPush & { createdAt: string; answeredAt: string | null }>) {
      this.pushLog.set(raw.txid, { ...raw, createdAt: new Date(raw.createdAt), answeredAt: raw.answeredAt === null ? null : new Date(raw.answeredAt) });
    }
  }

  autoRespond(username: string, answer: DuoPushAnswer | undefined): void {
    if (answer === undefined) this.autoAnswers.delete(username);
    else this.autoAnswers.set(username, answer);
  }

  pendingPushes(): DuoSimulatedPush[] {
    return this.pushes().filter((push) => push.outcome === null);
  }

  pushes(): DuoSimulatedPush[] {
    return [...this.pushLog.values()].map((push) => {
      this.expire(push);
      return { ...push, pushinfo: { ...push.pushinfo } };
    });
  }

  failNext(count: number, httpStatus: number, body?: string): void {
    this.injections.push({ kind: 'fail', remaining: count, status: httpStatus, ...(body === undefined ? {} : { body }) });
  }

  rateLimitNext(count: number, retryAfterSeconds: number): void {
    this.injections.push({ kind: 'rate_limit', remaining: count, status: 429, retryAfterSeconds });
  }

  hangNext(count: number): void {
    this.injections.push({ kind: 'hang', remaining: count, status: 0 });
  }

  on(_event: 'push', listener: (push: DuoSimulatedPush) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  off(_event: 'push', listener: (push: DuoSimulatedPush) => void): void {
    this.pushListeners.delete(listener);
  }

  heldRequests(): number {
    let held = this.hung.size;
    for (const wakers of this.waiters.values()) held += wakers.size;
    return held;
  }

  nextPush(username?: string): Promise<DuoSimulatedPush> {
    return new Promise((resolve) => {
      const stop = this.on('push', (push) => {
        if (username !== undefined && push.username !== username) return;
        stop();
        resolve(push);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    this.waiters.clear();
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    await Promise.all([...this.servers].map((server) => server.close()));
  }

  /** While shutting down, each answer ends its connection so the servers can close gracefully. */
  private dropKeepAliveWhenClosing(res: ServerResponse): void {
    if (this.closed && !res.headersSent) res.setHeader('Connection', 'close');
  }

  /** Answers from the failure queue when one is armed; true when the request was consumed. */
  private applyInjection(res: ServerResponse): boolean {
    const injection = this.injections[0];
    if (!injection) return false;
    injection.remaining -= 1;
    if (injection.remaining <= 0) this.injections.shift();
    if (injection.kind === 'hang') {
      this.hung.add(res);
      res.once('close', () => this.hung.delete(res));
      return true;
    }
    if (injection.kind === 'rate_limit') {
      res.setHeader('Retry-After', String(injection.retryAfterSeconds ?? 1));
      sendJson(res, 429, { stat: 'FAIL', code: 42901, message: 'Too Many Requests' });
      return true;
    }
    const body =
      injection.body ?? JSON.stringify({ stat: 'FAIL', code: injection.status * 100, message: 'Simulated failure' });
    res.writeHead(injection.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }

  /** Reads the body, checks Date and signature (except for ping), and returns the parameters. */
  private async authenticate(req: IncomingMessage, rawPath: string): Promise<Request> {
    const method = (req.method ?? 'GET').toUpperCase();
    const queryAt = rawPath.indexOf('?');
    const path = queryAt < 0 ? rawPath : rawPath.slice(0, queryAt);
    const query = decodeForm(queryAt < 0 ? '' : rawPath.slice(queryAt + 1));
    const body = await readBodyText(req);
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    const isJson = contentType.startsWith('application/json');
    const form = !isJson && body.length > 0 ? decodeForm(body) : {};
    if (path === '/auth/v2/ping') return { method, path, params: flatten(query) };
    this.checkDate(req.headers['date']);
    const verdict = verifyRequest({
      integrationKey: this.options.integrationKey,
      secretKey: this.options.secretKey,
      host: this.host,
      method,
      path,
      query,
      body,
      form,
      authorization: req.headers['authorization'],
      date: req.headers['date'],
    });
    if (!verdict.ok) {
      if (verdict.reason === 'missing_credentials') throw new DuoFailure(401, 40101, 'Missing request credentials');
      if (verdict.reason === 'wrong_integration_key') {
        throw new DuoFailure(401, 40102, 'Invalid integration key in request credentials');
      }
      throw new DuoFailure(401, 40103, 'Invalid signature in request credentials');
    }
    const bodyParams = isJson ? parseJsonParams(body) : flatten(form);
    return { method, path, params: { ...flatten(query), ...bodyParams } };
  }

  /** Only 40103 is confirmed from Duo's documentation; the neighbouring codes follow its numbering. */
  private checkDate(date: string | undefined): void {
    if (date === undefined) throw new DuoFailure(401, 40101, 'Missing request credentials', 'Date');
    const at = Date.parse(date);
    if (Number.isNaN(at) || Math.abs(at - this.clock.now().getTime()) > MAX_DATE_SKEW_MS) {
      throw new DuoFailure(401, 40105, 'Invalid Date header in request credentials', 'Date');
    }
  }

  private async route(request: Request, res: ServerResponse): Promise<Record<string, unknown>> {
    if (request.method !== 'GET' && request.method !== 'POST') {
      throw new DuoFailure(405, 40501, 'Method not allowed');
    }
    switch (request.path) {
      case '/auth/v2/ping':
      case '/auth/v2/check':
        return { time: Math.floor(this.clock.now().getTime() / 1000) };
      case '/auth/v2/preauth':
        return this.preauth(request.params);
      case '/auth/v2/auth':
        return this.auth(request.params, res);
      case '/auth/v2/auth_status':
        return this.authStatus(request.params, res);
      default:
        throw new DuoFailure(404, 40401, 'Resource not found');
    }
  }

  private preauth(params: Record<string, string>): Record<string, unknown> {
    const username = requireUsername(params);
    const user = this.users.get(username);
    if (!user || user.enroll) {
      return {
        result: 'enroll',
        status_msg: 'Enroll an authentication device to proceed',
        enroll_portal_url: `https://${this.host}/portal?code=${encodeURIComponent(randomUUID())}`,
      };
    }
    if (user.policy === 'deny') return { result: 'deny', status_msg: 'Access denied by policy' };
    if (user.policy === 'allow') return { result: 'allow', status_msg: 'Allowing unknown user' };
    return { result: 'auth', status_msg: 'Account is active', devices: user.devices === 'push' ? [simulatedPhone()] : [] };
  }

  private async auth(params: Record<string, string>, res: ServerResponse): Promise<Record<string, unknown>> {
    const username = requireUsername(params);
    const factor = params['factor'];
    if (factor === undefined) throw missingParams('factor');
    if (factor !== 'push' && factor !== 'auto') throw invalidParams('factor');
    const device = params['device'] ?? 'auto';
    const user = this.users.get(username);
    if (!user || user.enroll || user.devices !== 'push') throw invalidParams('username');
    if (device !== 'auto' && device !== simulatedPhone().device) throw invalidParams('device');
    const push = this.createPush(username, params);
    if (params['async'] === '1' || params['async'] === 'true') return { txid: push.txid };
    // Synchronous auth blocks until the person answers (or the push expires).
    while (this.pending(push) && !this.closed) await this.waitForChange(push.txid, this.pushExpiryMs, res);
    return { ...statusOf(push) };
  }

  private async authStatus(params: Record<string, string>, res: ServerResponse): Promise<Record<string, unknown>> {
    const txid = params['txid'];
    if (txid === undefined || txid === '') throw missingParams('txid');
    const push = this.pushLog.get(txid);
    if (!push) throw invalidParams('txid');
    if (this.pending(push) && this.longPollMs > 0) await this.waitForChange(txid, this.longPollMs, res);
    this.expire(push);
    return { ...statusOf(push) };
  }

  private createPush(username: string, params: Record<string, string>): DuoSimulatedPush {
    const push: DuoSimulatedPush = {
      txid: randomUUID(),
      username,
      pushinfo: Object.fromEntries(new URLSearchParams(params['pushinfo'] ?? '')),
      type: params['type'] ?? '',
      displayUsername: params['display_username'],
      createdAt: this.clock.now(),
      outcome: null,
      answeredAt: null,
    };
    this.remember(push);
    const auto = this.autoAnswers.get(username);
    if (auto !== undefined) this.respond(push.txid, auto);
    for (const listener of [...this.pushListeners]) listener({ ...push, pushinfo: { ...push.pushinfo } });
    return push;
  }

  /** Keeps the history bounded for long sandbox and benchmark runs, dropping the oldest first. */
  private remember(push: DuoSimulatedPush): void {
    this.pushLog.set(push.txid, push);
    if (this.pushLog.size <= MAX_PUSHES_KEPT) return;
    const oldest = this.pushLog.keys().next().value;
    if (oldest !== undefined) this.pushLog.delete(oldest);
  }

  private pending(push: DuoSimulatedPush): boolean {
    this.expire(push);
    return push.outcome === null;
  }

  /** Unanswered pushes time out once `pushExpiryMs` has passed on the injected clock. */
  private expire(push: DuoSimulatedPush): void {
    if (push.outcome !== null) return;
    if (this.clock.now().getTime() - push.createdAt.getTime() < this.pushExpiryMs) return;
    push.outcome = 'timeout';
    push.answeredAt = this.clock.now();
  }

  /** Waits until the push changes, `ms` passes, the client goes away, or the simulator closes. */
  private waitForChange(txid: string, ms: number, res: ServerResponse): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wakers = this.waiters.get(txid) ?? new Set<() => void>();
      this.waiters.set(txid, wakers);
      const done = (): void => {
        clearTimeout(timer);
        res.off('close', done);
        wakers.delete(done);
        if (wakers.size === 0 && this.waiters.get(txid) === wakers) this.waiters.delete(txid);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      res.once('close', done);
      wakers.add(done);
    });
  }

  private wake(txid: string): void {
    const wakers = this.waiters.get(txid);
    if (!wakers) return;
    for (const wake of [...wakers]) wake();
  }
}

function statusOf(push: DuoSimulatedPush): { result: string; status: string; status_msg: string } {
  return STATUS_TEXT[push.outcome ?? 'waiting'];
}

function simulatedPhone(): Record<string, unknown> {
  return {
    device: 'DPFZRS9FB0D46QFTM891',
    type: 'phone',
    number: 'XXX-XXX-0100',
    name: 'Simulated phone',
    display_name: 'Simulated phone (XXX-XXX-0100)',
    capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
  };
}

function requireUsername(params: Record<string, string>): string {
  const username = params['username'] ?? params['user_id'];
  if (username === undefined || username === '') throw missingParams('username');
  return username;
}

/** Reads a bounded body as UTF-8; a larger one is refused with Duo's 413. */
async function readBodyText(req: IncomingMessage): Promise<string> {
  try {
    return (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  } catch (error) {
    if (error instanceof RequestError && error.status === 413) throw new DuoFailure(413, 41301, 'Request entity too large');
    throw error instanceof RequestError ? invalidParams(error.message) : error;
  }
}

/** Decodes `k=v&k=w` into params, keeping repeated keys as arrays in order. */
function decodeForm(text: string): Record<string, string | string[]> {
  // Null prototype: a `__proto__` key from the wire is just a key.
  const params: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** The endpoints take single values; a repeated key keeps its first value. */
function flatten(params: DuoParams): Record<string, string> {
  const flat: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(params)) {
    const first = typeof value === 'string' ? value : value[0];
    if (first !== undefined) flat[key] = first;
  }
  return flat;
}

/** v5 bodies are a JSON object of scalar values. */
function parseJsonParams(body: string): Record<string, string> {
  if (body.trim() === '') return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = jsonObjectBody(body);
  } catch (error) {
    throw error instanceof RequestError ? invalidParams(error.message) : error;
  }
  const params: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') params[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[key] = String(value);
    else throw invalidParams(key);
  }
  return params;
}
