/**
 * Where a parser is in its log, measured by the log itself: how many records it has read, and the
 * latest audit time those records carry. Multi-record events that never got their terminator are
 * closed against this, never against the wall clock, so how an event is assembled does not depend
 * on how fast (or in what pieces) the log is read: a backlog read under load gives the same events
 * as the same lines read one by one.
 */

/**
 * Default for AuditdParserOptions.maxRecordGap. auditd writes the records of one event together;
 * concurrent events on other CPUs interleave with them only a few records deep (out_of_order.log
 * of go-libaudit: 2), and an event with many arguments adds a record per chunk, each one renewing
 * its place. 2,000 records leaves room for hundreds of CPUs at once.
 */
export const DEFAULT_MAX_RECORD_GAP = 2000;

/**
 * Log time alone never closes an event within this many records of its last one: the records next
 * to an event may carry times far from its own (a syscall is stamped when it starts, hosts in one
 * aggregated file have clocks of their own, samples are sometimes sorted by type), and the
 * records themselves are what tells that the event is over.
 */
export const LOG_TIME_MIN_RECORD_GAP = 32;

/** The log position of something held: the record that last renewed it, and the log clock then. */
export interface LogMark {
  record: number;
  logMs: number;
}

/** A parser's position in its log, and the rule by which held things go stale against it. */
export class LogClock {
  /** Records (lines) counted so far: the number of the current one. */
  record = 0;
  /** The latest audit time seen, ms since the epoch; -Infinity before the first. */
  logMs = Number.NEGATIVE_INFINITY;

  /**
   * @param maxRecordGap held things close once more records than this followed their last one
   * @param logTimeoutMs ... or once the log clock moved this far past it (see LOG_TIME_MIN_RECORD_GAP)
   */
  constructor(
    readonly maxRecordGap: number,
    readonly logTimeoutMs: number,
  ) {}

  /** Counts one more record (line). */
  tick(): void {
    this.record++;
  }

  /** Moves the log clock to a record's audit time when that is later. */
  observe(ms: number): void {
    if (ms > this.logMs) this.logMs = ms;
  }

  /** The current position, to store with something that is held. */
  mark(): LogMark {
    return { record: this.record, logMs: this.logMs };
  }

  /** True when something last renewed at `mark` is to be closed now. */
  isStale(mark: LogMark): boolean {
    const gap = this.record - mark.record;
    return gap > this.maxRecordGap || (gap > LOG_TIME_MIN_RECORD_GAP && this.logMs - mark.logMs >= this.logTimeoutMs);
  }

  /** The first record number at which `mark` can go stale by count alone (for scheduling checks). */
  staleRecord(mark: LogMark): number {
    const timeUp = this.logMs - mark.logMs >= this.logTimeoutMs;
    const gap = timeUp ? Math.min(LOG_TIME_MIN_RECORD_GAP, this.maxRecordGap) : this.maxRecordGap;
    return mark.record + gap + 1;
  }

  /** The log time at which `mark` goes stale by time (once past the minimum record gap). */
  staleLogMs(mark: LogMark): number {
    return mark.logMs + this.logTimeoutMs;
  }
}
