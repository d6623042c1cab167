import { commandLine, type CommandEvent } from '../command-event.js';
import { emptyOutput, type LogParser, type ParseOutput, type ParserOptions } from '../parser.js';
import {
  FieldDamage,
  FieldError,
  MAX_LINE_CHARS,
  hashKey,
  isJsonObject,
  malformed,
  optionalString,
  parseIsoTime,
  parseJsonObjectLine,
  screenLine,
  stripCarriageReturn,
  wellFormed,
  type JsonObject,
} from './parse-support.js';
import { closeTruncatedJson } from './close-truncated-json.js';
import { splitSudoMessage } from './sudo-message.js';
import { parseSyslogHeader, type SyslogHeader } from './syslog-header.js';

export const SUDO_JSON_FORMAT = 'sudo-json';

/** The event kinds sudo's JSON log names; `exit` repeats an `accept` and is skipped. */
const EVENT_KINDS = ['accept', 'reject', 'alert', 'exit'] as const;
type EventKind = (typeof EVENT_KINDS)[number];

/** A line opening one event of sudo's pretty-printed JSON log file: `    "accept": {`. */
const BLOCK_START = /^\s*"(accept|reject|alert|exit)"\s*:\s*\{/;

/**
 * Parses sudo's JSON event log (`log_format=json`, sudo 1.9.4+) in any of its three shapes:
 * - one object per line, `{"accept":{...}}` (log shippers, sudo_logsrvd relays);
 * - over syslog, `DATE HOST sudo[PID]: @cee:{"sudo":{"accept":{...}}}`;
 * - sudo's own log file, one pretty-printed object spanning many lines; events are buffered
 *   until their closing brace (`lowWaterMark()` reports the first line held).
 *
 * `accept` and `reject` (with `sudoDenied` and the reason) become events; `alert` becomes an event
 * when it names a command; `exit` is skipped, since the `accept` before it is the same command.
 * `user` is submituser, `runAs` runuser, argv runargv, `exe` command, `cwd` runcwd or submitcwd.
 * `eventKey` is built from sudo's uuid when present, else a hash of the text. The command
 * (runargv or command), submituser (but for `alert`) and the time must be readable, and submithost
 * when present; any other field of the wrong type is left out and the record counted `bad_field`.
 */
export function createSudoJsonParser(options: ParserOptions): LogParser {
  return new SudoJsonParser(options);
}

/** Where a sudo JSON record came from, for defaults and reports. */
export interface SudoJsonContext {
  line: string;
  offset: number;
  /** The syslog header in front of `@cee:`, when there was one. */
  header: SyslogHeader | null;
  options: ParserOptions;
  /** Defaults to `sudo-json`. */
  sourceFormat?: string;
  /** The record was cut short on its way and closed (closeTruncatedJson): its event says so. */
  cutShort?: boolean;
}

/**
 * Parses the JSON text after `@cee:` and appends its event (or malformed entry) to `out`. A
 * message cut short (syslog daemons cut long ones: rsyslog at 8 KiB, so a long command does it)
 * is read as far as it goes, and its event is marked `truncated`.
 */
export function sudoCeeToOutput(jsonText: string, ctx: SudoJsonContext, out: ParseOutput): void {
  const parsed = parseJsonObjectLine(jsonText);
  if (parsed.ok) {
    sudoObjectToOutput(parsed.value, ctx, out);
    return;
  }
  const closed = parsed.reason === 'truncated' ? closeTruncatedJson(jsonText) : null;
  const salvaged = closed === null ? null : parseJsonObjectLine(closed);
  if (salvaged === null || !salvaged.ok) {
    out.malformed.push(malformed(parsed.reason, ctx.line, ctx.offset, parsed.detail));
    return;
  }
  sudoObjectToOutput(salvaged.value, { ...ctx, cutShort: true }, out);
}

/** Turns a parsed `{"accept":{...}}` or `{"sudo":{"accept":{...}}}` object into output. */
export function sudoObjectToOutput(root: JsonObject, ctx: SudoJsonContext, out: ParseOutput): void {
  const outer = isJsonObject(root.sudo) ? root.sudo : root;
  const kind = EVENT_KINDS.find((k) => isJsonObject(outer[k]));
  if (kind === undefined) {
    out.malformed.push(malformed('unrecognized', ctx.line, ctx.offset, 'no accept/reject/alert/exit object'));
    return;
  }
  const damage = new FieldDamage();
  try {
    const event = recordToEvent(kind, outer[kind] as JsonObject, ctx, damage);
    if (event === null) return;
    out.events.push(event);
    const report = damage.report(ctx.line, ctx.offset);
    if (report !== null) out.malformed.push(report);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    // A record cut short is missing what was cut: say so rather than blame its JSON.
    const reason = ctx.cutShort === true ? 'truncated' : 'bad_json';
    const detail = ctx.cutShort === true ? `cut short before the event was whole: ${error.message}` : error.message;
    out.malformed.push(malformed(reason, ctx.line, ctx.offset, detail));
  }
}

function recordToEvent(kind: EventKind, rec: JsonObject, ctx: SudoJsonContext, damage: FieldDamage): CommandEvent | null {
  if (kind === 'exit') return null;
  const command = damage.string(rec, 'command');
  const argv = damage.read(() => readArgv(rec)) ?? (command === null ? null : [command]);
  if (argv === null) {
    // An alert without a command is of no interest, unless its command was there and unreadable.
    if (kind === 'alert' && damage.count === 0) return null;
    throw damage.required(`${kind} record has neither runargv nor command`);
  }
  // An alert may name no user, so only there is an unreadable one left out.
  const user = kind === 'alert' ? damage.string(rec, 'submituser') : optionalString(rec, 'submituser');
  if (user === null && kind !== 'alert') throw new FieldError('submituser is required');
  const time = readTime(rec, kind) ?? ctx.header?.time;
  if (time === undefined) throw new FieldError('no submit_time, alert_time or server_time');
  const uuid = damage.string(rec, 'uuid');
  const reason = damage.string(rec, 'reason');
  const format = ctx.sourceFormat ?? SUDO_JSON_FORMAT;
  const event: CommandEvent = {
    time,
    host: optionalString(rec, 'submithost') ?? ctx.header?.host ?? ctx.options.defaultHost,
    user,
    loginUid: null,
    runAs: damage.string(rec, 'runuser'),
    argv,
    command: commandLine(argv),
    exe: command ?? argv[0] ?? null,
    cwd: damage.string(rec, 'runcwd') ?? damage.string(rec, 'submitcwd'),
    pid: ctx.header?.pid ?? null,
    ppid: null,
    sourceFormat: format,
    eventKey: uuid !== null ? `${format}:${kind}:${uuid}` : hashKey(format, ctx.line),
  };
  if (kind === 'reject') {
    event.sudoDenied = true;
    event.denialReason = reason ?? 'rejected';
  }
  event.extra = readExtra(rec, kind, reason, damage);
  // `@cee:` JSON sent through syslog is as forgeable as any syslog text (journald checks its own).
  if (ctx.header !== null && ctx.sourceFormat === undefined) event.attribution = 'syslog-unverified';
  if (ctx.cutShort === true) event.extra.truncated = 'true';
  return event;
}

/** runargv; null when absent or empty (the command alone is then the argv). */
function readArgv(rec: JsonObject): string[] | null {
  const runargv = rec.runargv;
  if (runargv === undefined || runargv === null) return null;
  if (!Array.isArray(runargv) || !runargv.every((a) => typeof a === 'string')) {
    throw new FieldError('runargv must be an array of strings');
  }
  return runargv.length === 0 ? null : (runargv as string[]).map(wellFormed);
}

function readExtra(rec: JsonObject, kind: EventKind, reason: string | null, damage: FieldDamage): Record<string, string> {
  const extra: Record<string, string> = { sudo_event: kind };
  const keep = (from: string, to: string): void => {
    const value = damage.string(rec, from);
    if (value !== null) extra[to] = value;
  };
  keep('ttyname', 'tty');
  keep('rungroup', 'run_group');
  keep('submitcwd', 'submit_cwd');
  keep('runchroot', 'chroot');
  keep('iolog_path', 'iolog_path');
  if (kind === 'alert' && reason !== null) extra.sudo_alert = reason;
  return extra;
}

/** The event's own time object, `{seconds, nanoseconds, iso8601}`; null when there is none. */
function readTime(rec: JsonObject, kind: EventKind): Date | null {
  const key = kind === 'alert' ? 'alert_time' : 'submit_time';
  for (const name of [key, 'server_time']) {
    const value = rec[name];
    if (value === undefined || value === null) continue;
    if (!isJsonObject(value)) throw new FieldError(`${name} must be an object`);
    const date = timeObjectToDate(value);
    if (date === null) throw new FieldError(`${name} has no valid seconds or iso8601`);
    return date;
  }
  return null;
}

function timeObjectToDate(value: JsonObject): Date | null {
  const { seconds, nanoseconds, iso8601 } = value;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) {
    const nanos = typeof nanoseconds === 'number' && Number.isFinite(nanoseconds) ? nanoseconds : 0;
    const date = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
    return Number.isNaN(date.getTime()) ? null : date;
  }
  if (typeof iso8601 === 'string') return parseCompactIso(iso8601) ?? parseIsoTime(iso8601);
  return null;
}

/** sudo writes `iso8601` as `%Y%m%d%H%M%SZ` (e.g. `20261124142328Z`). */
function parseCompactIso(text: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return null;
  return parseIsoTime(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

interface Block {
  lines: string[];
  chars: number;
  offset: number;
  depth: number;
  inString: boolean;
  escaped: boolean;
}

class SudoJsonParser implements LogParser {
  readonly format = SUDO_JSON_FORMAT;
  private block: Block | null = null;

  constructor(private readonly options: ParserOptions) {}

  push(line: string, offset: number, now: Date): ParseOutput {
    const out = emptyOutput();
    try {
      this.handle(stripCarriageReturn(line), offset, now, out);
    } catch (error) {
      out.malformed.push(malformed('unrecognized', line, offset, `parser error: ${String(error)}`));
    }
    return out;
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    if (this.block !== null) {
      const first = this.block.lines[0] ?? '';
      out.malformed.push(malformed('truncated', first, this.block.offset, 'sudo JSON event never closed'));
      this.block = null;
    }
    return out;
  }

  lowWaterMark(): number | null {
    return this.block?.offset ?? null;
  }

  private handle(line: string, offset: number, now: Date, out: ParseOutput): void {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const screened = screenLine(line);
    if (screened !== null) {
      out.malformed.push(malformed(screened, line, offset));
      return;
    }
    const ctx: SudoJsonContext = { line, offset, header: null, options: this.options };
    if (this.block !== null && !BLOCK_START.test(line)) {
      this.continueBlock(line, ctx, out);
      return;
    }
    const header = parseSyslogHeader(line, now);
    if (header !== null) {
      this.handleSyslog(header, ctx, out);
      return;
    }
    if (BLOCK_START.test(line)) {
      this.startBlock(line, offset, ctx, out);
      return;
    }
    // The braces that open and close sudo's whole log file.
    if (trimmed === '{' || trimmed === '}') return;
    const parsed = parseJsonObjectLine(trimmed);
    if (!parsed.ok) {
      out.malformed.push(malformed(parsed.reason, line, offset, parsed.detail));
      return;
    }
    sudoObjectToOutput(parsed.value, ctx, out);
  }

  /**
   * A syslog line. sudo's JSON through syslog shares the file with other daemons, and with sudo's
   * own PAM and diagnostic messages: those are skipped silently, as the sudo syslog parser does.
   * Only sudo's `@cee:` messages are read, so another program cannot pass off JSON as sudo's by
   * writing `@cee:` into its own message.
   */
  private handleSyslog(header: SyslogHeader, ctx: SudoJsonContext, out: ParseOutput): void {
    if (header.program !== 'sudo') return;
    if (header.message.startsWith('@cee:')) {
      sudoCeeToOutput(header.message.slice(5), { ...ctx, header }, out);
      return;
    }
    if (splitSudoMessage(header.message).kind === 'other') return;
    out.malformed.push(
      malformed('unrecognized', ctx.line, ctx.offset, "sudo's text log format in a sudo-json source: read it with --format sudo"),
    );
  }

  private startBlock(line: string, offset: number, ctx: SudoJsonContext, out: ParseOutput): void {
    if (this.block !== null) {
      const first = this.block.lines[0] ?? '';
      out.malformed.push(malformed('truncated', first, this.block.offset, 'sudo JSON event cut off'));
    }
    this.block = { lines: [], chars: 0, offset, depth: 0, inString: false, escaped: false };
    this.continueBlock(line, ctx, out);
  }

  private continueBlock(line: string, ctx: SudoJsonContext, out: ParseOutput): void {
    const block = this.block!;
    block.lines.push(line);
    block.chars += line.length + 1;
    if (block.chars > MAX_LINE_CHARS) {
      out.malformed.push(malformed('too_long', block.lines[0] ?? '', block.offset));
      this.block = null;
      return;
    }
    scanDepth(block, line);
    if (block.depth > 0) return;
    this.block = null;
    let text = block.lines.join('\n').trimEnd();
    if (text.endsWith(',')) text = text.slice(0, -1);
    const first = block.lines[0] ?? '';
    const blockCtx: SudoJsonContext = { ...ctx, line: first, offset: block.offset };
    const parsed = parseJsonObjectLine(`{${text}}`);
    if (!parsed.ok) {
      out.malformed.push(malformed(parsed.reason, first, block.offset, parsed.detail));
      return;
    }
    // The key is the block's own text, so the same event always hashes the same.
    sudoObjectToOutput(parsed.value, { ...blockCtx, line: text }, out);
  }
}

/** Tracks brace depth across lines, ignoring braces inside JSON strings. */
function scanDepth(block: Block, line: string): void {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (block.inString) {
      if (block.escaped) block.escaped = false;
      else if (c === 0x5c) block.escaped = true;
      else if (c === 0x22) block.inString = false;
    } else if (c === 0x22) {
      block.inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      block.depth++;
    } else if (c === 0x7d || c === 0x5d) {
      block.depth--;
    }
  }
}
