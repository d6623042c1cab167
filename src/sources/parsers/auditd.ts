/**
 * The auditd log parser: raw and ENRICHED `audit.log` lines, with or without `node=` prefixes,
 * reassembled into one CommandEvent per exec.
 */
import type { CommandEvent } from '../command-event.js';
import { forEachLine, lineEnd, type LineBlock } from '../line-block.js';
import type { LogParser, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import { AuditEventBuilder } from './audit-event-builder.js';
import { EventTable, eventName, eventNameAt, serialAt, serialOf, shiftHeader, type EventName, type Slot } from './event-table.js';
import { execVerdict, execVerdictAt } from './exec-verdict.js';
import { DEFAULT_MAX_RECORD_GAP, LogClock, type LogMark } from './log-clock.js';
import { malformed } from './parse-support.js';
import { parseUserCmd } from './parse-user-cmd.js';
import {
  MAX_RECORD_CHARS,
  auditTimeMs,
  auditTimeMsAt,
  newHeaderScan,
  parseAuditId,
  rawEndOf,
  scanRecordHeader,
  scanRecordHeaderBytes,
} from './record-header.js';
import { EOE, KERNEL_TYPE_NAMES, OTHER, PATH, PROCTITLE, SYSCALL, USER_CMD, recordKind, recordKindAt } from './record-kind.js';
import { SudoCorrelator } from './sudo-correlator.js';
import { isKernelAuditMessage, isPipelineType, isPipelineTypeAt } from '../../health/pipeline-record.js';
import { uidNamer, type UidNamer } from './uid-namer.js';

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
}

/**
 * What is known of the record being handled. One object, reused for every record, so that the
 * steps of handling one take it whole instead of a long list of positional arguments.
 */
interface RecordInHand {
  kind: number;
  line: string;
  /** The event serial as a number (see serialOf). */
  serial: number;
  /** End of the raw fields: the ENRICHED separator, or the line's end. */
  rawEnd: number;
  /** Byte offset of the line in its file. */
  offset: number;
  /**
   * Its pending event when the byte path already looked (null: there is none, and the record is
   * neither a skipped event's nor the SYSCALL of another syscall); undefined when nobody looked.
   */
  known: Slot<PendingEvent> | null | undefined;
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
  private readonly current: RecordInHand = { kind: OTHER, line: '', serial: -1, rawEnd: 0, offset: 0, known: undefined };
  /** The record number, and the log time, at which something held may first have gone stale. */
  private nextSweepRecord = Number.POSITIVE_INFINITY;
  private nextSweepLogMs = Number.POSITIVE_INFINITY;

  constructor(private readonly options: AuditdParserOptions) {
    this.maxPending = Math.max(1, options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS);
    const maxRecordGap = Math.max(1, options.maxRecordGap ?? DEFAULT_MAX_RECORD_GAP);
    this.clock = new LogClock(maxRecordGap, Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS));
    this.sudo = new SudoCorrelator(this.maxPending);
  }

  push(line: string, offset: number): ParseOutput {
    const out = emptyOutput();
    this.pushLine(line, offset, out);
    return out;
  }

  /**
   * Most records of a busy log are settled from their header bytes alone (types the parser does not
   * read, records of skipped events, EOE, the SYSCALL records of other syscalls): only the others
   * are decoded into strings.
   */
  pushBlock(block: LineBlock, _now: Date, out: ParseOutput): void {
    if (!block.ascii) {
      // Byte and character positions differ: every line takes the string path.
      forEachLine(block, (line, offset) => this.pushLine(line, offset, out));
      return;
    }
    const { bytes, end } = block;
    for (let pos = block.start; pos < end; ) {
      const stop = lineEnd(block, pos);
      const offset = block.offset + (pos - block.start);
      try {
        this.nextRecord(out);
        this.byteRecord(bytes, pos, stop, offset, out);
      } catch {
        // Defence in depth, as in pushLine.
        out.malformed.push(malformed('unrecognized', bytes.toString('latin1', pos, stop), offset));
      }
      pos = stop + 1;
    }
  }

  private pushLine(line: string, offset: number, out: ParseOutput): void {
    try {
      this.nextRecord(out);
      this.handle(line, offset, out);
    } catch {
      // Defence in depth: a parser bug must cost one line, never the stream.
      out.malformed.push(malformed('unrecognized', line, offset));
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

  /**
   * The ASCII line `bytes[start, end)`: settled from its header when that is enough, exactly as
   * handle() would settle it; otherwise decoded and handed on with what the header told.
   */
  private byteRecord(bytes: Buffer, start: number, end: number, offset: number, out: ParseOutput): void {
    const first = bytes[start];
    const h = this.header;
    // Blank lines, non-records and oversized ones are left to handle(), which says what they are.
    if ((first !== 116 && first !== 110) || end - start > MAX_RECORD_CHARS || !scanRecordHeaderBytes(bytes, start, end, h)) {
      this.handle(bytes.toString('latin1', start, end), offset, out);
      return;
    }
    const kind = recordKindAt(bytes, h.typeStart, h.typeEnd);
    if (kind === OTHER) {
      if (this.options.onPipelineRecord !== undefined && isPipelineTypeAt(bytes, h.typeStart, h.typeEnd)) this.handle(bytes.toString('latin1', start, end), offset, out);
      return;
    }
    this.clock.observe(auditTimeMsAt(bytes, h));
    const serial = serialAt(bytes, h);
    if (kind === EOE) {
      this.closeEvent(this.skipped.findAt(bytes, h, serial), this.pending.findAt(bytes, h, serial), out);
      return;
    }
    // USER_CMD has no pending event to look up (undefined); kernel records get theirs or null.
    let slot: Slot<PendingEvent> | null | undefined;
    if (kind !== USER_CMD) {
      slot = this.pending.findAt(bytes, h, serial) ?? null;
      if (slot) {
        this.renew(slot.value);
        // PATH and PROCTITLE only stand in for arguments an exec did not log.
        if ((kind === PATH || kind === PROCTITLE) && slot.value.builder.hasArgs) return;
      } else {
        if (kind === PATH || this.skipped.findAt(bytes, h, serial)) return;
        if (kind === SYSCALL && execVerdictAt(bytes, h.bodyStart, end) === 'other') {
          this.skip(eventNameAt(bytes, h, serial));
          return;
        }
      }
    }
    shiftHeader(h, -start);
    this.record(this.inHand(kind, bytes.toString('latin1', start, end), serial, offset, slot), out);
  }

  private handle(line: string, offset: number, out: ParseOutput): void {
    const first = line.charCodeAt(0);
    // Records start with `type=` or `node=`; only other lines need the blank-line check.
    if (first !== 116 && first !== 110 && line.trim() === '') return;
    if (line.length > MAX_RECORD_CHARS) {
      out.malformed.push(malformed('too_long', line, offset));
      return;
    }
    const h = this.header;
    const failure = scanRecordHeader(line, h);
    if (failure !== null) {
      if (this.options.onPipelineRecord !== undefined && isKernelAuditMessage(line)) {
        this.options.onPipelineRecord({ kind: 'kernel_message', host: this.options.defaultHost, text: line });
        return;
      }
      out.malformed.push(malformed(failure, line, offset));
      return;
    }
    const kind = recordKind(line, h.typeStart, h.typeEnd);
    if (kind === OTHER) {
      if (this.options.onPipelineRecord !== undefined && isPipelineType(line, h.typeStart, h.typeEnd)) this.pipelineRecord(line, this.options.onPipelineRecord);
      return;
    }
    this.clock.observe(auditTimeMs(line, h));
    const serial = serialOf(line, h);
    if (kind === EOE) {
      this.closeEvent(this.skipped.find(line, h, serial), this.pending.find(line, h, serial), out);
      return;
    }
    this.record(this.inHand(kind, line, serial, offset, undefined), out);
  }

  /** Hands a DAEMON_* or CONFIG_CHANGE record (its header in this.header) to the health watch. */
  private pipelineRecord(line: string, onRecord: NonNullable<AuditdParserOptions['onPipelineRecord']>): void {
    const h = this.header;
    const host = (h.nodeStart < 0 ? '' : line.slice(h.nodeStart, h.nodeEnd)) || this.options.defaultHost;
    const body = line.slice(h.bodyStart, rawEndOf(line, h.bodyStart));
    onRecord({ kind: 'audit_record', host, time: new Date(auditTimeMs(line, h)), type: line.slice(h.typeStart, h.typeEnd), body });
  }

  /** Fills the reused RecordInHand (the header positions are in this.header). */
  private inHand(kind: number, line: string, serial: number, offset: number, known: Slot<PendingEvent> | null | undefined): RecordInHand {
    const r = this.current;
    r.kind = kind;
    r.line = line;
    r.serial = serial;
    r.rawEnd = rawEndOf(line, this.header.bodyStart);
    r.offset = offset;
    r.known = known;
    return r;
  }

  /** A record of a type the parser reads (not EOE), its header in this.header. */
  private record(r: RecordInHand, out: ParseOutput): void {
    // The raw fields are ASCII by construction (anything else is hex); a replacement character
    // there means the line was damaged on its way to us.
    const bad = r.line.indexOf('\ufffd');
    if (bad >= 0 && bad < r.rawEnd) {
      out.malformed.push(malformed('invalid_utf8', r.line, r.offset));
      return;
    }
    if (r.kind === USER_CMD) this.userCmd(r, out);
    else this.kernelRecord(r, out);
  }

  private kernelRecord(r: RecordInHand, out: ParseOutput): void {
    const { line, known } = r;
    const h = this.header;
    let slot = known === undefined ? this.pending.find(line, h, r.serial) : known;
    if (slot && known === undefined) this.renew(slot.value);
    if (!slot) {
      // PATH records only matter for an exec already under way.
      if (r.kind === PATH) return;
      if (known === undefined && this.skipped.find(line, h, r.serial)) return;
      const name = eventName(line, h, r.serial);
      if (r.kind === SYSCALL && known === undefined && execVerdict(line, h.bodyStart, r.rawEnd) === 'other') {
        this.skip(name);
        return;
      }
      slot = this.open(name, r, out);
      if (!slot) return;
    }
    const builder = slot.value.builder;
    const problem = builder.addRecord(KERNEL_TYPE_NAMES[r.kind]!, line, h.bodyStart, r.rawEnd);
    if (problem) out.malformed.push(malformed(problem, line, r.offset));
    if (r.kind === SYSCALL && builder.verdict === 'other' && !builder.isExec) {
      this.pending.delete(slot);
      this.skip(slot);
    }
  }

  /** Starts holding the event of record `r`; null (and a malformed line) when its id is not a time. */
  private open(name: EventName, r: RecordInHand, out: ParseOutput): Slot<PendingEvent> | null {
    const parsed = parseAuditId(name.id);
    if (!parsed) {
      out.malformed.push(malformed('unrecognized', r.line, r.offset));
      return null;
    }
    if (this.pending.size >= this.maxPending) this.evictOldest(out);
    const host = name.node || this.options.defaultHost;
    const ev: PendingEvent = {
      builder: new AuditEventBuilder(),
      host,
      id: name.id,
      time: parsed.time,
      firstOffset: r.offset,
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

  private userCmd(r: RecordInHand, out: ParseOutput): void {
    const { line } = r;
    const h = this.header;
    const record = parseUserCmd(line, h.bodyStart, r.rawEnd);
    const id = line.slice(h.idStart, h.idEnd);
    const parsed = parseAuditId(id);
    if (typeof record === 'string' || !parsed) {
      out.malformed.push(malformed(typeof record === 'string' ? record : 'unrecognized', line, r.offset));
      return;
    }
    const host = (h.nodeStart < 0 ? '' : line.slice(h.nodeStart, h.nodeEnd)) || this.options.defaultHost;
    const at = this.clock.mark();
    const ctx = { host, id, time: parsed.time, sourceFormat: this.format, names: this.namer(host), offset: r.offset, at };
    for (const event of this.sudo.add(record, ctx)) out.events.push(event);
    this.schedule(at);
  }

  /** An EOE: forgets the event's skip mark and emits it if it is held. */
  private closeEvent(mark: Slot<LogMark> | undefined, slot: Slot<PendingEvent> | undefined, out: ParseOutput): void {
    if (mark) this.skipped.delete(mark);
    if (!slot) return;
    this.pending.delete(slot);
    this.emit(slot.value, out, false);
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
    for (const event of this.sudo.expire(clock)) out.events.push(event);
    const oldestSudo = this.sudo.oldestMark();
    if (oldestSudo) this.schedule(oldestSudo);
    // Many events held at once: sweep at most once per eighth of them in records, so each record
    // pays a bounded share of the sweeps (an event closes a little later, never earlier).
    this.nextSweepRecord = Math.max(this.nextSweepRecord, clock.record + (this.pending.size >> 3));
  }

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
    const sample = `${ev.host}:${ev.id}`;
    if (event) {
      this.sudo.claim(event);
      out.events.push(event);
      if (!builder.hasArgs && builder.syscall?.success !== 'no') {
        out.malformed.push({ reason: 'incomplete_event', sample, offset: ev.firstOffset, detail: 'an exec without its EXECVE record (arguments)' });
      }
    } else if (early && builder.syscall === null) {
      out.malformed.push({ reason: 'incomplete_event', sample, offset: ev.firstOffset });
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
