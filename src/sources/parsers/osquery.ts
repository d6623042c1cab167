import { hexDigest } from './digest.js';
import { commandLine, type CommandEvent } from '../command-event.js';
import type { LogParser, ParserOptions } from '../parser.js';
import { createJsonLineParser } from './json-line-parser.js';
import {
  FieldError,
  epochToDate,
  isJsonObject,
  isUnsetUid,
  nameUid,
  optionalInteger,
  optionalString,
  splitWords,
  toInteger,
  type JsonObject,
} from './parse-support.js';

export const OSQUERY_FORMAT = 'osquery';

/**
 * Parses osquery's results log (filesystem logger, one JSON object per line) for
 * `process_events` (and any query with the same columns):
 * - event format: `{name, hostIdentifier, unixTime, action: "added", columns: {...}}`;
 * - batch format: `{..., diffResults: {added: [...], removed: [...]}}`, one event per added row;
 * - snapshot format: `{..., snapshot: [...]}`.
 * Column values are strings (numbers with `--logger_numerics`). A row becomes an event when it has
 * `cmdline` or `path`; other query results and `removed` rows are skipped silently.
 *
 * argv is `cmdline` split on spaces (osquery joined the arguments, losing their boundaries),
 * `user` the `auid` named through `options.resolveUid` (null when unset), `runAs` the `euid`,
 * `time` the row's `time` column, else `unixTime`. `eventKey` joins host, query name, time and
 * pid with a hash of the row.
 */
export function createOsqueryParser(options: ParserOptions): LogParser {
  return createJsonLineParser(OSQUERY_FORMAT, (result) => resultToEvents(result, options));
}

function resultToEvents(result: JsonObject, options: ParserOptions): CommandEvent[] {
  const host = optionalString(result, 'hostIdentifier') ?? optionalString(result, 'hostname');
  const name = optionalString(result, 'name') ?? '';
  const rows = resultRows(result);
  if (rows === null) {
    if (host === null && name === '') throw new FieldError('not an osquery result: no name or hostIdentifier');
    return [];
  }
  const context = { host: host ?? options.defaultHost, name, unixTime: result.unixTime, options };
  const events: CommandEvent[] = [];
  for (const row of rows) {
    if (!isJsonObject(row)) throw new FieldError('result rows must be objects');
    const event = rowToEvent(row, context);
    if (event !== null) events.push(event);
  }
  return events;
}

/** The rows a result adds; null when the object holds no rows at all. */
function resultRows(result: JsonObject): unknown[] | null {
  if (result.columns !== undefined) {
    if (!isJsonObject(result.columns)) throw new FieldError('columns must be an object');
    const action = result.action;
    return action === undefined || action === 'added' ? [result.columns] : [];
  }
  if (result.diffResults !== undefined) {
    if (!isJsonObject(result.diffResults)) throw new FieldError('diffResults must be an object');
    const added = result.diffResults.added;
    if (added === undefined || added === null) return [];
    if (!Array.isArray(added)) throw new FieldError('diffResults.added must be an array');
    return added;
  }
  if (result.snapshot !== undefined) {
    if (!Array.isArray(result.snapshot)) throw new FieldError('snapshot must be an array');
    return result.snapshot;
  }
  return null;
}

interface RowContext {
  host: string;
  name: string;
  unixTime: unknown;
  options: ParserOptions;
}

function rowToEvent(row: JsonObject, ctx: RowContext): CommandEvent | null {
  const cmdline = columnText(row, 'cmdline');
  const path = columnText(row, 'path');
  if (cmdline === null && path === null) return null;
  const timeText = columnText(row, 'time');
  const time = rowTime(timeText, ctx.unixTime);
  const pid = optionalInteger(row, 'pid');
  const auid = optionalInteger(row, 'auid');
  const euid = optionalInteger(row, 'euid');
  let argv = cmdline === null ? [] : splitWords(cmdline);
  if (argv.length === 0 && path !== null) argv = [path];
  const rowHash = hexDigest('sha1', JSON.stringify(row)).slice(0, 16);
  const extra: Record<string, string> = { osquery_query: ctx.name };
  const uid = columnText(row, 'uid');
  if (uid !== null) extra.uid = uid;
  const syscall = columnText(row, 'syscall');
  if (syscall !== null) extra.syscall = syscall;
  return {
    time,
    host: ctx.host,
    user: nameUid(auid, ctx.host, ctx.options),
    loginUid: auid === null || isUnsetUid(auid) ? null : auid,
    runAs: euid === null ? null : nameUid(euid, ctx.host, ctx.options),
    argv,
    command: commandLine(argv),
    exe: path,
    cwd: columnText(row, 'cwd'),
    pid,
    ppid: optionalInteger(row, 'parent'),
    sourceFormat: OSQUERY_FORMAT,
    eventKey: `${OSQUERY_FORMAT}:${ctx.host}:${ctx.name}:${timeText ?? String(ctx.unixTime)}:${pid ?? ''}:${rowHash}`,
    extra,
  };
}

/** A column as text: strings as they are, numbers (numerics mode) in decimal; '' is absent. */
function columnText(row: JsonObject, key: string): string | null {
  const value = row[key];
  if (typeof value === 'number') return String(value);
  const text = optionalString(row, key);
  return text === '' ? null : text;
}

function rowTime(timeText: string | null, unixTime: unknown): Date {
  for (const candidate of [timeText, unixTime]) {
    if (candidate === null || candidate === undefined) continue;
    const seconds = toInteger(candidate);
    const date = seconds === null ? null : epochToDate(seconds);
    if (date === null) throw new FieldError('time and unixTime must be epoch seconds');
    return date;
  }
  throw new FieldError('row has no time and the result no unixTime');
}
