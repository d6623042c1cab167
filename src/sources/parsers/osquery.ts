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
  optionalString,
  splitMayBlur,
  splitWords,
  toInteger,
  wellFormed,
  type FieldDamage,
  type JsonObject,
} from './parse-support.js';

export const OSQUERY_FORMAT = 'osquery';

/**
 * Parses osquery's results log (filesystem logger, one JSON object per line) for
 * `process_events` (and any query with the same columns):
 * - event format: `{name, hostIdentifier, unixTime, action: "added", columns: {...}}`;
 * - batch format: `{..., diffResults: {added: [...], removed: [...]}}`, one event per added row;
 * - snapshot format: `{..., snapshot: [...]}`.
 * Column values are strings (numbers with `--logger_numerics`). A row becomes an event when it is
 * an execution (see isExecRow); other query results and `removed` rows are skipped silently. A
 * snapshot's rows are read too, in an array or one per line (`--logger_snapshot_event_type`).
 *
 * argv is `json_cmdline` when the row has it, else `cmdline` split on spaces (osquery joined the
 * arguments, losing their boundaries: such an event carries `argv_inexact`), `user` the `auid`
 * named through `options.resolveUid` (null when unset), `runAs` the `euid` (else the `uid`),
 * `time` the row's `time` column, else `unixTime`. `eventKey` joins host, query name, time and
 * pid with a hash of the row. The command (`cmdline` or `path`), the time and the host must be
 * readable; any other column of the wrong type is left out and the line counted as `bad_field`.
 */
export function createOsqueryParser(options: ParserOptions): LogParser {
  return createJsonLineParser(OSQUERY_FORMAT, (result, ctx) => resultToEvents(result, ctx.damage, ctx.refuse, options));
}

function resultToEvents(result: JsonObject, damage: FieldDamage, refuse: (error: FieldError) => void, options: ParserOptions): CommandEvent[] {
  const host = optionalString(result, 'hostIdentifier') ?? optionalString(result, 'hostname');
  const name = damage.string(result, 'name') ?? '';
  const rows = resultRows(result);
  if (rows === null) {
    if (host === null && name === '') throw new FieldError('not an osquery result: no name or hostIdentifier');
    return [];
  }
  const context = { host: host ?? options.defaultHost, name, unixTime: result.unixTime, snapshot: result.snapshot !== undefined || result.action === 'snapshot', options, damage };
  const events: CommandEvent[] = [];
  for (const row of rows) {
    // One unreadable row of a snapshot is refused on its own; the line's other rows still count.
    const noted = damage.count;
    try {
      if (!isJsonObject(row)) throw new FieldError('result rows must be objects');
      const event = rowToEvent(row, context);
      if (event !== null) events.push(event);
    } catch (error) {
      if (!(error instanceof FieldError) || rows.length === 1) throw error;
      damage.forgetSince(noted);
      refuse(error);
    }
  }
  return events;
}

/** The rows a result adds; null when the object holds no rows at all. */
function resultRows(result: JsonObject): unknown[] | null {
  if (result.columns !== undefined) {
    if (!isJsonObject(result.columns)) throw new FieldError('columns must be an object');
    const action = result.action;
    // `--logger_snapshot_event_type` writes each row of a snapshot as an event of its own.
    return action === undefined || action === 'added' || action === 'snapshot' ? [result.columns] : [];
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
  /** The row is of a snapshot: what the query saw at that moment. */
  snapshot: boolean;
  options: ParserOptions;
  damage: FieldDamage;
}

/** `syscall` values of process_events and bpf_process_events rows that are an exec. */
const EXEC_SYSCALLS = new Set(['execve', 'execveat', 'exec']);

/** Columns of osquery's `processes` table that no process event table has. */
const PROCESSES_COLUMNS = ['start_time', 'resident_size', 'total_size', 'user_time', 'system_time', 'threads', 'state', 'on_disk', 'wired_size', 'nice', 'pgroup', 'disk_bytes_read', 'disk_bytes_written', 'elapsed_time', 'handle_count', 'percent_processor_time'];

/**
 * Whether a row is an execution. An event table's row says so by its `syscall` (process_events,
 * bpf_process_events; socket_events' `connect` or `bind` is not one) or `event_type`
 * (es_process_events). A row with neither is one when it has a command line, is not of a
 * snapshot, and has none of the `processes` table's own columns: that table lists what is
 * running, so a snapshot repeats every process, and a difference between runs lists a process
 * again whenever a column of it changed. (A query that selects a few named columns of
 * process_events has neither `syscall` nor those, and is read.) user_events rows have a `path`
 * but no command line, and are not commands either.
 */
function isExecRow(row: JsonObject, cmdline: string | null, ctx: RowContext): boolean {
  const syscall = columnText(row, 'syscall')?.trim().toLowerCase();
  if (syscall !== undefined) return EXEC_SYSCALLS.has(syscall) || syscall === '59' || syscall === '322';
  const eventType = columnText(row, 'event_type')?.trim().toLowerCase();
  if (eventType !== undefined) return eventType === 'exec';
  return cmdline !== null && !ctx.snapshot && !PROCESSES_COLUMNS.some((column) => column in row);
}

/** argv from `json_cmdline` (bpf_process_events: the arguments as a JSON array), or null. */
function jsonArgv(row: JsonObject): string[] | null {
  const text = columnText(row, 'json_cmdline');
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string') ? (value as string[]).map(wellFormed) : null;
  } catch {
    return null;
  }
}

function rowToEvent(row: JsonObject, ctx: RowContext): CommandEvent | null {
  const { damage } = ctx;
  const before = damage.count;
  const cmdline = damage.read(() => columnText(row, 'cmdline'));
  const path = damage.read(() => columnText(row, 'path'));
  if (cmdline === null && path === null) {
    // Not a process row, unless its command was there and unreadable: that one is never skipped quietly.
    if (damage.count > before) throw damage.required('cmdline or path is required');
    return null;
  }
  if (!isExecRow(row, cmdline, ctx)) return null;
  const timeText = damage.read(() => columnText(row, 'time'));
  const time = rowTime(timeText, ctx.unixTime, damage);
  const pid = damage.processId(row, 'pid');
  const auid = damage.integer(row, 'auid');
  const euid = damage.integer(row, 'euid');
  const exact = jsonArgv(row);
  let argv = exact ?? (cmdline === null ? [] : splitWords(cmdline));
  if (argv.length === 0 && path !== null) argv = [path];
  const rowHash = hexDigest('sha1', JSON.stringify(row)).slice(0, 16);
  const extra: Record<string, string> = { osquery_query: ctx.name };
  // osquery joined the arguments with spaces: an argument holding one cannot be told apart.
  if (exact === null && cmdline !== null && splitMayBlur(cmdline)) extra.argv_inexact = 'true';
  const uid = damage.integer(row, 'uid');
  if (uid !== null) extra.uid = String(uid);
  const syscall = damage.read(() => columnText(row, 'syscall'));
  if (syscall !== null) extra.syscall = syscall;
  return {
    time,
    host: ctx.host,
    user: nameUid(auid, ctx.host, ctx.options),
    loginUid: auid === null || isUnsetUid(auid) ? null : auid,
    // bpf_process_events and processes rows have no euid: the uid it ran as.
    runAs: nameUid(euid ?? uid, ctx.host, ctx.options),
    argv,
    command: commandLine(argv),
    exe: path,
    cwd: damage.read(() => columnText(row, 'cwd')),
    pid,
    ppid: damage.integer(row, 'parent'),
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

/** The row's `time`, else the result's `unixTime`: the first readable one; one is required. */
function rowTime(timeText: string | null, unixTime: unknown, damage: FieldDamage): Date {
  let unreadable = false;
  for (const [name, candidate] of [['time', timeText], ['unixTime', unixTime]] as const) {
    if (candidate === null || candidate === undefined) continue;
    const seconds = toInteger(candidate);
    const date = seconds === null ? null : epochToDate(seconds);
    if (date !== null) return date;
    damage.leftOut(`${name} must be epoch seconds`);
    unreadable = true;
  }
  throw damage.required(unreadable ? 'no readable time' : 'row has no time and the result no unixTime');
}
