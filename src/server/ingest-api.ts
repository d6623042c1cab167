import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { Clock } from '../clock.js';
import type { SourceConfig } from '../config/config.js';
import { localHostName } from '../config/load-config.js';
import { RequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { IngestStats, Ingestor } from '../sources/ingest.js';
import type { LogParser, Malformed, ParserOptions } from '../sources/parser.js';
import { bindToHosts, HostAllowList } from '../sources/host-allow-list.js';
import { classifyLine, createParser } from '../sources/parsers/index.js';
import { printableSample } from '../sources/read-log.js';
import { readBody, sendJson, type HttpServer } from './http-server.js';
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
}

/** The 200 answer of `POST /ingest`. */
export interface IngestResponse {
  /** Command events parsed from the body. */
  accepted: number;
  /** Events that matched a rule. */
  matched: number;
  alerts_created: number;
  alerts_suppressed: number;
  /** Rule hits already stored by an earlier request (a retried batch). */
  duplicates: number;
  /** Lines or elements that could not be parsed; counted per source and reason. */
  malformed: number;
  malformed_by_reason: Record<string, number>;
}

/** One unit of a body: a raw line, or an element of a JSON body. */
type BodyUnit = { line: string } | { value: unknown };

/** Formats whose records are plain text lines; a JSON wrapper around such a line is unwrapped. */
const TEXT_FORMATS = new Set(['auditd', 'sudo']);
/** Fields log shippers put the original line in: Vector `message`, Fluent Bit `log`. */
const WRAPPER_FIELDS = ['message', 'log'] as const;
/** Most parsers one request may create (one per shipper host); later hosts share the default one. */
const MAX_HOST_PARSERS = 1000;
/** Units parsed between yields to the event loop, so a 10 MiB body never stalls other requests. */
const UNITS_PER_TURN = 2000;

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
 *   are counted (`malformed`) and the request still succeeds.
 *
 * - A source with `hosts:` speaks only for those hosts: an event claiming another one is refused
 *   and counted (`host_not_allowed`), the rest of the request is stored. Every stored event is
 *   marked as read over HTTP, `bound` or `unbound` (see provenance.ts).
 *
 * A request is a complete batch: it gets a fresh parser, flushed at the end, and is stored in one
 * transaction, so a retry of a failed request is safe (events are keyed).
 */
export function routeIngest(http: HttpServer, options: IngestRouteOptions): void {
  const tokens = options.sources
    .filter((source) => source.path === null && source.token !== null)
    .map((source) => ({ source, digest: digest(source.token as string) }));
  const allowLists = new Map(tokens.map(({ source }) => [source.name, source.hosts ? new HostAllowList(source.hosts) : null]));
  const limit = options.maxBodyBytes ?? MAX_INGEST_BODY_BYTES;
  http.route('POST', '/ingest', async (req, res) => {
    const source = sourceFor(req.headers.authorization, tokens);
    if (source === null) {
      req.resume();
      throw new RequestError(401, 'missing or unknown bearer token: send Authorization: Bearer <token of an HTTP source>');
    }
    const encoding = contentEncoding(req);
    const raw = await readBody(req, limit);
    const body = await decompress(raw, encoding, limit);
    const units = bodyUnits(body.toString('utf8'), mediaType(req));
    const parsed = await parseUnits(units, source, options);
    const bound = bindToHosts(parsed.events, allowLists.get(source.name) ?? null);
    parsed.events = bound.events;
    for (const refused of bound.refused) parsed.malformed.push(printableSample(refused));
    const stats = await options.ingestor.ingest(source.name, parsed);
    report(options, source.name, stats, parsed.malformed);
    sendJson(res, 200, response(stats, parsed.malformed));
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares with every token, without stopping at a match, so timing says nothing about which. */
function sourceFor(header: string | undefined, tokens: ReadonlyArray<{ source: SourceConfig; digest: Buffer }>): SourceConfig | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const given = digest(match[1] as string);
  let found: SourceConfig | null = null;
  for (const entry of tokens) {
    if (timingSafeEqual(given, entry.digest) && found === null) found = entry.source;
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

/** Splits the body into lines or JSON elements; 400 when declared JSON is not JSON. */
function bodyUnits(text: string, type: MediaType): BodyUnit[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (type === 'lines') return lines(body);
  if (type === 'sniff') {
    // No Content-Type: a JSON document if the whole body is one, lines otherwise.
    if (!/^\s*[[{]/.test(body)) return lines(body);
    const value = parseJson(body);
    return value === undefined ? lines(body) : jsonUnits(value);
  }
  const value = parseJson(body);
  if (value !== undefined) return jsonUnits(value);
  // NDJSON labelled application/json (some shippers do): every line a JSON value of its own.
  if (looksLikeNdjson(body)) return lines(body);
  let reason = 'empty body';
  try {
    JSON.parse(body);
  } catch (error) {
    reason = (error as Error).message.slice(0, 200);
  }
  throw new RequestError(400, `body is not valid JSON (${reason}); send NDJSON as application/x-ndjson`);
}

/** The parsed document, or undefined when the text is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function jsonUnits(value: unknown): BodyUnit[] {
  if (Array.isArray(value)) return value.map((element) => ({ value: element }));
  if (value !== null && typeof value === 'object') return [{ value }];
  throw new RequestError(400, 'a JSON body must be an object (one event) or an array of events');
}

function lines(body: string): BodyUnit[] {
  const out: BodyUnit[] = [];
  for (const line of body.split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() !== '') out.push({ line: text });
  }
  return out;
}

function looksLikeNdjson(body: string): boolean {
  const [first, second] = body.split('\n').filter((line) => line.trim() !== '');
  if (first === undefined || second === undefined) return false;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

/** A line for the parser, and the host a shipper's wrapper named (null when none). */
interface PreparedLine {
  text: string;
  host: string | null;
}

/**
 * Turns a unit into the line its format's parser expects. JSON elements are serialised back into
 * one line; a wrapper object from a shipper gives up its raw line when the source reads text, or
 * when the wrapper itself is not a record of any format.
 */
function prepare(unit: BodyUnit, format: string): PreparedLine {
  if ('line' in unit) {
    const line = unit.line;
    if (!mayBeWrapper(line)) return { text: line, host: null };
    return unwrap(parseJson(line), format, line) ?? { text: line, host: null };
  }
  const { value } = unit;
  if (typeof value === 'string') return { text: value, host: null };
  const text = JSON.stringify(value) ?? 'null';
  return unwrap(value, format, text) ?? { text, host: null };
}

/** Cheap test before parsing a line: only JSON objects naming a wrapper field can be one. */
function mayBeWrapper(line: string): boolean {
  return /^\s*\{/.test(line) && (line.includes('"message"') || line.includes('"log"'));
}

function unwrap(value: unknown, format: string, text: string): PreparedLine | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const field = WRAPPER_FIELDS.find((name) => typeof record[name] === 'string');
  if (field === undefined) return null;
  if (!TEXT_FORMATS.has(format) && classifyLine(text) !== null) return null;
  const host = [record.host, record.hostname].find((candidate): candidate is string => typeof candidate === 'string' && candidate !== '');
  return { text: record[field] as string, host: host ?? null };
}

/** Parses a request's units with fresh parsers (one per shipper host) and flushes them. */
async function parseUnits(
  units: readonly BodyUnit[],
  source: SourceConfig,
  options: IngestRouteOptions,
): Promise<{ events: CommandEvent[]; malformed: Malformed[] }> {
  const defaultHost = source.host ?? localHostName();
  const parsers = new Map<string, LogParser>();
  const parserFor = (host: string | null): LogParser => {
    const key = host === null || (parsers.size >= MAX_HOST_PARSERS && !parsers.has(host)) ? defaultHost : host;
    let parser = parsers.get(key);
    if (!parser) {
      parser = createParser(source.type, { defaultHost: key, resolveUid: options.resolveUid });
      parsers.set(key, parser);
    }
    return parser;
  };
  const events: CommandEvent[] = [];
  const malformed: Malformed[] = [];
  const collect = (out: { events: CommandEvent[]; malformed: Malformed[] }) => {
    for (const event of out.events) events.push(event);
    for (const item of out.malformed) malformed.push(printableSample(item));
  };
  const now = options.clock.now();
  for (let i = 0; i < units.length; i++) {
    if (i > 0 && i % UNITS_PER_TURN === 0) await nextTurn();
    const line = prepare(units[i] as BodyUnit, source.type);
    const parser = parserFor(line.host);
    // A string element or wrapped message may carry several lines of a text log.
    if (!line.text.includes('\n')) collect(parser.push(line.text, i, now));
    else for (const part of line.text.split('\n')) collect(parser.push(part.endsWith('\r') ? part.slice(0, -1) : part, i, now));
  }
  for (const parser of parsers.values()) collect(parser.flush());
  return { events, malformed };
}

function countByReason(malformed: readonly Malformed[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of malformed) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return counts;
}

function response(stats: IngestStats, malformed: readonly Malformed[]): IngestResponse {
  return {
    accepted: stats.events,
    matched: stats.matched,
    alerts_created: stats.alertsCreated,
    alerts_suppressed: stats.alertsSuppressed,
    duplicates: stats.duplicates,
    malformed: stats.malformed,
    malformed_by_reason: countByReason(malformed),
  };
}

function report(options: IngestRouteOptions, source: string, stats: IngestStats, malformed: readonly Malformed[]): void {
  options.metrics?.increment('vouch_ingest_requests_total', { source });
  options.metrics?.increment('vouch_events_total', { source }, stats.events);
  options.metrics?.increment('vouch_rule_hits_total', { source }, stats.matched);
  for (const [reason, count] of Object.entries(countByReason(malformed))) {
    const sample = malformed.find((item) => item.reason === reason)?.sample;
    options.logger.warn('malformed input skipped', { source, reason, count, sample });
  }
}
