/** Ties sudo's USER_CMD records to the execve they caused, so one sudo command is one event. */
import type { CommandEvent } from '../command-event.js';
import { commandLine } from '../command-event.js';
import type { EventContext } from './audit-event-builder.js';
import { UNSET_ID } from './decode-field.js';
import type { LogClock, LogMark } from './log-clock.js';
import type { UserCmdRecord } from './parse-user-cmd.js';
import type { Attribution } from '../provenance.js';

/** How close in log time sudo's two records of one denial are (they share the millisecond in practice). */
const REPEATED_DENIAL_MS = 1000;
/** Hosts whose last denial is remembered at once. */
const MAX_DENIAL_HOSTS = 10_000;

/** A sudo USER_CMD waiting for the execve it launched. */
interface PendingSudo {
  host: string;
  record: UserCmdRecord;
  /** What its event is made from if no execve claims it: made only then, since most are claimed. */
  ctx: UserCmdContext;
  offset: number;
  /** Where in the log it came: it waits until that goes stale (or, held, until what holds it does). */
  at: LogMark;
  /** The record number it came at, which `at` may have moved past (see expire). */
  cameAt: number;
  /** The login uid and session an execve of the same actor has, worked out once (see sameActor). */
  loginUid: number | null;
  ses: string | undefined;
}

/**
 * The mark of an exec event still being assembled on `host`, opened after record `after`, that
 * may yet be the execve of a USER_CMD of that login uid and session; undefined when there is none.
 */
export type SudoClaimant = (host: string, after: number, loginUid: number | null, ses: string | undefined) => LogMark | undefined;

/** Everything needed to turn a USER_CMD record into a CommandEvent. */
export interface UserCmdContext extends EventContext {
  offset: number;
  /** The log position of the USER_CMD record. */
  at: LogMark;
  /** Where the record came from is weaker than the audit socket (go-audit through syslog). */
  attribution?: Attribution;
}

/**
 * Ties sudo's USER_CMD records to the execve they caused, so one sudo command is one event.
 *
 * sudo writes USER_CMD (its own serial) before it executes the command; the execve follows, run
 * by sudo's child (ppid = the USER_CMD pid) or, with `use_pty`, by a grandchild, which is matched
 * by session, login uid and the command text instead. A claimed USER_CMD is dropped and the
 * execve is marked `extra.via = 'sudo'`. A USER_CMD nobody claims before it goes stale in the
 * log (see LogClock: a record gap, or log time; hosts that do not audit execve) is emitted on its
 * own, argv split from `cmd`. A denial (`res=failed`) is emitted at once with `sudoDenied: true`,
 * since no execve will follow.
 */
export class SudoCorrelator {
  private readonly pending: PendingSudo[] = [];
  /** The last denial per host, to know sudo's second record of it (see add). */
  private readonly lastDenials = new Map<string, { key: string; timeMs: number }>();

  /** @param cap most USER_CMDs waiting at once; past it the oldest is emitted on its own */
  constructor(private readonly cap: number) {}

  /** Takes one USER_CMD; returns the events to emit now (a denial, or records pushed out by the cap). */
  add(record: UserCmdRecord, ctx: UserCmdContext): CommandEvent[] {
    if (!record.success) return this.isRepeatedDenial(record, ctx) ? [] : [userCmdEvent(record, ctx)];
    const loginUid = loginUidOf(record.auid);
    const ses = sessionOf(record.ses);
    this.pending.push({ host: ctx.host, record, ctx, offset: ctx.offset, at: ctx.at, cameAt: ctx.at.record, loginUid, ses });
    const out: CommandEvent[] = [];
    while (this.pending.length > this.cap) out.push(unclaimedEvent(this.pending.shift()!));
    return out;
  }

  /**
   * True for the second record of one denial: sudo 1.9 writes a refused command's USER_CMD twice
   * (consecutive serials, the same pid, text and time), and one sudo process refuses once. A
   * record of the same pid and text within REPEATED_DENIAL_MS is that one denial again.
   */
  private isRepeatedDenial(record: UserCmdRecord, ctx: UserCmdContext): boolean {
    if (record.pid === null) return false;
    const key = `${record.pid}\u0000${record.auid ?? ''}\u0000${record.cwd ?? ''}\u0000${record.cmd}`;
    const timeMs = ctx.time.getTime();
    const last = this.lastDenials.get(ctx.host);
    const repeated = last !== undefined && last.key === key && Math.abs(timeMs - last.timeMs) <= REPEATED_DENIAL_MS;
    // Bounded: a forged log naming a million hosts must not grow this forever.
    if (this.lastDenials.size >= MAX_DENIAL_HOSTS && last === undefined) this.lastDenials.clear();
    this.lastDenials.set(ctx.host, { key, timeMs });
    return repeated;
  }

  /**
   * Marks `event` as run via sudo and forgets the USER_CMD it came from, if one matches. `stamp`
   * is the exec's own event id and time: sudo writes USER_CMD before it runs the command, so an
   * exec stamped before a USER_CMD is not its command (`exec sudo cmd $(python3 ...)`: python3
   * ran first, as a child of the pid sudo was then exec'd in).
   */
  claim(event: CommandEvent, stamp: AuditStamp): boolean {
    const pending = this.pending;
    if (pending.length === 0) return false;
    let index = -1;
    for (let i = 0; i < pending.length && index < 0; i++) if (sameActor(pending[i]!, event) && event.ppid === pending[i]!.record.pid && cameAfter(stamp, pending[i]!.ctx)) index = i;
    for (let i = 0; i < pending.length && index < 0; i++) if (sameActor(pending[i]!, event) && commandMatches(pending[i]!.record, event) && cameAfter(stamp, pending[i]!.ctx)) index = i;
    if (index < 0) return false;
    this.pending.splice(index, 1);
    event.extra = { ...event.extra, via: 'sudo' };
    return true;
  }

  /**
   * Emits the USER_CMDs gone stale by `clock` without a matching execve. They wait in log order,
   * so the stale ones are at the front. `holder` names an exec still being assembled that may yet
   * claim one (its execve came after it, but the event has not closed: a log without EOE records
   * closes it by the same staleness rule, a few records later); such a USER_CMD waits on until
   * that event's own mark goes stale, so one sudo command never becomes two events.
   */
  expire(clock: LogClock, holder?: SudoClaimant): CommandEvent[] {
    const out: CommandEvent[] = [];
    while (this.pending.length > 0 && clock.isStale(this.pending[0]!.at)) {
      const p = this.pending[0]!;
      const hold = holder?.(p.host, p.cameAt, p.loginUid, p.ses);
      if (hold) {
        p.at = { record: hold.record, logMs: hold.logMs };
        // Behind a held one the rest wait too: a little later, never earlier.
        break;
      }
      out.push(unclaimedEvent(this.pending.shift()!));
    }
    return out;
  }

  /** Emits every USER_CMD still waiting. */
  flush(): CommandEvent[] {
    return this.pending.splice(0).map(unclaimedEvent);
  }

  /** The log position of the oldest waiting USER_CMD, the first to go stale; undefined when none waits. */
  oldestMark(): LogMark | undefined {
    return this.pending[0]?.at;
  }

  /** Offset of the oldest waiting USER_CMD line, or null. */
  lowWaterMark(): number | null {
    let min: number | null = null;
    for (const p of this.pending) if (min === null || p.offset < min) min = p.offset;
    return min;
  }
}

/** An audit `auid` as a login uid: null when absent or unset (no login behind the process). */
export function loginUidOf(auid: number | null): number | null {
  return auid === null || auid === UNSET_ID ? null : auid;
}

/** An audit `ses` as events carry it (`extra.ses`): undefined when absent or unset. */
export function sessionOf(ses: number | null): string | undefined {
  return ses === null || ses === UNSET_ID ? undefined : String(ses);
}

/** True when `event` ran on the USER_CMD's host, in its login session, and is not sudo itself. */
function sameActor(p: PendingSudo, event: CommandEvent): boolean {
  return p.host === event.host && p.loginUid === event.loginUid && p.ses === event.extra?.ses && event.pid !== p.record.pid;
}

/** The event of a USER_CMD no execve claimed. */
function unclaimedEvent(p: PendingSudo): CommandEvent {
  return userCmdEvent(p.record, p.ctx);
}

/** An audit event's id (`SECONDS.MILLIS:SERIAL`) and its time: where it stands among its host's events. */
export interface AuditStamp {
  id: string;
  time: Date;
}

/**
 * Whether the exec stamped `exec` came after the USER_CMD stamped `cmd` on its host: a later time,
 * or the same millisecond and a later serial (the kernel numbers a host's events in order). When
 * either serial is not a number, the time alone decides.
 */
function cameAfter(exec: AuditStamp, cmd: AuditStamp): boolean {
  const execMs = exec.time.getTime();
  const cmdMs = cmd.time.getTime();
  if (execMs !== cmdMs) return execMs > cmdMs;
  const execSerial = serialOf(exec.id);
  const cmdSerial = serialOf(cmd.id);
  return Number.isNaN(execSerial) || Number.isNaN(cmdSerial) || execSerial > cmdSerial;
}

/** The serial after the colon of an audit id, or NaN. */
function serialOf(id: string): number {
  const colon = id.lastIndexOf(':');
  const digits = id.slice(colon + 1);
  return colon >= 0 && /^\d{1,15}$/.test(digits) ? Number(digits) : Number.NaN;
}

/**
 * Whether the USER_CMD's `cmd` is the exec's command line. A `cmd` libaudit cut at its limit is
 * the start of it (a character cut in two there is left out).
 */
function commandMatches(record: UserCmdRecord, event: CommandEvent): boolean {
  if (record.cmdCut) {
    let end = record.cmd.length;
    while (end > 0 && record.cmd.charCodeAt(end - 1) === 0xfffd) end -= 1;
    const start = record.cmd.slice(0, end);
    return event.command.startsWith(start) || (event.exe !== null && commandLine([event.exe, ...event.argv.slice(1)]).startsWith(start));
  }
  if (record.cmd === event.command) return true;
  return event.exe !== null && record.cmd === commandLine([event.exe, ...event.argv.slice(1)]);
}

/** The event a USER_CMD stands for when no execve claims it, or when sudo denied it. */
function userCmdEvent(record: UserCmdRecord, ctx: UserCmdContext): CommandEvent {
  const loginUid = loginUidOf(record.auid);
  // sudo joins argv with single spaces, so the argument boundaries are gone; split on spaces.
  const argv = record.cmd.split(' ').filter((word) => word !== '');
  const extra: Record<string, string> = { via: 'sudo' };
  // The split is a best reading: an argument that held a space, or was empty, is not told apart.
  if (record.cmd.includes(' ')) extra.argv_inexact = 'true';
  if (record.cmdCut) extra.truncated = 'true';
  if (record.terminal) extra.tty = record.terminal;
  if (record.ses !== null && record.ses !== UNSET_ID) extra.ses = String(record.ses);
  const event: CommandEvent = {
    time: ctx.time,
    host: ctx.host,
    user: loginUid === null ? null : ctx.names(loginUid, record.auidName),
    loginUid,
    runAs: null,
    argv,
    command: commandLine(argv),
    exe: null,
    cwd: record.cwd,
    pid: record.pid,
    ppid: null,
    sourceFormat: ctx.sourceFormat,
    eventKey: `${ctx.host}:${ctx.id}`,
    success: record.success,
    extra,
    // The audit socket's, unless the record came a weaker way.
    attribution: ctx.attribution ?? 'audit-userspace',
  };
  if (!record.success) event.sudoDenied = true;
  return event;
}
