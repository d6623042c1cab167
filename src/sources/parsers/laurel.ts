/**
 * The laurel parser: one JSON object per audit event, as written by the laurel auditd plugin.
 *
 * ```json
 * {"ID":"1626611363.720:348501","NODE":"web1","SYSCALL":{"arch":"0xc000003e","syscall":59,
 *  "success":"yes","ppid":722076,"pid":724395,"auid":1000,"uid":0,"euid":0,"tty":"pts3","ses":3,
 *  "exe":"/usr/bin/perl","key":null,"AUID":"alice","UID":"root","EUID":"root"},
 *  "EXECVE":{"argc":3,"ARGV":["perl","-e","..."]},"CWD":{"cwd":"/root"},"PROCTITLE":{"ARGV":["perl"]}}
 * ```
 * laurel percent-encodes bytes that are not printable ASCII or valid UTF-8, and `%` and `+`,
 * in every string; they are decoded here.
 */
import type { CommandEvent } from '../command-event.js';
import { commandLine } from '../command-event.js';
import type { LogParser, MalformedReason, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import { DEFAULT_EVENT_TIMEOUT_MS, DEFAULT_MAX_PENDING_EVENTS } from './auditd.js';
import { FieldDamage, asJsonObject, malformed, wellFormed, type JsonObject } from './parse-support.js';
import { UNSET_ID } from './decode-field.js';
import { execVerdictFor } from './exec-verdict.js';
import { DEFAULT_MAX_RECORD_GAP, LogClock } from './log-clock.js';
import { parseUserCmd, type UserCmdRecord } from './parse-user-cmd.js';
import { ENRICHED_SEPARATOR, parseAuditId } from './record-header.js';
import { SudoCorrelator } from './sudo-correlator.js';
import { type UidNamer, uidNamer } from './uid-namer.js';



/**
 * Creates a parser for laurel JSON lines (format `laurel`). Every line is a whole event. Lines
 * that are not execs (no EXECVE and no exec syscall) nor sudo's USER_CMD are skipped silently.
 * A USER_CMD is tied to the execve it caused as the auditd parser ties it (SudoCorrelator): a
 * denial is emitted at once, and one no execve claims once it goes stale in the log (lines, or
 * log time), so lowWaterMark() reports the USER_CMD lines still waiting and flush() emits them.
 * `eventKey` is `host:ID`, the same key the auditd parser gives the event. Never throws.
 */
export function createLaurelParser(options: ParserOptions): LogParser {
  const format = 'laurel';
  // sudo's USER_CMD is an event of its own: tied to the execve it caused as in the auditd parser.
  const clock = new LogClock(DEFAULT_MAX_RECORD_GAP, Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS));
  const sudo = new SudoCorrelator(DEFAULT_MAX_PENDING_EVENTS);
  const namers = new Map<string, UidNamer>();
  const namer = (host: string): UidNamer => {
    let n = namers.get(host);
    if (!n) {
      if (namers.size >= 10_000) namers.clear();
      namers.set(host, (n = uidNamer(host, options.resolveUid)));
    }
    return n;
  };

  function parseLine(line: string, offset: number, out: ParseOutput): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.malformed.push(malformed('bad_json', line, offset));
      return;
    }
    const event = asJsonObject(value);
    const id = typeof event?.ID === 'string' ? event.ID : null;
    const parsed = id === null ? null : parseAuditId(id);
    if (!event || id === null || !parsed) {
      out.malformed.push(malformed('unrecognized', line, offset));
      return;
    }
    clock.observe(parsed.time.getTime());
    const host = typeof event.NODE === 'string' && event.NODE !== '' ? decodePercent(event.NODE) : options.defaultHost;
    const ctx = { host, id, time: parsed.time, names: namer(host), format };
    const userCmd = asJsonObject(event.USER_CMD);
    if (userCmd !== null) {
      const record = userCmdRecord(userCmd);
      if (typeof record === 'string') out.malformed.push(malformed(record, line, offset));
      else for (const denial of sudo.add(record, { ...ctx, sourceFormat: format, offset, at: clock.mark() })) out.events.push(denial);
      return;
    }
    const command = toCommand(event, ctx);
    if (!command) return;
    sudo.claim(command, ctx);
    out.events.push(command);
    // A NODE that is there but not a name: the exec is kept under the source's host, and the damage counted.
    if (event.NODE !== undefined && event.NODE !== null && typeof event.NODE !== 'string') {
      const damage = new FieldDamage();
      damage.leftOut('NODE must be a string; the source host was used');
      const report = damage.report(line, offset);
      if (report) out.malformed.push(report);
    }
  }

  return {
    format,
    push(line, offset) {
      const out = emptyOutput();
      try {
        clock.tick();
        for (const event of sudo.expire(clock)) out.events.push(event);
        parseLine(line, offset, out);
      } catch {
        out.malformed.push(malformed('unrecognized', line, offset));
      }
      return out;
    },
    flush() {
      return { events: sudo.flush(), malformed: [] };
    },
    lowWaterMark() {
      return sudo.lowWaterMark();
    },
  };
}

/**
 * sudo's USER_CMD as laurel writes it (`{"pid":..,"uid":..,"auid":..,"ses":..,"msg":"cwd=... cmd=...
 * terminal=... res=...","UID":..,"AUID":..}`), read by the auditd parser's own USER_CMD reader
 * from the record text those fields stand for, or why it cannot be.
 */
function userCmdRecord(record: JsonObject): UserCmdRecord | Extract<MalformedReason, 'bad_hex' | 'unrecognized'> {
  const msg = text(record.msg);
  if (msg === null) return 'unrecognized';
  const words = ['pid', 'uid', 'auid', 'ses'].flatMap((name) => {
    const value = num(record[name]);
    return value === null ? [] : [`${name}=${value}`];
  });
  const raw = `${words.join(' ')} msg='${msg}'`;
  const names = ['UID', 'AUID'].flatMap((name) => {
    const value = text(record[name]);
    return value === null ? [] : [`${name}="${value}"`];
  });
  return parseUserCmd(names.length > 0 ? `${raw}${ENRICHED_SEPARATOR}${names.join(' ')}` : raw, 0, raw.length);
}

interface LaurelContext {
  host: string;
  id: string;
  time: Date;
  names: UidNamer;
  format: string;
}

function toCommand(event: JsonObject, ctx: LaurelContext): CommandEvent | null {
  const syscall = asJsonObject(event.SYSCALL) ?? {};
  const execve = asJsonObject(event.EXECVE);
  const fromExecve = execve ? execveArgv(execve, event) : null;
  if (!fromExecve && !isExecSyscall(syscall)) return null;
  const exe = text(syscall.exe);
  const argv = fromExecve?.argv ?? fallbackArgv(event, exe);
  const auid = num(syscall.auid);
  const loginUid = auid === null || auid === UNSET_ID ? null : auid;
  const uid = num(syscall.uid);
  const euid = num(syscall.euid) ?? uid;
  const euidName = text(syscall.EUID) ?? (euid === uid ? text(syscall.UID) : null);
  const result: CommandEvent = {
    time: ctx.time,
    host: ctx.host,
    user: loginUid === null ? null : ctx.names(loginUid, text(syscall.AUID)),
    loginUid,
    runAs: euid === null ? null : ctx.names(euid, euidName),
    argv,
    command: commandLine(argv),
    exe,
    cwd: text(asJsonObject(event.CWD)?.cwd),
    pid: num(syscall.pid),
    ppid: num(syscall.ppid),
    sourceFormat: ctx.format,
    eventKey: `${ctx.host}:${ctx.id}`,
  };
  const success = syscall.success;
  if (success === 'yes' || success === 'no' || typeof success === 'boolean') {
    result.success = success === 'yes' || success === true;
  }
  const extra = extras(syscall, execve, fromExecve);
  if (extra) result.extra = extra;
  return result;
}

function isExecSyscall(syscall: JsonObject): boolean {
  if (syscall.SYSCALL === 'execve' || syscall.SYSCALL === 'execveat') return true;
  const arch = typeof syscall.arch === 'string' ? syscall.arch.toLowerCase().replace(/^0x/, '') : null;
  const nr = num(syscall.syscall);
  return arch !== null && nr !== null && execVerdictFor(arch, String(nr)) === 'exec';
}

/** The arguments an EXECVE object holds, and whether they are exactly the ones the program got. */
interface ExecveArgv {
  argv: string[];
  exact: boolean;
  /** Arguments laurel cut out of the middle (`execve-argv-limit-bytes`), 0 when none. */
  skippedArgs: number;
}

/**
 * The arguments of laurel's EXECVE: `ARGV` (`execve-argv = ["array"]`, the default) or, when only
 * `ARGV_STR` is there (`["string"]`), that string split at spaces. laurel joins the arguments with
 * single spaces, so the split is exact when it gives `argc` words; otherwise some argument held a
 * space, and the process title is used when it is those same arguments in full. The marker laurel
 * puts where it cut arguments out is dropped and counted. Null when neither field is there.
 */
function execveArgv(execve: JsonObject, event: JsonObject): ExecveArgv | null {
  if (Array.isArray(execve.ARGV)) return arrayArgv(execve.ARGV);
  const joined = execve.ARGV_STR;
  if (typeof joined !== 'string') return null;
  const argc = num(execve.argc);
  const { words, skippedArgs } = cutSkipMarker(joined.split(' '), argc);
  if (argc === null || words.length === argc - skippedArgs) {
    return { argv: words.map(decodePercent), exact: true, skippedArgs };
  }
  const title = asJsonObject(event.PROCTITLE)?.ARGV;
  if (Array.isArray(title) && title.length === argc && title.every((a) => typeof a === 'string')) {
    // Both are laurel's encoded text, so they compare as written.
    const argv = (title as string[]).join(' ') === joined ? title.map((a) => decodePercent(a as string)) : null;
    if (argv !== null) return { argv, exact: true, skippedArgs: 0 };
  }
  return { argv: words.map(decodePercent), exact: false, skippedArgs };
}

/** `ARGV`: strings, and where laurel cut arguments out, `{"skipped_args":N,"skipped_bytes":M}`. */
function arrayArgv(values: unknown[]): ExecveArgv {
  const argv: string[] = [];
  let skippedArgs = 0;
  for (const value of values) {
    const marker = asJsonObject(value);
    if (marker !== null) skippedArgs += num(marker.skipped_args) ?? 0;
    else argv.push(text(value) ?? '');
  }
  return { argv, exact: true, skippedArgs };
}

/**
 * Drops the first `<<< Skipped: args=N, bytes=M >>>` laurel wrote into ARGV_STR where it cut
 * arguments out. An argument can hold the same text, so it is taken as laurel's only when N is
 * no more than argc and the words left can still hold the arguments that were kept.
 */
function cutSkipMarker(words: string[], argc: number | null): { words: string[]; skippedArgs: number } {
  for (let i = words.indexOf('<<<'); i >= 0 && i + 4 < words.length; i = words.indexOf('<<<', i + 1)) {
    const count = /^args=(\d{1,9}),$/.exec(words[i + 2]!);
    const marker = words[i + 1] === 'Skipped:' && count !== null && /^bytes=\d{1,12}$/.test(words[i + 3]!) && words[i + 4] === '>>>';
    if (!marker) continue;
    const skippedArgs = Number(count[1]);
    const kept = [...words.slice(0, i), ...words.slice(i + 5)];
    if (argc !== null && (skippedArgs > argc || kept.length < argc - skippedArgs)) break;
    return { words: kept, skippedArgs };
  }
  return { words, skippedArgs: 0 };
}

/**
 * A failed execve has no EXECVE: the program tried is the PATH record with item 0 (laurel keeps the
 * records in the order they arrived, which need not be by item), else the process title.
 */
function fallbackArgv(event: JsonObject, exe: string | null): string[] {
  const paths = Array.isArray(event.PATH) ? event.PATH : [];
  const program = paths.map(asJsonObject).find((path) => path !== null && num(path.item) === 0);
  const name = text(program?.name);
  if (name) return [name];
  const title = asJsonObject(event.PROCTITLE);
  if (title && Array.isArray(title.ARGV)) return title.ARGV.map((a) => text(a) ?? '');
  return exe ? [exe] : [];
}

/**
 * Extras kept from the event: tty, session, audit key; `truncated` when laurel cut arguments out
 * (`execve-argv-limit-bytes`, with `skipped_args` saying how many), and `argv_inexact` when ARGV_STR could not be split back into the
 * arguments exactly (the command line is still exact).
 */
function extras(syscall: JsonObject, execve: JsonObject | null, fromExecve: ExecveArgv | null): Record<string, string> | undefined {
  const extra: Record<string, string> = {};
  const tty = text(syscall.tty);
  if (tty && tty !== '(none)') extra.tty = tty;
  const ses = num(syscall.ses);
  if (ses !== null && ses !== UNSET_ID) extra.ses = String(ses);
  const key = Array.isArray(syscall.key) ? syscall.key.map((k) => text(k) ?? '').join(',') : text(syscall.key);
  if (key) extra.key = key;
  const argc = num(execve?.argc);
  if (fromExecve && !fromExecve.exact) extra.argv_inexact = 'true';
  if (fromExecve && fromExecve.skippedArgs > 0) {
    extra.truncated = 'true';
    extra.skipped_args = String(fromExecve.skippedArgs);
  } else if (fromExecve?.exact && argc !== null && argc !== fromExecve.argv.length) {
    extra.truncated = 'true';
  }
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/** A decoded string value, or null for anything that is not a string or number. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return decodePercent(value);
  if (typeof value === 'number') return String(value);
  return null;
}

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

/**
 * Undoes laurel's percent-encoding: `%XX` are raw bytes, everything else is UTF-8 text; the bytes
 * are joined and decoded together so a sequence split by encoding comes out whole. A `%` not
 * followed by two hex digits is kept as is. The result is always well-formed UTF-16.
 */
export function decodePercent(value: string): string {
  // JSON may hold lone surrogates (`"\ud800"`), which neither Postgres nor strict JSON readers take.
  if (value.indexOf('%') < 0) return wellFormed(value);
  const parts: Buffer[] = [];
  let runStart = 0;
  let i = value.indexOf('%');
  while (i >= 0) {
    if (isHexDigit(value.charCodeAt(i + 1)) && isHexDigit(value.charCodeAt(i + 2))) {
      if (i > runStart) parts.push(Buffer.from(value.slice(runStart, i), 'utf8'));
      parts.push(Buffer.from([parseInt(value.slice(i + 1, i + 3), 16)]));
      runStart = i + 3;
      i = value.indexOf('%', runStart);
    } else {
      i = value.indexOf('%', i + 1);
    }
  }
  if (runStart < value.length) parts.push(Buffer.from(value.slice(runStart), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}


