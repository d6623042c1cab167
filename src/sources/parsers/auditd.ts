/**
 * The auditd log parser: raw and ENRICHED `audit.log` lines, with or without `node=` prefixes,
 * reassembled into one CommandEvent per exec.
 */
import type { CommandEvent } from '../command-event.js';
import type { LogParser, Malformed, MalformedReason, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import {
  AuditEventBuilder,
  MAX_RECORD_CHARS,
  SudoCorrelator,
  type RecordHeader,
  type UidNamer,
  execVerdict,
  parseAuditId,
  parseRecordHeader,
  parseUserCmd,
  rawEndOf,
  uidNamer,
} from './audit-record.js';

/** Default for ParserOptions.eventTimeoutMs (go-audit waits the same 2 s). */
export const DEFAULT_EVENT_TIMEOUT_MS = 2000;

/** Default cap on events held at once; past it the oldest is closed early. */
export const DEFAULT_MAX_PENDING_EVENTS = 10_000;

/** Options of the auditd parser beyond the shared ParserOptions. */
export interface AuditdParserOptions extends ParserOptions {
  /**
   * Most events held open at once (default 10,000). When a new one would pass the cap, the oldest
   * is closed: emitted if it is an exec, otherwise reported as `incomplete_event`.
   */
  maxPendingEvents?: number;
}

/** An event whose terminator (EOE) has not been seen yet. */
interface PendingEvent {
  builder: AuditEventBuilder;
  host: string;
  id: string;
  time: Date;
  /** Offset of its first line: the checkpoint may not pass it while the event is held. */
  firstOffset: number;
  /** The `now` of its first line; the timeout counts from here. */
  arrivedAt: number;
}

/** Kernel record types an exec event is built from; every other type is skipped unparsed. */
const KERNEL_TYPES = new Set(['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE']);

/** First bytes of a bad line, kept for the log. */
const SAMPLE_CHARS = 160;

/**
 * Creates a parser for auditd logs (format `auditd`).
 *
 * Records are grouped by (host, event id); events close at their EOE record or, when none comes
 * (a lost EOE, logs written without one), once `eventTimeoutMs` has passed since their first line
 * by the `now` given to push(). Only exec events are kept in memory: records of other syscalls are
 * recognised from the `arch`/`syscall` fields and skipped without building anything. sudo's
 * USER_CMD is tied to the execve it caused (see SudoCorrelator). Never throws.
 */
export function createAuditdParser(options: AuditdParserOptions): LogParser {
  return new AuditdParser(options);
}

class AuditdParser implements LogParser {
  readonly format = 'auditd';
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly pending = new Map<string, PendingEvent>();
  /** Events not worth holding (not execs) or already emitted, to skip their remaining records. */
  private readonly skipped = new Map<string, number>();
  private readonly sudo: SudoCorrelator;
  private readonly namers = new Map<string, UidNamer>();
  /** Earliest `now` at which anything held can time out; avoids scanning on every line. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(private readonly options: AuditdParserOptions) {
    this.timeoutMs = Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS);
    this.maxPending = Math.max(1, options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS);
    this.sudo = new SudoCorrelator(this.timeoutMs, this.maxPending);
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    const out = emptyOutput();
    const nowMs = now.getTime();
    try {
      if (nowMs >= this.nextExpiry) this.expire(nowMs, out);
      this.handle(line, offset, nowMs, out);
    } catch {
      // Defence in depth: a parser bug must cost one line, never the stream.
      out.malformed.push(malformed('unrecognized', line, offset));
    }
    return out;
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    for (const ev of this.pending.values()) this.emit(ev, out, true);
    this.pending.clear();
    this.skipped.clear();
    for (const event of this.sudo.flush()) out.events.push(event);
    this.nextExpiry = Number.POSITIVE_INFINITY;
    return out;
  }

  lowWaterMark(): number | null {
    let min = this.sudo.lowWaterMark();
    for (const ev of this.pending.values()) {
      if (min === null || ev.firstOffset < min) min = ev.firstOffset;
    }
    return min;
  }

  private handle(line: string, offset: number, nowMs: number, out: ParseOutput): void {
    const first = line.charCodeAt(0);
    // Records start with `type=` or `node=`; only other lines need the blank-line check.
    if (first !== 116 && first !== 110 && line.trim() === '') return;
    if (line.length > MAX_RECORD_CHARS) {
      out.malformed.push(malformed('too_long', line, offset));
      return;
    }
    const header = parseRecordHeader(line);
    if (typeof header === 'string') {
      out.malformed.push(malformed(header, line, offset));
      return;
    }
    const type = header.type;
    const kernel = KERNEL_TYPES.has(type);
    if (!kernel && type !== 'USER_CMD' && type !== 'EOE') return;
    const host = header.node || this.options.defaultHost;
    // Lines without node= (a local file) are keyed by the bare id, saving a string build per line.
    const key = header.node ? `${header.node}\u0001${header.id}` : header.id;
    if (type === 'EOE') {
      this.endEvent(key, out);
      return;
    }
    // The raw fields are ASCII by construction (anything else is hex); a replacement character
    // there means the line was damaged on its way to us.
    const rawEnd = rawEndOf(line, header.bodyStart);
    const bad = line.indexOf('\ufffd');
    if (bad >= 0 && bad < rawEnd) {
      out.malformed.push(malformed('invalid_utf8', line, offset));
      return;
    }
    if (kernel) this.kernelRecord(header, rawEnd, host, key, line, offset, nowMs, out);
    else this.userCmd(header, rawEnd, host, line, offset, nowMs, out);
  }

  private kernelRecord(
    header: RecordHeader,
    rawEnd: number,
    host: string,
    key: string,
    line: string,
    offset: number,
    nowMs: number,
    out: ParseOutput,
  ): void {
    let ev = this.pending.get(key);
    if (!ev) {
      if (this.skipped.has(key)) return;
      // PATH records only matter for an exec already under way.
      if (header.type === 'PATH') return;
      if (header.type === 'SYSCALL' && execVerdict(line, header.bodyStart, rawEnd) === 'other') {
        this.skip(key, nowMs);
        return;
      }
      const parsed = parseAuditId(header.id);
      if (!parsed) {
        out.malformed.push(malformed('unrecognized', line, offset));
        return;
      }
      if (this.pending.size >= this.maxPending) this.evictOldest(out, nowMs);
      ev = { builder: new AuditEventBuilder(), host, id: header.id, time: parsed.time, firstOffset: offset, arrivedAt: nowMs };
      this.pending.set(key, ev);
      this.nextExpiry = Math.min(this.nextExpiry, nowMs + this.timeoutMs);
    }
    const problem = ev.builder.addRecord(header.type, line, header.bodyStart, rawEnd);
    if (problem) out.malformed.push(malformed(problem, line, offset));
    if (header.type === 'SYSCALL' && ev.builder.verdict === 'other' && !ev.builder.isExec) {
      this.pending.delete(key);
      this.skip(key, nowMs);
    }
  }

  private userCmd(
    header: RecordHeader,
    rawEnd: number,
    host: string,
    line: string,
    offset: number,
    nowMs: number,
    out: ParseOutput,
  ): void {
    const record = parseUserCmd(line, header.bodyStart, rawEnd);
    const parsed = parseAuditId(header.id);
    if (typeof record === 'string' || !parsed) {
      out.malformed.push(malformed(typeof record === 'string' ? record : 'unrecognized', line, offset));
      return;
    }
    const ctx = { host, id: header.id, time: parsed.time, sourceFormat: this.format, names: this.namer(host), offset, nowMs };
    for (const event of this.sudo.add(record, ctx)) out.events.push(event);
    this.nextExpiry = Math.min(this.nextExpiry, nowMs + this.timeoutMs);
  }

  private endEvent(key: string, out: ParseOutput): void {
    this.skipped.delete(key);
    const ev = this.pending.get(key);
    if (!ev) return;
    this.pending.delete(key);
    this.emit(ev, out, false);
  }

  /** Closes events, skip marks and USER_CMDs older than the timeout. */
  private expire(nowMs: number, out: ParseOutput): void {
    for (const [key, ev] of this.pending) {
      if (nowMs - ev.arrivedAt < this.timeoutMs) break;
      this.pending.delete(key);
      this.skip(key, nowMs);
      this.emit(ev, out, true);
    }
    for (const [key, at] of this.skipped) {
      if (nowMs - at < this.timeoutMs) break;
      this.skipped.delete(key);
    }
    for (const event of this.sudo.expire(nowMs)) out.events.push(event);
    this.nextExpiry = this.earliestExpiry();
  }

  private earliestExpiry(): number {
    let earliest = Number.POSITIVE_INFINITY;
    const first = this.pending.values().next();
    if (!first.done) earliest = first.value.arrivedAt;
    const skip = this.skipped.values().next();
    if (!skip.done) earliest = Math.min(earliest, skip.value);
    return Math.min(earliest + this.timeoutMs, this.sudo.nextExpiry());
  }

  private evictOldest(out: ParseOutput, nowMs: number): void {
    const first = this.pending.entries().next();
    if (first.done) return;
    const [key, ev] = first.value;
    this.pending.delete(key);
    this.skip(key, nowMs);
    this.emit(ev, out, true);
  }

  /** Remembers an event whose further records are to be ignored, within a bounded map. */
  private skip(key: string, at: number): void {
    this.skipped.set(key, at);
    if (this.skipped.size > this.maxPending * 4) {
      const oldest = this.skipped.keys().next();
      if (!oldest.done) this.skipped.delete(oldest.value);
    }
    this.nextExpiry = Math.min(this.nextExpiry, at + this.timeoutMs);
  }

  /**
   * Turns a closed event into a command. `early` marks a close without EOE: an event that never
   * got its SYSCALL record (lost, or pushed out) is then reported as incomplete.
   */
  private emit(ev: PendingEvent, out: ParseOutput, early: boolean): void {
    const event: CommandEvent | null = ev.builder.build({
      host: ev.host,
      id: ev.id,
      time: ev.time,
      sourceFormat: this.format,
      names: this.namer(ev.host),
    });
    if (event) {
      this.sudo.claim(event);
      out.events.push(event);
    } else if (early && ev.builder.syscall === null) {
      out.malformed.push({ reason: 'incomplete_event', sample: `${ev.host}:${ev.id}`, offset: ev.firstOffset });
    }
  }

  private namer(host: string): UidNamer {
    let namer = this.namers.get(host);
    if (!namer) {
      // Bounded: a forged log naming a million hosts must not grow this forever.
      if (this.namers.size >= 10_000) this.namers.clear();
      namer = uidNamer(host, this.options.resolveUid);
      this.namers.set(host, namer);
    }
    return namer;
  }
}

function malformed(reason: MalformedReason, line: string, offset: number): Malformed {
  return { reason, sample: line.slice(0, SAMPLE_CHARS), offset };
}
