import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseUnavailableError, RequestError, coerceError } from '../errors.js';
import { classifyDatabaseError, sqlState } from '../store/database-errors.js';
import type { Logger } from '../logger.js';
import { sendJson } from '../http/respond.js';
import { closeIfBodyUnread, trackResponses } from '../http/request-body.js';
import { formPairs, visibleFieldName } from '../http/form-encoding.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

interface Route {
  method: string | '*';
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler: RouteHandler;
}

/** Decides, before routing, whether a request is refused (e.g. an unexpected Host header). */
export type RequestGuard = (req: IncomingMessage) => { status: number; message: string } | null;

/**
 * One HTTP server for every endpoint. Routing is a list of exact paths and prefixes; handlers
 * throw RequestError for 4xx answers; a database outage becomes a 503 with Retry-After, and
 * anything else a 500 that never leaks details.
 */
/** Retry-After while the service is starting, in seconds. */
const STARTING_RETRY_AFTER_S = 5;

export class HttpServer {
  private readonly routes: Route[] = [];
  private requestGuard: RequestGuard | null = null;
  /** Why every request is answered 503 for now (the service is starting), or null. */
  private holding: string | null = null;
  private readonly server: Server;

  constructor(private readonly logger: Logger) {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    // A body refused unread is answered 413 before its connection is closed, not reset.
    trackResponses(this.server);
    // Slow or stalled clients must not hold sockets forever.
    this.server.requestTimeout = 60_000;
    this.server.headersTimeout = 20_000;
  }

  route(method: string | '*', path: string, handler: RouteHandler): this {
    this.routes.push({ method, path, handler });
    return this;
  }

  /**
   * While `reason` is set (the service is starting: waiting for its database, its routes not all
   * in place), every request is answered 503 with Retry-After, `/healthz` as
   * `{"status":"unavailable","reason":...}`: a probe or a shipper sees a service not ready yet,
   * which it waits for, rather than a page that does not exist. null serves the routes.
   */
  holdRequests(reason: string | null): this {
    this.holding = reason;
    return this;
  }

  /** Checked before every route; a refusal is answered with its status and message, unrouted. */
  guard(check: RequestGuard): this {
    this.requestGuard = check;
    return this;
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    // An IPv6 literal is bracketed in a URL, or its colons would read as a port.
    return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // Long-polls and keep-alive sockets would hold close() open.
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://vouch.invalid');
    } catch {
      return sendJson(res, 400, { error: 'bad request line' });
    }
    const refusal = this.requestGuard?.(req) ?? null;
    if (refusal) {
      closeIfBodyUnread(req, res);
      return sendJson(res, refusal.status, { error: refusal.message });
    }
    if (this.holding !== null) {
      closeIfBodyUnread(req, res);
      const body = url.pathname === '/healthz' ? { status: 'unavailable', reason: this.holding } : { error: `not ready: ${this.holding}` };
      return sendJson(res, 503, body, { 'retry-after': String(STARTING_RETRY_AFTER_S) });
    }
    const candidates = this.routes.filter((route) => matches(route.path, url.pathname));
    const route = routeFor(candidates, req.method);
    if (!route) {
      closeIfBodyUnread(req, res);
      if (candidates.length === 0) return sendJson(res, 404, { error: 'not found' });
      const methods = new Set(candidates.map((candidate) => candidate.method));
      if (methods.has('GET')) methods.add('HEAD');
      const allow = [...methods].join(', ');
      return sendJson(res, 405, { error: `method not allowed; use ${allow}` }, { allow });
    }
    const refusedQuery = queryRefusal(url.search);
    if (refusedQuery !== null) {
      closeIfBodyUnread(req, res);
      return sendJson(res, 400, { error: refusedQuery });
    }
    try {
      await route.handler(req, res, url);
    } catch (thrown) {
      // Refused before its body was read (no access, say): answered, then closed rather than drained.
      closeIfBodyUnread(req, res);
      if (thrown instanceof RequestError) {
        if (!res.headersSent) sendJson(res, thrown.status, { error: thrown.message });
        else res.end();
        return;
      }
      const error = coerceError(thrown);
      if (isDatabaseOutage(thrown)) {
        // Nothing was lost: the client's request can simply be sent again once the database is back.
        this.logger.warn('request deferred: database unavailable', { method: req.method, path: url.pathname, error });
        if (!res.headersSent) sendJson(res, 503, { error: 'the database is unavailable; retry later' }, { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) });
        else res.end();
        return;
      }
      this.logger.error('request failed', { method: req.method, path: url.pathname, error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    }
  }
}

/** Seconds a client is asked to wait (Retry-After) when a request failed on a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 30;

function isDatabaseOutage(thrown: unknown): boolean {
  // 3D000: the database is not there (dropped or renamed away) after the service started with it.
  // Fatal at start-up, where it is a wrong name; here /healthz says unreachable, and so does this.
  return thrown instanceof DatabaseUnavailableError || classifyDatabaseError(thrown) === 'transient' || sqlState(thrown) === '3D000';
}

/**
 * The route answering `method`. HEAD is answered by the GET route where no route takes HEAD
 * itself: Node's response sends the headers of a HEAD answer (Content-Length included) and drops
 * its body, so the answer is the GET one without a body, as HTTP wants.
 */
function routeFor(candidates: readonly Route[], method: string | undefined): Route | undefined {
  const exact = candidates.find((candidate) => candidate.method === '*' || candidate.method === method);
  return exact ?? (method === 'HEAD' ? candidates.find((candidate) => candidate.method === 'GET') : undefined);
}

/**
 * Why a query string is refused, or null: broken percent-encoding (see form-encoding.ts; a
 * path with the same bytes is a 400 too, decodePathId), and NUL, which Postgres refuses in text
 * and which would otherwise fail as a 500.
 */
function queryRefusal(search: string): string | null {
  const query = search.startsWith('?') ? search.slice(1) : search;
  for (const pair of formPairs(query)) {
    if ('broken' in pair) {
      return pair.broken === 'name' ? 'a query parameter name is not valid percent-encoding' : `query parameter ${visibleFieldName(pair.name)} is not valid percent-encoding`;
    }
    if (pair.name.includes('\u0000') || pair.value.includes('\u0000')) return `query parameter ${visibleFieldName(pair.name)} must not contain NUL characters`;
  }
  return null;
}

function matches(pattern: string, path: string): boolean {
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -2);
    return path === prefix || path.startsWith(`${prefix}/`);
  }
  return pattern === path;
}

/** The longest id accepted in a path; ids are generated and far shorter. */
const MAX_PATH_ID_LENGTH = 200;

/**
 * Decodes one percent-encoded path segment naming a record (`/api/alerts/<id>`); 400 when the
 * encoding is broken, or the id is empty, too long or holds a control character such as NUL.
 */
export function decodePathId(segment: string, what: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `${what} id is not valid percent-encoding`);
  }
  if (id === '' || id.length > MAX_PATH_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id)) {
    throw new RequestError(400, `${what} id must be 1 to ${MAX_PATH_ID_LENGTH} printable characters`);
  }
  return id;
}

export interface HealthOptions {
  /**
   * Resolves when the database answers, with what it says of the pipeline; rejects (or stays
   * pending) when it does not.
   */
  checkDatabase: () => Promise<PipelineHealth | void>;
  /**
   * Asked when checkDatabase did not answer in time: resolves when the database answers on a
   * connection outside the pool (its pooled ones all busy), rejects when it does not answer at all.
   */
  pingDatabase?: (timeoutMs: number) => Promise<void>;
  /** Fields added to the 200 answer (database kind, sandbox). */
  details?: Record<string, unknown>;
  /** How long the check may take before the answer is 503. Default 2 s. */
  timeoutMs?: number;
}

/** What needs an operator although the process itself is well: open health notices, parked jobs. */
export interface PipelineHealth {
  /** Open pipeline health notices (auditd stopped, events lost, a silent host, ...). */
  healthNotices: number;
  /** Jobs that used up their attempts (their alerts escalated as delivery_failed). */
  failedJobs: number;
}

/**
 * Registers `GET /healthz`: 200 `{"status":"ok", ...details}` while the database answers, 503
 * `{"status":"unavailable","reason":...}` while it does not (within `timeoutMs`, twice when the
 * pool is busy, so a load balancer's probe never hangs). A database that answers a connection of
 * its own while every pooled one is busy is 200 `"degraded"`, `"reason":"database busy..."`.
 * With open health notices or failed jobs the answer is still 200 (restarting the process would
 * not help) but says `"status":"degraded"` with their counts, so a monitor that reads the body
 * sees a stalled pipeline too. The reason is short and
 * never includes the driver's message, which can name internal hosts; the counts name no host.
 */
export function routeHealthz(http: HttpServer, options: HealthOptions): void {
  const timeoutMs = options.timeoutMs ?? 2000;
  http.route('GET', '/healthz', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const outcome = await Promise.race([options.checkDatabase().then((pipeline) => ({ pipeline })), timedOut]);
      if (outcome === 'timeout') {
        // Every pooled connection may be waiting (on a lock, behind a burst): the database still
        // answers, and restarting the process would only lose the work in flight.
        const answers = options.pingDatabase ? await options.pingDatabase(timeoutMs).then(() => true, () => false) : false;
        if (answers) sendJson(res, 200, { status: 'degraded', reason: 'database busy: every connection is in use', ...options.details });
        else sendJson(res, 503, { status: 'unavailable', reason: 'database did not answer in time' });
        return;
      }
      const pipeline = outcome.pipeline;
      if (!pipeline) {
        sendJson(res, 200, { status: 'ok', ...options.details });
        return;
      }
      const degraded = pipeline.healthNotices > 0 || pipeline.failedJobs > 0;
      sendJson(res, 200, { status: degraded ? 'degraded' : 'ok', ...options.details, health_notices: pipeline.healthNotices, failed_jobs: pipeline.failedJobs });
    } catch {
      sendJson(res, 503, { status: 'unavailable', reason: 'database unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}
