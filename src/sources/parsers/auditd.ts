/**
 * The auditd log parser: raw and ENRICHED `audit.log` lines, with or without `node=` prefixes,
 * reassembled into one CommandEvent per exec.
 */
import type { CommandEvent } from '../command-event.js';
import { forEachLine, lineEnd, type LineBlock } from '../line-block.js';
import type { LogParser, ParseOutput, ParserOptions } from '../parser.js';
import { emptyOutput } from '../parser.js';
import { malformed } from './parse-support.js';
import { AuditEventBuilder } from './audit-event-builder.js';
import {
  EventTable,
  eventName,
  eventNameAt,
  sameBytes,
  serialAt,
  serialOf,
  shiftHeader,
  type EventName,
  type Slot,
} from './event-table.js';
import { execVerdict, execVerdictAt } from './exec-verdict.js';
import { parseUserCmd } from './parse-user-cmd.js';
import { MAX_RECORD_CHARS, newHeaderScan, parseAuditId, rawEndOf, scanRecordHeader, scanRecordHeaderBytes, type HeaderScan } from './record-header.js';
import { SudoCorrelator } from './sudo-correlator.js';
import { uidNamer, type UidNamer } from './uid-namer.js';

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

/**
 * The record types the parser reads, told apart by comparing the line in place (no type string
 * is cut out of lines that are skipped). Kernel types an exec event is built from come first.
 */
const KERNEL_TYPE_NAMES = ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE'] as const;
const SYSCALL = 0;
const EXECVE = 1;
const CWD = 2;
const PATH = 3;
const PROCTITLE = 4;
const USER_CMD = 5;
const EOE = 6;
const OTHER = 7;

/** The record type at `line[start, end)`: an index into KERNEL_TYPE_NAMES, USER_CMD, EOE or OTHER. */
function recordKind(line: string, start: number, end: number): number {
  switch (end - start) {
    case 7:
      return line.startsWith('SYSCALL', start) ? SYSCALL : OTHER;
    case 6:
      return line.startsWith('EXECVE', start) ? EXECVE : OTHER;
    case 3:
      return line.startsWith('CWD', start) ? CWD : line.startsWith('EOE', start) ? EOE : OTHER;
    case 4:
      return line.startsWith('PATH', start) ? PATH : OTHER;
    case 9:
      return line.startsWith('PROCTITLE', start) ? PROCTITLE : OTHER;
    case 8:
      return line.startsWith('USER_CMD', start) ? USER_CMD : OTHER;
    default:
      return OTHER;
  }
}

const KIND_NAMES: ReadonlyArray<readonly [number, Buffer]> = [
  ...KERNEL_TYPE_NAMES.map((name, kind) => [kind, Buffer.from(name)] as const),
  [USER_CMD, Buffer.from('USER_CMD')],
  [EOE, Buffer.from('EOE')],
];

/** recordKind of the type at `bytes[start, end)`. */
function recordKindAt(bytes: Buffer, start: number, end: number): number {
  for (const [kind, name] of KIND_NAMES) {
    if (name.length === end - start && sameBytes(bytes, start, name)) return kind;
  }
  return OTHER;
}


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
  private readonly pending = new EventTable<PendingEvent>();
  /** Events not worth holding (not execs) or already emitted, to skip their remaining records. */
  private readonly skipped = new EventTable<number>();
  private readonly sudo: SudoCorrelator;
  private readonly namers = new Map<string, UidNamer>();
  /** Header positions of the current line, reused for every line. */
  private readonly header = newHeaderScan();
  /** Earliest `now` at which anything held can time out; avoids scanning on every line. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(private readonly options: AuditdParserOptions) {
    this.timeoutMs = Math.max(0, options.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS);
    this.maxPending = Math.max(1, options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS);
    this.sudo = new SudoCorrelator(this.timeoutMs, this.maxPending);
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    const out = emptyOutput();
    this.pushLine(line, offset, now.getTime(), out);
    return out;
  }

  /**
   * Most records of a busy log are settled from their header bytes alone (types the parser does not
   * read, records of skipped events, EOE, the SYSCALL records of other syscalls): only the others
   * are decoded into strings.
   */
  pushBlock(block: LineBlock, now: Date, out: ParseOutput): void {
    const nowMs = now.getTime();
    if (!block.ascii) {
      // Byte and character positions differ: every line takes the string path.
      forEachLine(block, (line, offset) => this.pushLine(line, offset, nowMs, out));
      return;
    }
    const { bytes, end } = block;
    for (let pos = block.start; pos < end; ) {
      const stop = lineEnd(block, pos);
      const offset = block.offset + (pos - block.start);
      try {
        if (nowMs >= this.nextExpiry) this.expire(nowMs, out);
        this.byteRecord(bytes, pos, stop, offset, nowMs, out);
      } catch {
        // Defence in depth, as in pushLine.
        out.malformed.push(malformed('unrecognized', bytes.toString('latin1', pos, stop), offset));
      }
      pos = stop + 1;
    }
  }

  private pushLine(line: string, offset: number, nowMs: number, out: ParseOutput): void {
    try {
      if (nowMs >= this.nextExpiry) this.expire(nowMs, out);
      this.handle(line, offset, nowMs, out);
    } catch {
      // Defence in depth: a parser bug must cost one line, never the stream.
      out.malformed.push(malformed('unrecognized', line, offset));
    }
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    for (const slot of this.pending.entries()) this.emit(slot.value, out, true);
    this.pending.clear();
    this.skipped.clear();
    for (const event of this.sudo.flush()) out.events.push(event);
    this.nextExpiry = Number.POSITIVE_INFINITY;
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
  private byteRecord(bytes: Buffer, start: number, end: number, offset: number, nowMs: number, out: ParseOutput): void {
    const first = bytes[start];
    const h = this.header;
    // Blank lines, non-records and oversized ones are left to handle(), which says what they are.
    if ((first !== 116 && first !== 110) || end - start > MAX_RECORD_CHARS || !scanRecordHeaderBytes(bytes, start, end, h)) {
      this.handle(bytes.toString('latin1', start, end), offset, nowMs, out);
      return;
    }
    const kind = recordKindAt(bytes, h.typeStart, h.typeEnd);
    if (kind === OTHER) return;
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
        // PATH and PROCTITLE only stand in for arguments an exec did not log.
        if ((kind === PATH || kind === PROCTITLE) && slot.value.builder.hasArgs) return;
      } else {
        if (kind === PATH || this.skipped.findAt(bytes, h, serial)) return;
        if (kind === SYSCALL && execVerdictAt(bytes, h.bodyStart, end) === 'other') {
          this.skip(eventNameAt(bytes, h, serial), nowMs);
          return;
        }
      }
    }
    shiftHeader(h, -start);
    this.record(kind, bytes.toString('latin1', start, end), h, serial, offset, nowMs, out, slot);
  }

  private handle(line: string, offset: number, nowMs: number, out: ParseOutput): void {
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
      out.malformed.push(malformed(failure, line, offset));
      return;
    }
    const kind = recordKind(line, h.typeStart, h.typeEnd);
    if (kind === OTHER) return;
    const serial = serialOf(line, h);
    if (kind === EOE) {
      this.endEvent(line, h, serial, out);
      return;
    }
    this.record(kind, line, h, serial, offset, nowMs, out, undefined);
  }

  /**
   * A record of a type the parser reads (not EOE), its header in `h`. `known` is its pending event
   * when the caller already looked (null: none, and it is not a skipped event's, nor a SYSCALL of
   * another syscall); undefined when it did not.
   */
  private record(
    kind: number,
    line: string,
    h: HeaderScan,
    serial: number,
    offset: number,
    nowMs: number,
    out: ParseOutput,
    known: Slot<PendingEvent> | null | undefined,
  ): void {
    // The raw fields are ASCII by construction (anything else is hex); a replacement character
    // there means the line was damaged on its way to us.
    const rawEnd = rawEndOf(line, h.bodyStart);
    const bad = line.indexOf('\ufffd');
    if (bad >= 0 && bad < rawEnd) {
      out.malformed.push(malformed('invalid_utf8', line, offset));
      return;
    }
    if (kind === USER_CMD) this.userCmd(line, h, rawEnd, offset, nowMs, out);
    else this.kernelRecord(KERNEL_TYPE_NAMES[kind]!, line, h, serial, rawEnd, offset, nowMs, out, known);
  }

  private kernelRecord(
    type: string,
    line: string,
    h: HeaderScan,
    serial: number,
    rawEnd: number,
    offset: number,
    nowMs: number,
    out: ParseOutput,
    known: Slot<PendingEvent> | null | undefined,
  ): void {
    let slot = known === undefined ? this.pending.find(line, h, serial) : known;
    if (!slot) {
      // PATH records only matter for an exec already under way.
      if (type === 'PATH') return;
      if (known === undefined && this.skipped.find(line, h, serial)) return;
      const name = eventName(line, h, serial);
      if (type === 'SYSCALL' && known === undefined && execVerdict(line, h.bodyStart, rawEnd) === 'other') {
        this.skip(name, nowMs);
        return;
      }
      const parsed = parseAuditId(name.id);
      if (!parsed) {
        out.malformed.push(malformed('unrecognized', line, offset));
        return;
      }
      if (this.pending.size >= this.maxPending) this.evictOldest(out, nowMs);
      const host = name.node || this.options.defaultHost;
      const ev = { builder: new AuditEventBuilder(), host, id: name.id, time: parsed.time, firstOffset: offset, arrivedAt: nowMs };
      slot = this.pending.add(name, ev);
      this.nextExpiry = Math.min(this.nextExpiry, nowMs + this.timeoutMs);
    }
    const builder = slot.value.builder;
    const problem = builder.addRecord(type, line, h.bodyStart, rawEnd);
    if (problem) out.malformed.push(malformed(problem, line, offset));
    if (type === 'SYSCALL' && builder.verdict === 'other' && !builder.isExec) {
      this.pending.delete(slot);
      this.skip(slot, nowMs);
    }
  }

  private userCmd(line: string, h: HeaderScan, rawEnd: number, offset: number, nowMs: number, out: ParseOutput): void {
    const record = parseUserCmd(line, h.bodyStart, rawEnd);
    const id = line.slice(h.idStart, h.idEnd);
    const parsed = parseAuditId(id);
    if (typeof record === 'string' || !parsed) {
      out.malformed.push(malformed(typeof record === 'string' ? record : 'unrecognized', line, offset));
      return;
    }
    const host = (h.nodeStart < 0 ? '' : line.slice(h.nodeStart, h.nodeEnd)) || this.options.defaultHost;
    const ctx = { host, id, time: parsed.time, sourceFormat: this.format, names: this.namer(host), offset, nowMs };
    for (const event of this.sudo.add(record, ctx)) out.events.push(event);
    this.nextExpiry = Math.min(this.nextExpiry, nowMs + this.timeoutMs);
  }

  private endEvent(line: string, h: HeaderScan, serial: number, out: ParseOutput): void {
    this.closeEvent(this.skipped.find(line, h, serial), this.pending.find(line, h, serial), out);
  }

  /** An EOE: forgets the event's skip mark and emits it if it is held. */
  private closeEvent(mark: Slot<number> | undefined, slot: Slot<PendingEvent> | undefined, out: ParseOutput): void {
    if (mark) this.skipped.delete(mark);
    if (!slot) return;
    this.pending.delete(slot);
    this.emit(slot.value, out, false);
  }

  /** Closes events, skip marks and USER_CMDs older than the timeout. */
  private expire(nowMs: number, out: ParseOutput): void {
    for (let slot = this.pending.oldest(); slot && nowMs - slot.value.arrivedAt >= this.timeoutMs; slot = this.pending.oldest()) {
      this.pending.delete(slot);
      this.skip(slot, nowMs);
      this.emit(slot.value, out, true);
    }
    for (let mark = this.skipped.oldest(); mark && nowMs - mark.value >= this.timeoutMs; mark = this.skipped.oldest()) {
      this.skipped.delete(mark);
    }
    for (const event of this.sudo.expire(nowMs)) out.events.push(event);
    this.nextExpiry = this.earliestExpiry();
  }

  private earliestExpiry(): number {
    let earliest = Number.POSITIVE_INFINITY;
    const first = this.pending.oldest();
    if (first) earliest = first.value.arrivedAt;
    const skip = this.skipped.oldest();
    if (skip) earliest = Math.min(earliest, skip.value);
    return Math.min(earliest + this.timeoutMs, this.sudo.nextExpiry());
  }

  private evictOldest(out: ParseOutput, nowMs: number): void {
    const slot = this.pending.oldest();
    if (!slot) return;
    this.pending.delete(slot);
    this.skip(slot, nowMs);
    this.emit(slot.value, out, true);
  }

  /** Remembers an event whose further records are to be ignored, within a bounded table. */
  private skip(name: EventName, at: number): void {
    this.skipped.set(name, at);
    if (this.skipped.size > this.maxPending * 4) {
      const oldest = this.skipped.oldest();
      if (oldest) this.skipped.delete(oldest);
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

