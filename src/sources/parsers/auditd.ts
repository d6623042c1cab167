/**
 * The auditd log parser: raw and ENRICHED `audit.log` lines, with or without `node=` prefixes,
 * reassembled into one CommandEvent per exec.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { CommandEvent } from '../command-event.js';
import { lineEnd, type LineBlock } from '../line-block.js';
import type { LogParser, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import { AuditEventBuilder } from './audit-event-builder.js';
import { EventTable, eventNameAt, type EventName, type Slot } from './event-table.js';
import { execVerdictAt } from './exec-verdict.js';
import { textAt } from './field-bytes.js';
import { DEFAULT_MAX_RECORD_GAP, LogClock, type LogMark } from './log-clock.js';
import { malformed } from './parse-support.js';
import { parseUserCmdAt } from './parse-user-cmd.js';
import { MAX_RECORD_CHARS, newHeaderScan, scanRecordHeader, scanRecordHeaderBytes } from './record-header.js';
import { EOE, OTHER, PATH, PROCTITLE, SYSCALL, USER_CMD, recordKindAt } from './record-kind.js';
import { SudoCorrelator, loginUidOf, sessionOf, type SudoClaimant } from './sudo-correlator.js';
import { uidNamer, type UidNamer } from './uid-namer.js';
import { isKernelAuditMessage, isPipelineTypeAt } from '../../health/pipeline-record.js';

/** U+FFFD as UTF-8. */
const REPLACEMENT_CHARACTER = Buffer.from('\ufffd');

/** Default for ParserOptions.eventTimeoutMs, in log time (go-audit's sudo correlation uses the same). */
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
  /**
   * An event without its EOE closes once more records than this followed its last one (default
   * DEFAULT_MAX_RECORD_GAP, 2,000).
   */
  maxRecordGap?: number;
}

/** An event whose terminator (EOE) has not been seen yet; its LogMark is its latest record. */
interface PendingEvent extends LogMark {
  builder: AuditEventBuilder;
  host: string;
  id: string;
  time: Date;
  /** Offset of its first line: the checkpoint may not pass it while the event is held. */
  firstOffset: number;
  /** The record number of its first line. */
  opened: number;
}

/**
 * Creates a parser for auditd logs (format `auditd`).
 *
 * Records are grouped by (host, event id). An event closes at its EOE record; when none comes (a
 * lost EOE, records written without one) it closes by the log itself, as a LogClock tells: once
 * `maxRecordGap` records followed its last one, or once records `eventTimeoutMs` later in log time
 * came (and a few records passed); or at flush(), the end of a file or a tailer's idle flush.
 * Never by the `now` given to push(), so how an event is assembled does not depend on how fast or
 * in what pieces the log is read. Only exec events are kept in memory: records of other syscalls
 * are recognised from the `arch`/`syscall` fields and skipped without building anything. An exec
 * closed without its arguments (no EXECVE record) is emitted with what is known and counted as
 * `incomplete_event`. sudo's USER_CMD is tied to the execve it caused (see SudoCorrelator). Never
 * throws.
 */
export function createAuditdParser(options: AuditdParserOptions): LogParser {
  return new AuditdParser(options);
}

class AuditdParser implements LogParser {
  readonly format = 'auditd';
  private readonly maxPending: number;
  private readonly clock: LogClock;
  private readonly pending = new EventTable<PendingEvent>();
  /** Events not worth holding (not execs) or already emitted, to skip their remaining records. */
  private readonly skipped = new EventTable<LogMark>();
  private readonly sudo: SudoCorrelator;
  private readonly namers = new Map<string, UidNamer>();
  /** Header positions of the current line, reused for every line. */
  private readonly header = newHeaderScan();
  /**
   * The first ENRICHED separator at or after `separatorFrom` in `separatorBytes` (-1: none to the
   * buffer's end), so that finding each line's one costs a search of that line alone, and a log
   * without any costs one search per buffer. Forgotten with every new block or line: a buffer is
   * read into again for later blocks.
   */
  private separatorBytes: Buffer | null = null;
  private separatorFrom = 0;
  private separatorAt = -1;
  /** The record number, and the log time, at which something held may first have gone stale. */
  private nextSweepRecord = Number.POSITIVE_INFINITY;
  private nextSweepLogMs = Number.POSITIVE_INFINITY;

  constructor(private readonly options: AuditdParserOptions) {
    this.maxPending = Math.max(1, options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS);
    const maxRecordGap = Math.max(1, options.maxRecordGap ?? DEFAULT_MAX_RECORD_GAP);
    this.clock = new LogClock(maxRecordGap, Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS));
    this.sudo = new SudoCorrelator(this.maxPending);
  }

  /** One line as text: encoded back to the bytes it was read as and handled as pushBlock would. */
  push(line: string, offset: number): ParseOutput {
    const out = emptyOutput();
    const bytes = Buffer.from(line.endsWith('\r') ? line.slice(0, -1) : line, 'utf8');
    this.separatorBytes = null;
    this.pushLine(bytes, 0, bytes.length, offset, !isAscii(bytes), out);
    return out;
  }

  /**
   * Every line is looked at as bytes. Most records of a busy log are settled from their header
   * alone (types the parser does not read, records of skipped events, EOE, the SYSCALL records of
   * other syscalls); the fields of the others are decoded from the bytes, a string made only for
   * a value that is kept. A block with non-ASCII bytes has its text decoded as UTF-8.
   */
  pushBlock(block: LineBlock, _now: Date, out: ParseOutput): void {
    const { bytes, end } = block;
    const utf8 = !block.ascii;
    this.separatorBytes = null;
    for (let pos = block.start; pos < end; ) {
      const stop = lineEnd(block, pos);
      // A log copied through Windows tools ends its lines with CR LF: the CR is not part of the record.
      const lineStop = stop > pos && bytes[stop - 1] === 13 ? stop - 1 : stop;
      this.pushLine(bytes, pos, lineStop, block.offset + (pos - block.start), utf8, out);
      pos = stop + 1;
    }
  }

  private pushLine(bytes: Buffer, start: number, end: number, offset: number, utf8: boolean, out: ParseOutput): void {
    try {
      this.nextRecord(out);
      this.record(bytes, start, end, offset, utf8, out);
    } catch {
      // Defence in depth: a parser bug must cost one line, never the stream.
      out.malformed.push(malformed('unrecognized', textAt(bytes, start, end, utf8), offset));
    }
  }

  /** Counts a line, and closes what went stale when something may have. */
  private nextRecord(out: ParseOutput): void {
    const clock = this.clock;
    clock.tick();
    if (clock.record >= this.nextSweepRecord || clock.logMs >= this.nextSweepLogMs) this.sweep(out);
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    for (const slot of this.pending.entries()) this.emit(slot.value, out, true);
    this.pending.clear();
    this.skipped.clear();
    for (const event of this.sudo.flush()) out.events.push(event);
    this.nextSweepRecord = Number.POSITIVE_INFINITY;
    this.nextSweepLogMs = Number.POSITIVE_INFINITY;
    return out;
  }

  lowWaterMark(): number | null {
    let min = this.sudo.lowWaterMark();
    for (const slot of this.pending.entries()) {
      if (min === null || slot.value.firstOffset < min) min = slot.value.firstOffset;
    }
    return min;
  }

  /** The line `bytes[start, end)`: settled from its header when that is enough, else decoded. */
  private record(bytes: Buffer, start: number, end: number, offset: number, utf8: boolean, out: ParseOutput): void {
    const first = bytes[start];
    const h = this.header;
    // Records start with `type=` or `node=`; anything else is blank or not a record.
    if ((first !== 116 && first !== 110) || end - start > MAX_RECORD_CHARS || !scanRecordHeaderBytes(bytes, start, end, h)) {
      this.notARecord(textAt(bytes, start, end, utf8), end - start, offset, out);
      return;
    }
    const kind = recordKindAt(bytes, h.typeStart, h.typeEnd);
    if (kind === OTHER) {
      // auditd's own DAEMON_* and CONFIG_CHANGE records tell the health watch about the pipeline.
      if (this.options.onPipelineRecord !== undefined && isPipelineTypeAt(bytes, h.typeStart, h.typeEnd)) this.pipelineRecord(bytes, end, utf8);
      return;
    }
    this.clock.observe(h.timeMs);
    if (kind === EOE) {
      this.closeEvent(bytes, utf8, out);
      return;
    }
    if (kind === USER_CMD) {
      if (!this.damaged(bytes, start, end, offset, utf8, out)) this.userCmd(bytes, start, end, offset, utf8, out);
      return;
    }
    let slot = this.pending.findAt(bytes, h, utf8);
    if (slot) {
      this.renew(slot.value);
      // PATH and PROCTITLE only stand in for arguments an exec did not log.
      if ((kind === PATH || kind === PROCTITLE) && slot.value.builder.hasArgs) return;
    } else {
      // PATH records only matter for an exec already under way.
      if (kind === PATH || this.skipped.findAt(bytes, h, utf8)) return;
      if (kind === SYSCALL && execVerdictAt(bytes, h.bodyStart, end) === 'other') {
        this.skip(eventNameAt(bytes, h, utf8));
        return;
      }
    }
    if (this.damaged(bytes, start, end, offset, utf8, out)) return;
    slot ??= this.open(eventNameAt(bytes, h, utf8), bytes, start, end, offset, utf8, out) ?? undefined;
    if (!slot) return;
    const builder = slot.value.builder;
    const problem = builder.addRecordAt(kind, bytes, h.bodyStart, this.rawEnd(bytes, end), end, utf8);
    if (problem) out.malformed.push(malformed(problem.reason, textAt(bytes, start, end, utf8), offset, problem.detail));
    if (kind === SYSCALL && builder.verdict === 'other' && !builder.isExec) {
      this.pending.delete(slot);
      this.skip(slot);
    }
  }

  /** End of the raw fields of the line whose header is in this.header: the ENRICHED separator, or the line's end. */
  private rawEnd(bytes: Buffer, end: number): number {
    const from = this.header.bodyStart;
    if (bytes !== this.separatorBytes || from < this.separatorFrom || (this.separatorAt >= 0 && this.separatorAt < from)) {
      this.separatorBytes = bytes;
      this.separatorFrom = from;
      this.separatorAt = bytes.indexOf(0x1d, from);
    }
    const sep = this.separatorAt;
    return sep < 0 || sep >= end ? end : sep;
  }

  /**
   * True (and counted as `invalid_utf8`) when a line with non-ASCII bytes has bytes that are not
   * UTF-8 before its ENRICHED part: the raw fields are ASCII by construction (anything else is
   * hex), so such bytes mean the line was damaged on its way to us. A replacement character
   * written out as UTF-8 counts too: the line was decoded with damage somewhere before.
   */
  private damaged(bytes: Buffer, start: number, end: number, offset: number, utf8: boolean, out: ParseOutput): boolean {
    if (!utf8) return false;
    const raw = bytes.subarray(start, this.rawEnd(bytes, end));
    if (isUtf8(raw) && raw.indexOf(REPLACEMENT_CHARACTER) < 0) return false;
    out.malformed.push(malformed('invalid_utf8', textAt(bytes, start, end, utf8), offset));
    return true;
  }

  /** Hands a DAEMON_* or CONFIG_CHANGE record (its header in this.header) to the health watch. */
  private pipelineRecord(bytes: Buffer, end: number, utf8: boolean): void {
    const h = this.header;
    const host = (h.nodeStart < 0 ? '' : textAt(bytes, h.nodeStart, h.nodeEnd, utf8)) || this.options.defaultHost;
    const body = textAt(bytes, h.bodyStart, this.rawEnd(bytes, end), utf8);
    this.options.onPipelineRecord?.({ kind: 'audit_record', host, time: new Date(h.timeMs), type: textAt(bytes, h.typeStart, h.typeEnd, utf8), body });
  }

  /** A line whose header did not scan (`bytes` long): blank, too long, or why it is not a record. */
  private notARecord(line: string, bytes: number, offset: number, out: ParseOutput): void {
    const first = line.charCodeAt(0);
    if (first !== 116 && first !== 110 && line.trim() === '') return;
    // A kernel audit message (lost events, backlog) mixed into the log is a health signal, not damage.
    if (this.options.onPipelineRecord !== undefined && isKernelAuditMessage(line)) {
      this.options.onPipelineRecord({ kind: 'kernel_message', host: this.options.defaultHost, text: line });
      return;
    }
    if (bytes > MAX_RECORD_CHARS) {
      out.malformed.push(malformed('too_long', line, offset));
      return;
    }
    out.malformed.push(malformed(scanRecordHeader(line, newHeaderScan()) ?? 'unrecognized', line, offset));
  }

  /** Starts holding event `name`, whose header is in this.header; null (and a malformed line) when its id is not a time. */
  private open(name: EventName, bytes: Buffer, start: number, end: number, offset: number, utf8: boolean, out: ParseOutput): Slot<PendingEvent> | null {
    const h = this.header;
    if (!h.idValid) {
      out.malformed.push(malformed('unrecognized', textAt(bytes, start, end, utf8), offset));
      return null;
    }
    if (this.pending.size >= this.maxPending) this.evictOldest(out);
    const host = name.node || this.options.defaultHost;
    const ev: PendingEvent = {
      builder: new AuditEventBuilder(),
      host,
      id: name.id,
      time: new Date(h.timeMs),
      firstOffset: offset,
      opened: this.clock.record,
      record: this.clock.record,
      logMs: this.clock.logMs,
    };
    this.schedule(ev);
    return this.pending.add(name, ev);
  }

  /** A record of a held event came: its staleness counts from here. */
  private renew(ev: PendingEvent): void {
    ev.record = this.clock.record;
    ev.logMs = this.clock.logMs;
  }

  /** sudo's USER_CMD (a few per sudo command), its header in this.header: handed to the SudoCorrelator. */
  private userCmd(bytes: Buffer, start: number, end: number, offset: number, utf8: boolean, out: ParseOutput): void {
    const h = this.header;
    const record = parseUserCmdAt(bytes, h.bodyStart, this.rawEnd(bytes, end), end, utf8);
    if (typeof record === 'string' || !h.idValid) {
      out.malformed.push(malformed(typeof record === 'string' ? record : 'unrecognized', textAt(bytes, start, end, utf8), offset));
      return;
    }
    const name = eventNameAt(bytes, h, utf8);
    const host = name.node || this.options.defaultHost;
    const at = this.clock.mark();
    const ctx = { host, id: name.id, time: new Date(h.timeMs), sourceFormat: this.format, names: this.namer(host), offset, at };
    for (const event of this.sudo.add(record, ctx)) out.events.push(event);
    this.schedule(at);
  }

  /**
   * An EOE (its header in this.header): emits the event if it is held, else forgets its skip mark.
   * An event is held or marked skipped, never both (a mark is made only once it is let go), so an
   * exec's EOE costs one lookup.
   */
  private closeEvent(bytes: Buffer, utf8: boolean, out: ParseOutput): void {
    const slot = this.pending.findAt(bytes, this.header, utf8);
    if (slot) {
      this.pending.delete(slot);
      this.emit(slot.value, out, false);
      return;
    }
    const mark = this.skipped.findAt(bytes, this.header, utf8);
    if (mark) this.skipped.delete(mark);
  }

  /** Makes sure a sweep runs by the time `mark` can have gone stale. */
  private schedule(mark: LogMark): void {
    const clock = this.clock;
    this.nextSweepRecord = Math.min(this.nextSweepRecord, clock.staleRecord(mark));
    const byTime = clock.staleLogMs(mark);
    // Once its log time is up, only the record count is left to wait for.
    if (byTime > clock.logMs) this.nextSweepLogMs = Math.min(this.nextSweepLogMs, byTime);
  }

  /** Closes the events, skip marks and USER_CMDs gone stale in the log, and schedules the next sweep. */
  private sweep(out: ParseOutput): void {
    const clock = this.clock;
    this.nextSweepRecord = Number.POSITIVE_INFINITY;
    this.nextSweepLogMs = Number.POSITIVE_INFINITY;
    for (const slot of this.pending.entries()) {
      if (!clock.isStale(slot.value)) {
        this.schedule(slot.value);
        continue;
      }
      this.pending.delete(slot);
      this.skip(slot);
      this.emit(slot.value, out, true);
    }
    // Skip marks are never renewed, so they go stale in the order they were made.
    for (let mark = this.skipped.oldest(); mark && clock.isStale(mark.value); mark = this.skipped.oldest()) this.skipped.delete(mark);
    const oldestMark = this.skipped.oldest();
    if (oldestMark) this.schedule(oldestMark.value);
    for (const event of this.sudo.expire(clock, this.sudoClaimant)) out.events.push(event);
    const oldestSudo = this.sudo.oldestMark();
    if (oldestSudo) this.schedule(oldestSudo);
    // Many events held at once: sweep at most once per eighth of them in records, so each record
    // pays a bounded share of the sweeps (an event closes a little later, never earlier).
    this.nextSweepRecord = Math.max(this.nextSweepRecord, clock.record + (this.pending.size >> 3));
  }

  /**
   * An exec still held that may be the execve of a USER_CMD gone stale: on its host, opened after
   * it and within the record gap (sudo's execve follows its USER_CMD within a few records), and
   * either not yet known to be someone else's (its SYSCALL has not come) or of the same login uid
   * and session.
   */
  private readonly sudoClaimant: SudoClaimant = (host, after, loginUid, ses) => {
    for (const slot of this.pending.entries()) {
      const ev = slot.value;
      if (ev.host !== host || ev.opened <= after || ev.opened - after > this.clock.maxRecordGap) continue;
      const facts = ev.builder.syscall;
      if (facts === null) return ev;
      if (ev.builder.verdict === 'other') continue;
      if (loginUidOf(facts.auid) === loginUid && sessionOf(facts.ses) === ses) return ev;
    }
    return undefined;
  };

  private evictOldest(out: ParseOutput): void {
    const slot = this.pending.oldest();
    if (!slot) return;
    this.pending.delete(slot);
    this.skip(slot);
    this.emit(slot.value, out, true);
  }

  /** Remembers an event whose further records are to be ignored, within a bounded table. */
  private skip(name: EventName): void {
    // A mark made again moves to the end, so the table stays in the order marks go stale.
    const old = this.skipped.get(name);
    if (old) this.skipped.delete(old);
    const mark = this.clock.mark();
    this.skipped.add(name, mark);
    if (this.skipped.size > this.maxPending * 4) {
      const oldest = this.skipped.oldest();
      if (oldest) this.skipped.delete(oldest);
    }
    this.schedule(mark);
  }

  /**
   * Turns a closed event into a command. `early` marks a close without EOE: an event that never
   * got its SYSCALL record (lost, or pushed out) is then reported as incomplete. An exec that
   * succeeded but has no EXECVE record lost its arguments: it is emitted with what is known (the
   * program from PATH, PROCTITLE or exe) and counted as incomplete too.
   */
  private emit(ev: PendingEvent, out: ParseOutput, early: boolean): void {
    const builder = ev.builder;
    const event: CommandEvent | null = builder.build({
      host: ev.host,
      id: ev.id,
      time: ev.time,
      sourceFormat: this.format,
      names: this.namer(ev.host),
    });
    if (event) {
      this.sudo.claim(event, ev);
      out.events.push(event);
      if (builder.syscall === null) {
        // Who ran it is unknown (the record with auid and uid was lost): no user is not "a daemon".
        out.malformed.push({ reason: 'incomplete_event', sample: event.eventKey, offset: ev.firstOffset, detail: 'an exec without its SYSCALL record (who ran it is unknown)' });
      } else if (!builder.hasArgs && builder.syscall?.success !== false) {
        out.malformed.push({ reason: 'incomplete_event', sample: event.eventKey, offset: ev.firstOffset, detail: 'an exec without its EXECVE record (arguments)' });
      } else if (builder.args?.missing === true) {
        out.malformed.push({ reason: 'incomplete_event', sample: event.eventKey, offset: ev.firstOffset, detail: 'an exec with some of its arguments missing' });
      }
    } else if (early && builder.syscall === null) {
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
