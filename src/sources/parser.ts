import type { PipelineRecord } from '../health/pipeline-record.js';
import type { CommandEvent } from './command-event.js';
import { forEachLine, withoutByteOrderMark, type LineBlock } from './line-block.js';

/** Why a line was skipped, or kept with a part missing; counted per source and reason. */
export type MalformedReason =
  | 'truncated'
  | 'bad_hex'
  | 'bad_json'
  | 'binary'
  | 'invalid_utf8'
  | 'too_long'
  | 'unrecognized'
  | 'incomplete_event'
  /**
   * Kept, not skipped: a JSON record whose optional field had the wrong type (`"pid": 1.5`), or an
   * audit record without a field the kernel always writes (a SYSCALL cut before its `auid=`). The
   * field is left out (null) and the rest of the event stands; `detail` names the field.
   */
  | 'bad_field'
  /**
   * A second copy of what an audit event holds once (its SYSCALL or CWD record, an EXECVE argument
   * or a chunk of one, `argc`), as a damaged or repeated line brings: the first sound copy is kept, the
   * other ignored.
   */
  | 'duplicate_record'
  /** A record that claims to be sudo's but lacks the log's proof of who wrote it (journald). */
  | 'untrusted_source'
  /** An HTTP event for a host its source is not bound to (`sources[].hosts`). */
  | 'host_not_allowed'
  /** Parsed, but the database refused to store it (set aside so the rest of its batch is stored). */
  | 'unstorable';

/**
 * Reasons counted for a record whose event was kept all the same (with what could be read, or, for
 * a second copy of a record, with the first).
 */
export const KEPT_REASONS: ReadonlySet<MalformedReason> = new Set<MalformedReason>(['bad_field', 'incomplete_event', 'duplicate_record']);

export interface Malformed {
  reason: MalformedReason;
  /** The first bytes of the offending input, for the log. */
  sample: string;
  /** Byte offset of the line in its file, when reading a file. */
  offset?: number;
  /** What exactly was wrong, when the parser can say (e.g. "argv: expected an array of strings"). */
  detail?: string;
}

/**
 * A stateful, streaming parser for one log format. Lines go in one at a time (without their
 * newline) with the byte offset at which each starts; whole command events come out.
 *
 * Formats whose events span several lines (auditd) keep partial events in memory until they are
 * complete. `lowWaterMark()` tells the tailer the offset of the oldest line still held, so a
 * checkpoint never skips past an event that has not been emitted yet; re-reading from there after a
 * crash is safe because events carry stable `eventKey`s.
 */
export interface LogParser {
  readonly format: string;
  /**
   * Feed one line. `now` is when it was read: a parser may use it for what only the wall clock can
   * tell, but never to close a multi-record event while a backlog is read (auditd and go-audit
   * ignore it and close by the log's own order and time; see LogClock). The wall-clock close is the
   * tailer's: after a few seconds without new bytes it calls flush().
   */
  push(line: string, offset: number, now: Date): ParseOutput;
  /**
   * Feed a block of lines as bytes, adding what they produce to `out`; the same as push() for
   * each line in turn. Optional: parsers that can skip lines without decoding them implement it.
   */
  pushBlock?(block: LineBlock, now: Date, out: ParseOutput): void;
  /** Emit everything still held (end of a file, or shutdown), complete or not. */
  flush(): ParseOutput;
  /** Offset of the oldest line belonging to an event not yet emitted; null when nothing is held. */
  lowWaterMark(): number | null;
}

export interface ParseOutput {
  events: CommandEvent[];
  malformed: Malformed[];
}

export const emptyOutput = (): ParseOutput => ({ events: [], malformed: [] });

/**
 * A ParserOptions.resolveUid naming uids from a map of decimal uid to user name (the
 * configuration's `identity.uids`); undefined when the map is absent or empty.
 */
export function uidMapResolver(uids: Readonly<Record<string, string>> | null | undefined): ParserOptions['resolveUid'] {
  if (!uids || Object.keys(uids).length === 0) return undefined;
  return (uid) => uids[String(uid)] ?? null;
}

/** Feeds a block of lines to a parser: whole, when it takes blocks, or line by line. */
export function parseBlock(parser: LogParser, whole: LineBlock, now: Date, out: ParseOutput): void {
  const block = withoutByteOrderMark(whole);
  if (parser.pushBlock) {
    parser.pushBlock(block, now, out);
    return;
  }
  forEachLine(block, (line, offset) => appendOutput(out, parser.push(line, offset, now)));
}

/** Adds the events and malformed lines of `part` to `out`. */
export function appendOutput(out: ParseOutput, part: ParseOutput): void {
  for (const event of part.events) out.events.push(event);
  for (const bad of part.malformed) out.malformed.push(bad);
}

/** Options every parser accepts. */
export interface ParserOptions {
  /** Host name for events whose log does not say (a local file without `node=`). */
  defaultHost: string;
  /**
   * Names a numeric uid (for raw auditd logs, which only carry numbers). Returns null when
   * unknown; the event then names the user by the decimal uid.
   */
  resolveUid?: (uid: number, host: string) => string | null;
  /**
   * How long a multi-record event without a terminator (an auditd event whose EOE was lost, a sudo
   * USER_CMD waiting for its execve) may stay open. auditd and go-audit measure it in log time (the
   * audit timestamps of later records, once a few records have passed); the sudo syslog parsers
   * against the `now` passed to push(). Default 2000 ms.
   */
  eventTimeoutMs?: number;
  /**
   * Receives the records about the audit pipeline itself (auditd DAEMON_* and CONFIG_CHANGE, kernel
   * messages about lost events, go-audit sequence numbers), for the health checks. Absent: they
   * are skipped like any record that is not a command.
   */
  onPipelineRecord?: (record: PipelineRecord) => void;
  /**
   * The stream is read from somewhere in its middle (an HTTP shipper's request: a piece of a log),
   * so what its start would have told is unknown: a parser that trusts a stream more for what it
   * has not seen yet (sudo's own log file, until a syslog line comes) does not.
   */
  midStream?: boolean;
  /**
   * The time zone (IANA name) of dates a log writes without one: RFC 3164 syslog dates and the
   * entries of sudo's own log file, which are the host's local time. Default UTC.
   */
  timeZone?: string;
}
