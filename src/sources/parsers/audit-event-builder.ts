/** Assembly of one kernel exec event (SYSCALL, EXECVE, CWD, PATH, PROCTITLE) into a CommandEvent. */
import type { CommandEvent } from '../command-event.js';
import { commandLine } from '../command-event.js';
import { isAscii } from 'node:buffer';
import { UNSET_ID, decodeField } from './decode-field.js';
import type { ExecVerdict } from './exec-verdict.js';
import { ExecveArgs } from './execve-args.js';
import { bytesStartWith, decodeFieldAt, fieldValueAt, textAt, wordEnd } from './field-bytes.js';
import type { RecordProblem } from './parse-support.js';
import { CWD, EXECVE, PATH, PROCTITLE, SYSCALL, kernelKind } from './record-kind.js';
import { NO_SYSCALL, readSyscallAt, type SyscallFacts } from './syscall-record.js';
import type { UidNamer } from './uid-namer.js';

/** What the syscall-side records of one kernel event contributed. */
export interface EventContext {
  host: string;
  id: string;
  time: Date;
  sourceFormat: string;
  names: UidNamer;
}

/**
 * Accumulates the records of one kernel event (SYSCALL, EXECVE, CWD, PATH, PROCTITLE) and turns
 * them into a CommandEvent when the event is an exec. Records of other types are not stored.
 */
export class AuditEventBuilder {
  /** The SYSCALL record's fields, once it has come. */
  syscall: SyscallFacts | null = null;
  verdict: ExecVerdict = 'unknown';
  args: ExecveArgs | null = null;
  cwd: string | null = null;
  /** Raw PROCTITLE value, decoded only when there is no EXECVE to take argv from. */
  proctitle: string | null = null;
  /** Raw PATH item 0 name: the program a failed execve tried to run (no EXECVE record then). */
  path0: string | null = null;

  /**
   * Adds one record given as text (go-audit's messages): `line[start, rawEnd)` raw fields and
   * `[rawEnd + 1, line.length)` ENRICHED ones. See addRecordAt.
   */
  addRecord(type: string, line: string, start: number, rawEnd: number): RecordProblem | null {
    const kind = kernelKind(type);
    if (kind === null) return null;
    const bytes = Buffer.from(line.slice(start), 'utf8');
    const raw = rawEnd >= line.length ? bytes.length : Buffer.byteLength(line.slice(start, rawEnd));
    return this.addRecordAt(kind, bytes, 0, raw, bytes.length, !isAscii(bytes));
  }

  /**
   * Adds one record of a kernel kind (record-kind.ts) read as bytes: raw fields `bytes[start,
   * rawEnd)`, ENRICHED ones after the separator at `rawEnd` up to `end`; `utf8` when the line
   * holds non-ASCII bytes. Returns what was wrong with a damaged record (the rest still counts).
   */
  addRecordAt(kind: number, bytes: Buffer, start: number, rawEnd: number, end: number, utf8: boolean): RecordProblem | null {
    switch (kind) {
      case SYSCALL:
        return this.addSyscall(readSyscallAt(bytes, start, rawEnd, end, utf8));
      case EXECVE:
        this.args ??= new ExecveArgs();
        return this.args.addRecordAt(bytes, start, rawEnd, utf8);
      case CWD: {
        // One CWD record per event, like SYSCALL: a second (a damaged or repeated line) is ignored.
        if (this.cwd !== null) return SECOND_CWD_IGNORED;
        const at = fieldValueAt(bytes, start, rawEnd, 'cwd=');
        if (at < 0) return null;
        const cwd = decodeFieldAt(bytes, at, wordEnd(bytes, at, rawEnd), utf8);
        if (cwd === undefined) return BAD_HEX;
        this.cwd = cwd;
        return null;
      }
      case PATH:
        this.addPath(bytes, start, rawEnd, utf8);
        return null;
      case PROCTITLE: {
        const at = fieldValueAt(bytes, start, rawEnd, 'proctitle=');
        this.proctitle = at < 0 ? null : textAt(bytes, at, wordEnd(bytes, at, rawEnd), utf8);
        return null;
      }
      default:
        return null;
    }
  }

  /**
   * The kernel writes one SYSCALL record per event, always with auid, uid and euid. One without
   * them was cut short: it is used, and counted, since the command still ran. A second SYSCALL
   * record (a damaged or repeated line) never replaces a whole first one, so it cannot take the
   * user away; it only stands in for a first one that was cut short.
   */
  private addSyscall(facts: SyscallFacts): RecordProblem | null {
    const missing = missingIds(facts);
    const held = this.syscall;
    if (held !== null) {
      if (missingIds(held) === null || missing !== null) return SECOND_SYSCALL_IGNORED;
      this.syscall = facts;
      this.verdict = facts.verdict;
      return SECOND_SYSCALL_USED;
    }
    this.syscall = facts;
    this.verdict = facts.verdict;
    if (missing === null) return null;
    return { reason: 'bad_field', detail: `kept without: the SYSCALL record's ${missing} (cut short?)` };
  }

  private addPath(bytes: Buffer, start: number, rawEnd: number, utf8: boolean): void {
    if (this.path0 !== null) return;
    const item = fieldValueAt(bytes, start, rawEnd, 'item=');
    if (item < 0 || wordEnd(bytes, item, rawEnd) !== item + 1 || !bytesStartWith(bytes, item, rawEnd, '0')) return;
    const name = fieldValueAt(bytes, start, rawEnd, 'name=');
    this.path0 = name < 0 ? null : textAt(bytes, name, wordEnd(bytes, name, rawEnd), utf8);
  }

  /** True once an EXECVE record gave arguments. */
  get hasArgs(): boolean {
    return this.args !== null && this.args.hasAny;
  }

  /** True when the records seen so far make this an exec (SYSCALL says so, or there are arguments). */
  get isExec(): boolean {
    return this.verdict === 'exec' || (this.args !== null && this.args.hasAny);
  }

  /** The command this event describes, or null when it is not an exec. */
  build(ctx: EventContext): CommandEvent | null {
    if (!this.isExec) return null;
    const f = this.syscall ?? NO_SYSCALL;
    const loginUid = f.auid === null || f.auid === UNSET_ID ? null : f.auid;
    const uid = f.uid;
    const euid = f.euid ?? uid;
    const euidName = f.EUID ?? (euid === uid ? f.UID : undefined);
    const exe = f.exe;
    const { argv, complete } = this.argv(exe);
    const event: CommandEvent = {
      time: ctx.time,
      host: ctx.host,
      user: loginUid === null ? null : ctx.names(loginUid, f.AUID),
      loginUid,
      runAs: euid === null ? null : ctx.names(euid, euidName),
      argv,
      command: commandLine(argv),
      exe,
      cwd: this.cwd,
      pid: f.pid,
      ppid: f.ppid,
      sourceFormat: ctx.sourceFormat,
      eventKey: `${ctx.host}:${ctx.id}`,
    };
    if (f.success !== undefined) event.success = f.success;
    const extra = this.extra(f, complete);
    if (extra) event.extra = extra;
    return event;
  }

  private argv(exe: string | null): { argv: string[]; complete: boolean } {
    if (this.args && this.args.hasAny) return this.args.assemble();
    // No EXECVE record: the execve failed before the kernel copied the arguments. The program it
    // tried is PATH item 0; PROCTITLE would be the caller's own title, so it comes last.
    const path0 = this.path0 === null ? null : decodeField(this.path0);
    if (path0) return { argv: [path0], complete: false };
    // An exec that failed ran nothing: its title and exe are still the caller's (an execveat of a
    // file descriptor names no path), so the program it tried is unknown rather than the caller.
    if (this.syscall?.success === false) return { argv: [], complete: false };
    const title = this.proctitle === null ? null : decodeField(this.proctitle);
    if (title) {
      const words = title.split('\0');
      while (words.length > 1 && words[words.length - 1] === '') words.pop();
      return { argv: words, complete: false };
    }
    return { argv: exe ? [exe] : [], complete: false };
  }

  private extra(f: SyscallFacts, complete: boolean): Record<string, string> | undefined {
    let extra: Record<string, string> | undefined;
    if (f.tty !== null) (extra ??= {}).tty = f.tty;
    if (f.ses !== null && f.ses !== UNSET_ID) (extra ??= {}).ses = String(f.ses);
    if (f.key) (extra ??= {}).key = f.key;
    if (!complete && this.args?.hasAny) (extra ??= {}).truncated = 'true';
    return extra;
  }
}

const BAD_HEX: RecordProblem = Object.freeze({ reason: 'bad_hex' });

const SECOND_SYSCALL_IGNORED: RecordProblem = Object.freeze({
  reason: 'duplicate_record',
  detail: 'a second SYSCALL record for the event: ignored, the first is kept',
});

const SECOND_CWD_IGNORED: RecordProblem = Object.freeze({
  reason: 'duplicate_record',
  detail: 'a second CWD record for the event: ignored, the first is kept',
});

const SECOND_SYSCALL_USED: RecordProblem = Object.freeze({
  reason: 'duplicate_record',
  detail: 'a second SYSCALL record for the event: used in place of the first, which was cut short',
});

/** The ids a SYSCALL record lacks (absent, or not a number), as `auid and uid`; null when it has all three. */
function missingIds(facts: SyscallFacts): string | null {
  if (facts.auid !== null && facts.uid !== null && facts.euid !== null) return null;
  const names: string[] = [];
  if (facts.auid === null) names.push('auid');
  if (facts.uid === null) names.push('uid');
  if (facts.euid === null) names.push('euid');
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
}
