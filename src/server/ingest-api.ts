import type { IncomingMessage } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { Clock } from '../clock.js';
import type { SourceConfig } from '../config/config.js';
import { localHostName } from '../config/load-config.js';
import { DatabaseUnavailableError, RequestError, coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { IngestStats, Ingestor } from '../sources/ingest.js';
import { bindToHosts, HostAllowList } from '../sources/host-allow-list.js';
import { PipelineWatch, type HealthSignal } from '../health/health-signal.js';
import { lineBlock } from '../sources/line-block.js';
import { KEPT_REASONS, appendOutput, emptyOutput, parseBlock, type LogParser, type Malformed, type ParseOutput, type ParserOptions } from '../sources/parser.js';
import { HeldLinesConflictError, type HeldLines, type HeldLinesUpdate } from '../store/queries/ingest-held-lines.js';
import { classifyLine, createParser } from '../sources/parsers/index.js';
import { printableSample } from '../sources/read-log.js';
import { bearerToken } from '../http/bearer-token.js';
import { constantTimeEqual } from '../http/constant-time-equal.js';
import { MAX_JSON_DEPTH, jsonArrayElements, jsonNestsDeeperThan } from '../http/json-depth.js';
import { readBody } from '../http/request-body.js';
import { sendJson } from '../http/respond.js';
import type { HttpServer } from './http-server.js';
import type { Metrics } from './metrics.js';

/** Largest request body accepted, after decompression. */
export const MAX_INGEST_BODY_BYTES = 10 * 1024 * 1024;

export interface IngestRouteOptions {
  /** The sources fed over HTTP (path null, token set); others are ignored. */
  sources: readonly SourceConfig[];
  ingestor: Ingestor;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Names numeric uids (raw auditd lines); see ParserOptions. */
  resolveUid?: ParserOptions['resolveUid'];
  /** Body limit after decompression, bytes. Default MAX_INGEST_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Most shipper hosts whose parsers one request holds at once. Default MAX_HOST_PARSERS. */
  maxHostParsers?: number;
}

/** The 200 answer of `POST /ingest`. */
export interface IngestResponse {
  /** Command events parsed from the body. */
  accepted: number;
  /** Events that matched a rule. */
  matched: number;
  /** Rule hits stored by this request (not duplicates, not refused). */
  stored: number;
  alerts_created: number;
  alerts_suppressed: number;
  /** Rule hits already stored by an earlier request (a retried batch). */
  duplicates: number;
  /** Lines or elements that could not be parsed; counted per source and reason. */
  malformed: number;
  /** Rule hits the database refused (set aside, counted with reason `unstorable`). */
  unstorable: number;
  /** Everything refused: malformed records whose event was not kept (not `bad_field`, `incomplete_event` or `duplicate_record`), plus unstorable. */
  refused: number;
  /** What was refused, per reason (`unstorable` included). */
  malformed_by_reason: Record<string, number>;
}

/** Formats whose records are plain text lines; a JSON wrapper around such a line is unwrapped. */
const TEXT_FORMATS = new Set(['auditd', 'sudo']);
/** Fields log shippers put the original line in: Vector `message`, Fluent Bit `log`. */
const WRAPPER_FIELDS = ['message', 'log'] as const;
/**
 * Most parsers one request holds at once (one per shipper host). Past it one that holds no part of
 * an event is flushed; a body of whole events per host never needs more than there are hosts.
 */
export const MAX_HOST_PARSERS = 10_000;
/** Bytes of body per parser block, and between yields to the event loop. */
const BLOCK_BYTES = 256 * 1024;

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

/**
 * Registers `POST /ingest`, where log shippers (Vector, Fluent Bit, falcosidekick, scripts) post
 * audit events of an HTTP source.
 *
 * - `Authorization: Bearer <token>` picks the source; the token is compared with every configured
 *   one in constant time. 401 when none matches (also when no HTTP source is configured).
 * - Body: NDJSON or text lines (`application/x-ndjson`, `text/plain`), a JSON array (one element
 *   per event) or a single JSON object (`application/json`; falcosidekick posts one Falco event per
 *   request). Without a Content-Type the shape is guessed from the first character. Elements and
 *   lines are parsed in the source's format (`auto` detects it from the body). A shipper's wrapper
 *   around a raw line (`{"message": "type=EXECVE ...", "host": "web-1"}`) is unwrapped, and its
 *   `host`/`hostname` names the machine for lines that do not name one.
 * - `Content-Encoding: gzip` or `deflate`; at most 10 MiB after decompression, else 413.
 * - 400 when JSON is declared and the body is not JSON; lines that parse but are malformed records
 *   are counted (`malformed`) and the request still succeeds. So does a request holding a record
 *   the database refuses: it is set aside and counted (`unstorable`), and the rest is stored.
 * - 503 with `Retry-After` while the database is unavailable (after the Ingestor's retries):
 *   nothing of the batch was stored, and the shipper sends it again.
 * - A source with `hosts:` speaks only for those hosts: an event claiming another one is refused
 *   and counted (`host_not_allowed`), the rest of the request is stored. Every stored event is
 *   marked as read over HTTP, `bound` or `unbound` (see provenance.ts).
 *
 * The body is read as bytes and handed to the parsers as line blocks (parseBlock), the path the
 * tailer and `vouch ingest` take. A request gets fresh parsers, one per shipper host, that start
 * with the lines an earlier request of the host ended inside an event with (see parseRequest and
 * ingest-held-lines.ts), and is stored in one transaction with what it ends inside in turn, so a
 * retry of a failed request is safe (events are keyed, and nothing of it was committed).
 */
export function routeIngest(http: HttpServer, options: IngestRouteOptions): void {
  const tokens = httpSources(options.sources).map((source) => ({ source, token: source.token as string }));
  const allowLists = new Map(tokens.map(({ source }) => [source.name, allowListOf(source)]));
  const limit = options.maxBodyBytes ?? MAX_INGEST_BODY_BYTES;
  /** The request of each source whose turn it is, and those waiting behind it (see inTurn). */
  const turns = new Map<string, Promise<void>>();
  http.route('POST', '/ingest', async (req, res) => {
    const source = sourceFor(req.headers.authorization, tokens);
    if (source === null) {
      req.resume();
      throw new RequestError(401, 'missing or unknown bearer token: send Authorization: Bearer <token of an HTTP source>');
    }
    const encoding = contentEncoding(req);
    const raw = await readBody(req, limit);
    const body = await decompress(raw, encoding, limit);
    const type = mediaType(req);
    const allowList = allowLists.get(source.name) ?? null;
    const ingest = async () => {
      for (let attempt = 1; ; attempt++) {
        const held = mayHoldLines(source) ? await options.ingestor.heldLines(source.name) : [];
        const parsed = bindParsed(await parseRequest(body, type, source, options, held), allowList);
        try {
          // A database outage outlasting the Ingestor's retries rejects, and the server answers
          // 503 with Retry-After: the shipper sends the batch again, and keyed events never double.
          const stats = await options.ingestor.ingest(source.name, parsed);
          report(options, source.name, stats, parsed.malformed);
          sendJson(res, 200, response(stats, parsed.malformed));
          return;
        } catch (error) {
          // Another replica's request of the source took or wrote its held lines first: read them again.
          if (!(error instanceof HeldLinesConflictError)) throw error;
          if (attempt >= MAX_HELD_LINE_CONFLICTS) throw new DatabaseUnavailableError(`the held lines of source ${source.name} kept changing under concurrent requests; retry later`, { cause: error });
          await sleep(Math.round(Math.random() * HELD_LINE_CONFLICT_WAIT_MS * attempt));
        }
      }
    };
    // Requests of a source that may hold lines take turns here, in the order they came, so each
    // starts from the lines the one before it held; replicas meet in the held lines' rows.
    if (mayHoldLines(source)) await inTurn(turns, source.name, ingest);
    else await ingest();
  });
}

/** Runs `work` once every earlier call of the same `key` has settled; calls of other keys run alongside. */
async function inTurn(turns: Map<string, Promise<void>>, key: string, work: () => Promise<void>): Promise<void> {
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.then(work, work);
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  turns.set(key, settled);
  try {
    await mine;
  } finally {
    if (turns.get(key) === settled) turns.delete(key);
  }
}

/** Most wait, per attempt, before a request whose held lines another replica changed is read again. */
const HELD_LINE_CONFLICT_WAIT_MS = 20;

/** Times a request is parsed again when concurrent requests of its source keep taking its held lines first. */
const MAX_HELD_LINE_CONFLICTS = 8;

/** Sources whose parser may end a request inside an event (see heldTail). */
function mayHoldLines(source: SourceConfig): boolean {
  return source.type === 'auditd' || source.type === 'auto';
}

/**
 * Refuses the events, and the health signals, of hosts outside the source's `hosts:` (counted as
 * `host_not_allowed`); the rest stands.
 */
function bindParsed(parsed: ParsedRequest, allowList: HostAllowList | null): ParsedRequest {
  const bound = bindToHosts(parsed.events, allowList);
  parsed.events = bound.events;
  for (const refused of bound.refused) parsed.malformed.push(printableSample(refused));
  // Health signals speak for a host too: outside the source's hosts they are refused as events are.
  parsed.health = parsed.health.filter((signal) => {
    if (allowList === null || allowList.allows(signal.host)) return true;
    parsed.malformed.push(printableSample({ reason: 'host_not_allowed', sample: signal.host.slice(0, 200), detail: "the pipeline record's host is not in its source's hosts" }));
    return false;
  });
  return parsed;
}

/** How often the running service looks for idle held lines. */
const IDLE_HELD_POLL_MS = 1000;

/**
 * Runs readIdleHeldLines every IDLE_HELD_POLL_MS, one round at a time; a failed round (the
 * database away) is logged and the next one tries again. `stop()` waits for a round under way.
 */
export function startIdleHeldLinesReader(options: IngestRouteOptions, logger: Logger): { stop(): Promise<void> } {
  let round: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (round !== null) return;
    round = readIdleHeldLines(options)
      .then(() => undefined, (error: unknown) => logger.warn('reading idle held ingest lines failed; trying again', { error: coerceError(error) }))
      .finally(() => {
        round = null;
      });
  }, IDLE_HELD_POLL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

/** How long a host's held lines wait for its next request before they are read on their own. */
export const HELD_LINES_IDLE_MS = 5000;

/** Held lines' rows read on their own per page. */
const IDLE_HELD_PER_ROUND = 100;

/** Most pages a round reads: enough for every host one request may leave held lines for. */
const IDLE_HELD_PAGES_PER_ROUND = Math.ceil(MAX_HOST_PARSERS / IDLE_HELD_PER_ROUND) + 1;

/**
 * Reads on their own the held lines of hosts that sent nothing for HELD_LINES_IDLE_MS (the
 * shipper stopped, or the host's last event never ended), as the tailer's idle flush does for a
 * file: their events are closed, complete or not, and stored. Each row in a transaction of its
 * own, which takes it; a request of its host that takes it first wins, and the row is left to it.
 * Rows of sources no longer configured are let go. Returns how many rows were read, the command
 * events they held, and the rule hits stored of them.
 */
export async function readIdleHeldLines(options: IngestRouteOptions): Promise<{ rows: number; events: number; stored: number }> {
  const now = options.clock.now();
  const before = new Date(now.getTime() - HELD_LINES_IDLE_MS);
  const sources = new Map(httpSources(options.sources).map((source) => [source.name, source]));
  const read = { rows: 0, events: 0, stored: 0 };
  // Page after page: one request can leave a row for each of MAX_HOST_PARSERS hosts, and rows must
  // not pile up faster than the rounds read them. Every row read is taken (or was by another).
  for (let page = 0; page < IDLE_HELD_PAGES_PER_ROUND; page++) {
    const rows = await options.ingestor.idleHeldLines(before, IDLE_HELD_PER_ROUND);
    await readIdleRows(rows, sources, options, read);
    if (rows.length < IDLE_HELD_PER_ROUND) break;
  }
  return read;
}

async function readIdleRows(rows: readonly HeldLines[], sources: ReadonlyMap<string, SourceConfig>, options: IngestRouteOptions, read: { rows: number; events: number; stored: number }): Promise<void> {
  for (const row of rows) {
    const source = sources.get(row.source);
    if (source === undefined) {
      options.logger.warn('held ingest lines of a source no longer configured are let go unread', { source: row.source, host: row.hostKey, bytes: row.lines.length });
    }
    const heldLines = { source: row.source, taken: [row.id], hold: [] };
    const batch = source
      ? bindParsed(await parseRequest(Buffer.alloc(0), 'lines', source, options, [row], { finish: true }), allowListOf(source))
      : { events: [], malformed: [], health: [], heldLines };
    try {
      const stats = await options.ingestor.ingest(row.source, batch);
      report(options, row.source, stats, batch.malformed);
      read.rows += 1;
      read.events += stats.events;
      read.stored += storedOf(stats);
    } catch (error) {
      if (!(error instanceof HeldLinesConflictError)) throw error;
    }
  }
}

/** The sources fed over HTTP: no path, a token. */
function httpSources(sources: readonly SourceConfig[]): SourceConfig[] {
  return sources.filter((source) => source.path === null && source.token !== null);
}

/** The source's `hosts:` binding, or null when it may speak for any host. */
function allowListOf(source: SourceConfig): HostAllowList | null {
  return source.hosts ? new HostAllowList(source.hosts) : null;
}

/** Rule hits a batch stored: neither already there nor refused by the database. */
function storedOf(stats: IngestStats): number {
  return stats.matched - stats.duplicates - stats.unstorable;
}

/** Compares with every token, without stopping at a match, so timing says nothing about which. */
function sourceFor(header: string | undefined, tokens: ReadonlyArray<{ source: SourceConfig; token: string }>): SourceConfig | null {
  const given = bearerToken(header);
  if (given === undefined) return null;
  let found: SourceConfig | null = null;
  for (const entry of tokens) {
    if (constantTimeEqual(given, entry.token) && found === null) found = entry.source;
  }
  return found;
}

function contentEncoding(req: IncomingMessage): 'identity' | 'gzip' | 'deflate' {
  const value = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate') return 'deflate';
  req.resume();
  throw new RequestError(415, `Content-Encoding "${value.slice(0, 40)}" is not supported; use gzip, deflate or none`);
}

async function decompress(raw: Buffer, encoding: 'identity' | 'gzip' | 'deflate', limit: number): Promise<Buffer> {
  if (encoding === 'identity') return raw;
  try {
    // maxOutputLength stops a decompression bomb at the limit instead of after it.
    return await (encoding === 'gzip' ? gunzipAsync : inflateAsync)(raw, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new RequestError(413, `request body over ${limit} bytes after decompression`);
    }
    throw new RequestError(400, `body is not valid ${encoding} data`);
  }
}

type MediaType = 'lines' | 'json' | 'sniff';

function mediaType(req: IncomingMessage): MediaType {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '') return 'sniff';
  if (type === 'application/json') return 'json';
  if (['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines', 'application/x-jsonlines', 'text/plain'].includes(type)) {
    return 'lines';
  }
  throw new RequestError(415, `Content-Type "${type.slice(0, 60)}" is not supported; send application/x-ndjson, text/plain or application/json`);
}

/**
 * Turns the body into byte blocks for the parsers and feeds them, the same block path files take
 * (parseBlock). Lines stay bytes unless a line may be a shipper's wrapper; a JSON document is
 * parsed, and its elements become one line each. 400 when declared JSON is not JSON.
 */
async function parseBody(body: Buffer, type: MediaType, feed: BodyFeed): Promise<void> {
  const start = hasBom(body) ? 3 : 0;
  if (type === 'lines') return feedLines(body, start, feed);
  if (type === 'sniff') {
    // No Content-Type: a JSON document if the whole body is one, lines otherwise.
    if (!startsWithBracket(body, start)) return feedLines(body, start, feed);
    const value = parseJson(body.toString('utf8', start));
    return value === undefined ? feedLines(body, start, feed) : feedJson(value, feed);
  }
  const text = body.toString('utf8', start);
  const value = parseJson(text);
  if (value !== undefined) return feedJson(value, feed);
  // NDJSON labelled application/json (some shippers do): every line a JSON value of its own.
  if (looksLikeNdjson(text)) return feedLines(body, start, feed);
  let reason = 'empty body';
  try {
    JSON.parse(text);
  } catch (error) {
    reason = (error as Error).message.slice(0, 200);
  }
  throw new RequestError(400, `body is not valid JSON (${reason}); send NDJSON as application/x-ndjson`);
}

function hasBom(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
}

/** Whether the first byte that is not white space is `[` or `{`. */
function startsWithBracket(body: Buffer, from: number): boolean {
  for (let i = from; i < body.length; i++) {
    const byte = body[i] as number;
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x5b || byte === 0x7b;
  }
  return false;
}

/**
 * The parsed document, or undefined when the text is not JSON. An array whose elements nest too
 * deep keeps its other elements: each too-deep one is left as its text (see TooDeep), so one
 * record never costs the rest of the batch. 400 when a lone object nests too deep.
 */
function parseJson(text: string): unknown {
  if (!jsonNestsDeeperThan(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  const elements = jsonArrayElements(text);
  if (elements === null) {
    // NDJSON (sniffed, or labelled application/json) is not one document: its too-deep line is
    // counted by the line path like any other malformed line, and the rest of the body is read.
    if (looksLikeNdjson(text)) return undefined;
    throw new RequestError(400, `body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const values: unknown[] = [];
  for (const element of elements) {
    if (jsonNestsDeeperThan(element, MAX_JSON_DEPTH - 1)) {
      values.push(new TooDeep(element));
      continue;
    }
    try {
      values.push(JSON.parse(element) as unknown);
    } catch {
      return undefined;
    }
  }
  return values;
}

/** An element of a JSON array that nests too deep to be parsed: handed to the parser as its text, on one line. */
class TooDeep {
  readonly text: string;
  constructor(text: string) {
    // JSON's white space between tokens may be line breaks; inside strings they are not allowed.
    this.text = text.replace(/[\r\n]+/g, ' ');
  }
}

/**
 * One body line as JSON, or undefined when it is not JSON or nests too deep to be read safely: it
 * is then no shipper's wrapper, and goes to the parser as it is, which counts it as malformed by
 * its own rules. The rest of the body is read either way.
 */
function parseLineJson(text: string): unknown {
  if (jsonNestsDeeperThan(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function looksLikeNdjson(body: string): boolean {
  const [first, second] = body.split('\n', 64).filter((line) => line.trim() !== '');
  if (first === undefined || second === undefined) return false;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

/** Where parsed body lines go: the host's parser, fed blocks; yields now and then on big bodies. */
interface BodyFeed {
  /** Feeds `bytes[start, end)` (whole lines) to the parser of `host` (null: the source's host). */
  block(bytes: Buffer, start: number, end: number, host: string | null): Promise<void>;
  readonly format: string;
}

/**
 * Feeds the body's lines as blocks of bytes. Runs of ordinary lines go to the default parser
 * as they are; a line that may be a shipper's wrapper (a JSON object naming `message` or `log`)
 * is decoded, and its raw line goes to the parser of the host it names. Blocks are cut at about
 * BLOCK_BYTES so a large body yields to other requests between them.
 */
async function feedLines(body: Buffer, from: number, feed: BodyFeed): Promise<void> {
  let runStart = from;
  let pos = from;
  while (pos < body.length) {
    const nl = body.indexOf(0x0a, pos);
    const end = nl < 0 ? body.length : nl;
    const next = nl < 0 ? body.length : nl + 1;
    const wrapped = mayBeWrapper(body, pos, end) ? unwrap(parseLineJson(body.toString('utf8', pos, end)), feed.format, () => body.toString('utf8', pos, end)) : null;
    if (wrapped !== null) {
      if (pos > runStart) await feed.block(body, runStart, pos, null);
      await feedText(wrapped.text, wrapped.host, feed);
      runStart = next;
    } else if (next - runStart >= BLOCK_BYTES) {
      await feed.block(body, runStart, next, null);
      runStart = next;
    }
    pos = next;
  }
  if (pos > runStart) await feed.block(body, runStart, pos, null);
}

/** Feeds text (an unwrapped line, or a JSON element as one line) as a block of its own. */
async function feedText(text: string, host: string | null, feed: BodyFeed): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  await feed.block(bytes, 0, bytes.length, host);
}

/**
 * Feeds a JSON document: each element of an array (or the one object) becomes a line, serialised
 * back to JSON, or its raw line when it is a shipper's wrapper. Consecutive elements for the same
 * host share one block.
 */
async function feedJson(value: unknown, feed: BodyFeed): Promise<void> {
  const elements = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (elements === null) throw new RequestError(400, 'a JSON body must be an object (one event) or an array of events');
  let pending: string[] = [];
  let pendingBytes = 0;
  let pendingHost: string | null = null;
  const flush = async () => {
    if (pending.length > 0) await feedText(pending.join('\n'), pendingHost, feed);
    pending = [];
    pendingBytes = 0;
  };
  for (const element of elements) {
    const line = elementLine(element, feed.format);
    if (line.host !== pendingHost || pendingBytes >= BLOCK_BYTES) await flush();
    pendingHost = line.host;
    pending.push(line.text);
    pendingBytes += line.text.length;
  }
  await flush();
}

/** A line for the parser, and the host a shipper's wrapper named (null when none). */
interface PreparedLine {
  text: string;
  host: string | null;
}

/** The line of one JSON element: a string as it is, a wrapper's raw line, or the element as JSON. */
function elementLine(element: unknown, format: string): PreparedLine {
  if (typeof element === 'string') return { text: element, host: null };
  if (element instanceof TooDeep) return { text: element.text, host: null };
  const text = JSON.stringify(element) ?? 'null';
  return unwrap(element, format, () => text) ?? { text, host: null };
}

/** Cheap test before decoding a line: only JSON objects naming a wrapper field can be one. */
function mayBeWrapper(body: Buffer, start: number, end: number): boolean {
  let first = start;
  while (first < end && (body[first] === 0x20 || body[first] === 0x09)) first += 1;
  if (body[first] !== 0x7b) return false;
  const line = body.subarray(first, end);
  return line.includes('"message"') || line.includes('"log"');
}

/**
 * The raw line inside a shipper's wrapper object, or null when `value` is not one. A wrapper is
 * unwrapped when the source reads text, or when the wrapper itself is not a record of any format.
 */
function unwrap(value: unknown, format: string, text: () => string): PreparedLine | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const field = WRAPPER_FIELDS.find((name) => typeof record[name] === 'string');
  if (field === undefined) return null;
  if (!TEXT_FORMATS.has(format) && classifyLine(text()) !== null) return null;
  const host = [record.host, hostObjectName(record.host), record.hostname].find((candidate): candidate is string => typeof candidate === 'string' && candidate !== '');
  return { text: record[field] as string, host: host ?? null };
}

/**
 * The name in an Elastic Common Schema `host` object (`{"host": {"name": "web-1"}}`), as Filebeat,
 * Elastic Agent and Logstash in ECS mode write it; undefined for anything else.
 */
function hostObjectName(host: unknown): unknown {
  if (host === null || typeof host !== 'object' || Array.isArray(host)) return undefined;
  const fields = host as Record<string, unknown>;
  return typeof fields.name === 'string' && fields.name !== '' ? fields.name : fields.hostname;
}

/** What a request's body (after its source's held lines) was read into. */
interface ParsedRequest {
  events: CommandEvent[];
  malformed: Malformed[];
  health: HealthSignal[];
  /** The held lines it read, and the lines it ends inside an event with. */
  heldLines: HeldLinesUpdate;
}

/** The lines one shipper host's parser read since it last held no part of an event. */
interface HostStream {
  parser: LogParser;
  /** Blocks fed since the parser last held nothing, at their offsets. */
  pieces: Array<{ offset: number; bytes: Buffer }>;
  /** Whether this request's body held lines of the host (its held lines then wait from now). */
  sent: boolean;
  /** When its held lines, if it had any, started to wait. */
  heldSince: Date | null;
}

/**
 * Parses a request body with one parser per shipper host, through the block path. A host whose
 * lines were held by an earlier request (it ended inside an event of theirs) has them read first,
 * so an event cut between two of a shipper's batches is assembled whole. At the end, an auditd
 * parser still inside an event keeps that event's lines held (the next request of the host, or
 * the idle read, finishes it); every other parser is flushed. With `finish` (the idle read) every
 * host's held lines are read and every parser flushed. What reading the held lines again gives
 * (the events of theirs that ended before, their malformed lines) was given when they were first
 * read: it is dropped, and only what they lead to with the new lines counts.
 */
async function parseRequest(
  body: Buffer,
  type: MediaType,
  source: SourceConfig,
  options: IngestRouteOptions,
  held: readonly HeldLines[],
  { finish = false }: { finish?: boolean } = {},
): Promise<ParsedRequest> {
  const defaultHost = source.host ?? localHostName();
  const out = emptyOutput();
  // auditd's own records (stopped, rules removed, events lost) tell of the pipeline, as from a file.
  const watch = new PipelineWatch(() => options.clock.now());
  // Held lines were looked at when first read: their pipeline records are not told again.
  let replaying = false;
  const observe: NonNullable<ParserOptions['onPipelineRecord']> = (record) => {
    if (!replaying) watch.observe(record);
  };
  /** One stream per host, the one used last at the end (a Map keeps insertion order). */
  const streams = new Map<string, HostStream>();
  /** The hosts whose parser holds no part of an event, as of its last block. */
  const idle = new Set<string>();
  let cutShort = 0;
  const maxParsers = Math.max(1, options.maxHostParsers ?? MAX_HOST_PARSERS);
  // Held lines come first in the offsets, each host's at its own; the body's lines after them all.
  const heldByHost = new Map<string, { row: HeldLines; offset: number }>();
  let heldBytes = 0;
  for (const row of held) {
    heldByHost.set(row.hostKey, { row, offset: heldBytes });
    heldBytes += row.lines.length;
  }
  const taken: string[] = [];
  const now = options.clock.now();
  const streamFor = (key: string): HostStream => {
    let stream = streams.get(key);
    if (stream) {
      streams.delete(key);
    } else {
      if (streams.size >= maxParsers) {
        // Bounded: past the cap one host is done with, as at the end of a body: one that holds
        // no part of an event, else (every one does) the one used longest ago, cut short.
        const done = idle.values().next().value ?? streams.keys().next().value!;
        if (!idle.has(done)) cutShort += 1;
        appendOutput(out, streams.get(done)!.parser.flush());
        streams.delete(done);
        idle.delete(done);
      }
      const parser = createParser(source.type, { defaultHost: key, resolveUid: options.resolveUid, onPipelineRecord: observe, midStream: true, timeZone: source.timeZone });
      stream = { parser, pieces: [], sent: false, heldSince: null };
      const earlier = heldByHost.get(key);
      if (earlier) {
        heldByHost.delete(key);
        taken.push(earlier.row.id);
        stream.heldSince = earlier.row.heldSince;
        // What they give now was given when they were first read (events, malformed lines,
        // pipeline records): only the parser's state is wanted, to go on from.
        replaying = true;
        feedStream(stream, earlier.row.lines, 0, earlier.row.lines.length, earlier.offset, now, emptyOutput());
        replaying = false;
      }
    }
    streams.set(key, stream);
    if (stream.parser.lowWaterMark() === null) idle.add(key);
    else idle.delete(key);
    return stream;
  };
  let offset = heldBytes;
  let sinceYield = 0;
  const feed: BodyFeed = {
    format: source.type,
    async block(bytes, start, end, host) {
      const key = host ?? defaultHost;
      const stream = streamFor(key);
      stream.sent = true;
      feedStream(stream, bytes, start, end, offset, now, out);
      if (stream.parser.lowWaterMark() === null) idle.add(key);
      else idle.delete(key);
      offset += end - start;
      sinceYield += end - start;
      // A 10 MiB body is parsed in slices, so it never stalls other requests.
      if (sinceYield >= BLOCK_BYTES) {
        sinceYield = 0;
        await nextTurn();
      }
    },
  };
  await parseBody(body, type, feed);
  // Nothing more will come (the idle read): every host's held lines are read, and closed.
  if (finish) for (const key of [...heldByHost.keys()]) streamFor(key);
  const hold: Array<{ hostKey: string; lines: Buffer; heldSince: Date }> = [];
  for (const [key, stream] of streams) {
    const lines = finish ? null : heldTail(stream);
    if (lines === null) appendOutput(out, stream.parser.flush());
    else hold.push({ hostKey: key, lines, heldSince: stream.sent ? now : (stream.heldSince ?? now) });
  }
  if (cutShort > 0) {
    options.logger.warn('a request held events in progress for more hosts than one request may: some were closed before their last records', { source: source.name, hosts: maxParsers, closedEarly: cutShort });
  }
  return { events: out.events, malformed: out.malformed.map(printableSample), health: watch.drain(), heldLines: { source: source.name, taken, hold } };
}

/** Feeds `bytes[start, end)` (whole lines) at `offset` to the stream's parser, keeping them while it holds an event. */
function feedStream(stream: HostStream, bytes: Buffer, start: number, end: number, offset: number, now: Date, out: ParseOutput): void {
  parseBlock(stream.parser, lineBlock(bytes, start, end, offset), now, out);
  if (stream.parser.lowWaterMark() === null) stream.pieces = [];
  else stream.pieces.push({ offset, bytes: bytes.subarray(start, end) });
}

/**
 * The lines of the stream from its parser's low-water mark on (whole lines, each ended by `\n`),
 * when they are to be held: the parser is inside an event of an auditd log, and they fit in
 * MAX_HELD_LINE_BYTES. Null when the parser is to be flushed instead.
 */
function heldTail(stream: HostStream): Buffer | null {
  const mark = stream.parser.lowWaterMark();
  if (mark === null || stream.parser.format !== 'auditd') return null;
  const parts: Buffer[] = [];
  let bytes = 0;
  for (const piece of stream.pieces) {
    const end = piece.offset + piece.bytes.length;
    if (end <= mark) continue;
    const part = piece.bytes.subarray(Math.max(0, mark - piece.offset));
    parts.push(part);
    bytes += part.length;
    // Blocks made of JSON elements end without a newline.
    if (part.length > 0 && part[part.length - 1] !== 0x0a) {
      parts.push(NEWLINE);
      bytes += 1;
    }
    if (bytes > MAX_HELD_LINE_BYTES) return null;
  }
  return bytes === 0 ? null : Buffer.concat(parts, bytes);
}

const NEWLINE = Buffer.from('\n');

/**
 * Most bytes of lines held for one host: more than the records of the largest exec Linux allows
 * (argv and environment up to ARG_MAX, 2 MiB with the default stack limit, which auditd may write
 * hex-encoded, twice that, plus a header per record), so only a stream inside an event that never
 * ends is flushed instead. Below that, a shipper's cut inside a huge exec would close it without
 * its last arguments and read the rest as another event: the command the rules see is not the one run.
 */
export const MAX_HELD_LINE_BYTES = 8 * 1024 * 1024;

function countByReason(malformed: readonly Malformed[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of malformed) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return counts;
}

function response(stats: IngestStats, malformed: readonly Malformed[]): IngestResponse {
  const byReason = countByReason(malformed);
  if (stats.unstorable > 0) byReason.unstorable = (byReason.unstorable ?? 0) + stats.unstorable;
  return {
    accepted: stats.events,
    matched: stats.matched,
    stored: storedOf(stats),
    alerts_created: stats.alertsCreated,
    alerts_suppressed: stats.alertsSuppressed,
    duplicates: stats.duplicates,
    malformed: malformed.length,
    unstorable: stats.unstorable,
    refused: malformed.filter((item) => !KEPT_REASONS.has(item.reason)).length + stats.unstorable,
    malformed_by_reason: byReason,
  };
}

function report(options: IngestRouteOptions, source: string, stats: IngestStats, malformed: readonly Malformed[]): void {
  options.metrics?.countIngestRequest(source);
  options.metrics?.countEvents(source, stats.events, stats.matched);
  for (const [reason, count] of Object.entries(countByReason(malformed))) {
    const sample = malformed.find((item) => item.reason === reason)?.sample;
    options.logger.warn('malformed input skipped', { source, reason, count, sample });
  }
}
