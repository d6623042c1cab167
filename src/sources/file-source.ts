import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { SourceConfig } from '../config/config.js';
import { localHostName } from '../config/load-config.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../server/metrics.js';
import { loadCheckpoints, type StoredCheckpoint } from '../store/queries/sources.js';
import type { Database } from '../store/schema.js';
import { FileTailer, type Checkpoint, type FileTailerOptions, type TailBatch } from './file-tail.js';
import { FileWatch } from './file-watch.js';
import { addStats, emptyStats, type IngestBatch, type IngestStats } from './ingest.js';
import { appendOutput, emptyOutput, parseBlock, type LogParser, type Malformed, type ParseOutput, type ParserOptions } from './parser.js';
import { createAutoParser, createParser } from './parsers/index.js';
import { PipelineWatch, type HealthSignal } from '../health/health-signal.js';
import { MAX_LINE_CHARS } from './parsers/parse-support.js';

/**
 * What a FileSource needs of the Ingestor: `ingest` either commits the whole batch (events,
 * malformed counts and checkpoints) and resolves, or rejects having committed nothing of it.
 */
export interface IngestPort {
  ingest(source: string, batch: IngestBatch): Promise<IngestStats>;
}

/** How long to wait before reading again while commits keep failing. */
export interface RetryBackoff {
  /** Wait after the first failure. Default 200 ms. */
  initialMs: number;
  /** The wait doubles per failure up to this. Default 30 s. */
  maxMs: number;
}

export interface FileSourceOptions {
  source: SourceConfig;
  ingestor: IngestPort;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  resolveUid?: ParserOptions['resolveUid'];
  /** Tailer limits (bytes per batch, the wait after a rotation); the defaults suit production. */
  tail?: Pick<FileTailerOptions, 'maxBatchBytes' | 'rotateWaitMs'>;
  /** Back-off while commits fail. */
  retry?: Partial<RetryBackoff>;
  /** Wake on file change (fs.watch) besides polling. Default true. */
  watch?: boolean;
  /** Random number in [0, 1) for the back-off jitter; injectable for tests. Default Math.random. */
  random?: () => number;
}

/** Held partial events are given up to the parser's flush after this much idle time. */
const IDLE_FLUSH_MS = 5000;
/** Polls in one round while files report more to read, so a backlog drains without waiting. */
const MAX_ROUNDS = 64;
/**
 * Bytes per batch, one transaction each. Larger batches amortise the commit and the per-batch
 * statements; 4 MiB of auditd log is about 1,500 command events, a transaction of well under a second.
 */
const BATCH_BYTES = 4 * 1024 * 1024;
const DEFAULT_RETRY: RetryBackoff = { initialMs: 200, maxMs: 30_000 };
/**
 * After a rename rotation, the old file is followed until it has been quiet this long: a writer
 * rotated by logrotate's `create` writes on to the old file until it is told to reopen.
 */
export const ROTATE_WAIT_MS = 3000;

interface ParserState {
  parser: LogParser;
  lastLineAt: number;
}

/** A batch parsed and waiting for its commit. */
interface PreparedBatch extends ParseOutput {
  /** The durable checkpoint its commit stores. */
  checkpoint: StoredCheckpoint;
  /** What its lines said about the audit pipeline (auditd stopped, events lost...). */
  health: HealthSignal[];
}

/**
 * Follows one configured log source: tail the file(s), parse, and hand events to the ingestor
 * together with the checkpoint they lead to, so events and position commit together. The durable
 * checkpoint never passes the oldest line of an event the parser still holds; after a restart the
 * overlap is re-read and its already-stored events are recognised by their keys.
 *
 * Nothing moves before a commit: when one fails, the parser state of that file is dropped and the
 * file is read again from the checkpoint last committed, so no line is lost and, events being
 * keyed, none is stored twice.
 */
export class FileSource {
  readonly name: string;
  private readonly tailer: FileTailer;
  private readonly parsers = new Map<string, ParserState>();
  /** Turns the pipeline records the parsers pass on into health signals, stored with each batch. */
  private readonly watch: PipelineWatch;
  /** Where the tailer reads next, per file; moves only after a commit. */
  private positions: Map<string, Checkpoint> | null = null;
  /** The durable checkpoint last committed, per file: where a failed batch is read again from. */
  private readonly committed = new Map<string, Checkpoint>();
  /**
   * How far each file was read and committed, past its durable checkpoint when an event was still
   * being assembled there. Lines before it that are read again (after a restart or a failed
   * batch) had their malformed lines counted already: they are not counted twice.
   */
  private readonly readUpTo = new Map<string, { fileId: string; offset: number }>();
  /** Rotated files whose reading was logged (a few, bounded). */
  private readonly drained = new Set<string>();
  /** Batches read (and parsed) but not yet committed, per file. */
  private readonly uncommitted = new Map<string, number>();
  private readonly retry: RetryBackoff;
  private watcher: FileWatch | null = null;
  private loop: Promise<void> | null = null;
  private sleeping: { timer: NodeJS.Timeout | null; wakeable: boolean; resolve: () => void } | null = null;
  private changed = false;
  private stopped = true;

  constructor(private readonly options: FileSourceOptions) {
    this.name = options.source.name;
    this.watch = new PipelineWatch(() => options.clock.now());
    if (!options.source.path) throw new Error(`source ${options.source.name} has no path to follow`);
    // The same line limit as the parsers: JSON formats may carry a megabyte-long argument.
    this.tailer = new FileTailer({
      path: options.source.path,
      maxLineBytes: MAX_LINE_CHARS,
      maxBatchBytes: options.tail?.maxBatchBytes ?? BATCH_BYTES,
      rotateWaitMs: options.tail?.rotateWaitMs ?? ROTATE_WAIT_MS,
      startAt: options.source.startAt ?? 'start',
    });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /**
   * Reads everything new once; returns what was ingested. Rejects when a commit failed (or the
   * checkpoints could not be loaded); what was committed before stays, the rest is read again
   * by the next call.
   */
  async runOnce(): Promise<IngestStats> {
    const total = emptyStats();
    const positions = await this.loadPositions();
    // One round commits while the next is read and parsed, so the parser's work overlaps the
    // database's (the statement in flight, the commit's fsync) instead of taking turns with it.
    let committing: Promise<void> | null = null;
    try {
      for (let round = 0; round < MAX_ROUNDS; round += 1) {
        const batches = await this.tailer.poll(positions);
        const prepared: PreparedBatch[] = [];
        for (const batch of batches) prepared.push(this.prepare(batch, positions));
        await committing;
        committing = this.commitAll(prepared, total);
        // Awaited below or in the catch; this only keeps an early rejection from being unhandled.
        committing.catch(() => undefined);
        if (!batches.some((batch) => batch.more)) break;
      }
      await committing;
      addStats(total, await this.flushIdle(positions));
      return total;
    } catch (error) {
      await committing?.catch(() => undefined);
      this.rollBackUncommitted(positions);
      throw error;
    }
  }

  /**
   * Reads now and then again on every file change (coalesced) or after `intervalMs` without one.
   * While reading fails, waits with capped exponential back-off and jitter instead, logging once
   * per outage, and resumes by itself.
   */
  start(intervalMs: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.options.watch !== false) {
      this.watcher = new FileWatch({ path: this.options.source.path as string, onChange: () => this.wake() });
      this.watcher.start();
    }
    this.loop = this.follow(intervalMs);
  }

  /** Stops reading, waits for a read in progress, and releases watchers and file descriptors. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    this.endSleep();
    await this.loop;
    this.loop = null;
    await this.tailer.close();
  }

  private async follow(intervalMs: number): Promise<void> {
    let failures = 0;
    let outageStarted = 0;
    while (!this.stopped) {
      this.changed = false;
      try {
        await this.runOnce();
        if (failures > 0) {
          this.options.logger.info('source resumed', { source: this.name, failedAttempts: failures, outageMs: Date.now() - outageStarted });
          failures = 0;
        }
      } catch (error) {
        failures += 1;
        if (failures === 1) {
          outageStarted = Date.now();
          this.options.logger.error('reading source failed; retrying with back-off', { source: this.name, error: coerceError(error) });
        }
      }
      this.watcher?.refresh();
      if (this.stopped) break;
      if (failures > 0) await this.sleep(this.backoff(failures), false);
      // A change seen while reading is read at once; otherwise wait for one, or the poll interval
      // (or less, when a rotated file is due to be finished and its successor started).
      else if (!this.changed) await this.sleep(Math.min(intervalMs, this.tailer.rotationWaitMs() ?? intervalMs), true);
    }
  }

  /** Capped exponential back-off with full jitter over its upper half, so replicas spread out. */
  private backoff(failures: number): number {
    const ceiling = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** Math.min(failures - 1, 30));
    return ceiling / 2 + (ceiling / 2) * (this.options.random ?? Math.random)();
  }

  /** Waits `ms`; a wakeable sleep also ends at the next file change. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.endSleep(), ms);
      this.sleeping = { timer, wakeable, resolve };
    });
  }

  private endSleep(): void {
    const sleeping = this.sleeping;
    if (!sleeping) return;
    this.sleeping = null;
    if (sleeping.timer) clearTimeout(sleeping.timer);
    sleeping.resolve();
  }

  private wake(): void {
    this.changed = true;
    if (this.sleeping?.wakeable) this.endSleep();
  }

  private async loadPositions(): Promise<Map<string, Checkpoint>> {
    if (!this.positions) {
      const stored = await loadCheckpoints(this.options.db, this.name);
      for (const c of stored) {
        this.committed.set(c.filePath, { fileId: c.fileId, offset: c.offset, fingerprint: c.fingerprint ?? null });
        if (c.readOffset !== null && c.readOffset !== undefined) this.readUpTo.set(c.filePath, { fileId: c.fileId, offset: c.readOffset });
      }
      this.positions = new Map(this.committed);
    }
    return this.positions;
  }

  /** Parses a batch and moves the read position past it; nothing is durable until commitAll() stores it. */
  private prepare(batch: TailBatch, positions: Map<string, Checkpoint>): PreparedBatch {
    const { filePath } = batch;
    this.uncommitted.set(filePath, (this.uncommitted.get(filePath) ?? 0) + 1);
    const now = this.options.clock.now();
    if (batch.truncated) {
      this.parsers.delete(filePath);
      // The tailer found no copy holding the lines from the old position to the truncation.
      const position = positions.get(filePath)?.offset ?? 0;
      this.options.logger.warn('log file truncated or rewritten below the position read to, with no rotated copy found: lines written after that position, before the truncation, were not read', {
        source: this.name,
        path: filePath,
        readTo: position,
      });
    }
    if (batch.lostRotated) {
      this.options.logger.warn('the log file being read was rotated away and is gone (compressed or removed): lines written to it after the position read to, if any, were not read', {
        source: this.name,
        path: filePath,
        readTo: positions.get(filePath)?.offset ?? 0,
      });
    }
    if (batch.readPath !== filePath && !this.drained.has(batch.fileId)) {
      // Once per rotated file: it is read from where reading stood (the checkpoint) to its end.
      this.drained.add(batch.fileId);
      if (this.drained.size > 64) this.drained.delete(this.drained.values().next().value!);
      this.options.logger.info('reading a rotated file to its end before the file that replaced it', { source: this.name, path: filePath, rotated: batch.readPath, from: batch.startOffset });
    }
    const state = this.parserFor(filePath);
    const out = emptyOutput();
    // The blocks point into the tailer's read buffers: parse them before the next poll.
    for (const block of batch.blocks) parseBlock(state.parser, block, now, out);
    if (batch.blocks.length > 0) state.lastLineAt = now.getTime();
    for (const long of batch.tooLong) out.malformed.push({ reason: 'too_long', sample: `(${long.bytes} bytes)`, offset: long.offset });
    const readBefore = this.readBefore(filePath, batch);
    // Lines read again (the batch starts before where reading had got to): their malformed lines
    // were counted when first read, and the ends of events stored then read now as events
    // without their SYSCALL record. Neither is counted again. (An event still being assembled at
    // the restart that was damaged itself is not counted either: a count, never an event, lost.)
    if (batch.startOffset < readBefore) out.malformed = out.malformed.filter((entry) => entry.offset === undefined || entry.offset >= readBefore);
    let durableOffset = batch.endOffset;
    if (batch.finished) {
      appendOutput(out, state.parser.flush());
      // The next batch of this path is a new file: it starts with a new parser.
      this.parsers.delete(filePath);
    } else {
      durableOffset = Math.min(batch.endOffset, state.parser.lowWaterMark() ?? batch.endOffset);
    }
    const { fileId, fingerprint } = batch;
    positions.set(filePath, { fileId, offset: batch.endOffset, fingerprint });
    const readOffset = Math.max(readBefore, batch.endOffset);
    return { ...out, checkpoint: { filePath, fileId, offset: durableOffset, fingerprint, readOffset }, health: this.watch.drain() };
  }

  /** How far `batch`'s file was read and committed before (0 for a new, truncated or replaced file). */
  private readBefore(filePath: string, batch: TailBatch): number {
    const read = this.readUpTo.get(filePath);
    return read === undefined || read.fileId !== batch.fileId || batch.truncated ? 0 : read.offset;
  }

  /** Commits prepared batches in order, each with its checkpoint; stops at the first failure. */
  private async commitAll(prepared: readonly PreparedBatch[], total: IngestStats): Promise<void> {
    for (const batch of prepared) {
      const { filePath, fileId, offset, fingerprint } = batch.checkpoint;
      addStats(total, await this.commit(batch.events, batch.malformed, [batch.checkpoint], batch.health));
      this.committed.set(filePath, { fileId, offset, fingerprint });
      this.readUpTo.set(filePath, { fileId, offset: batch.checkpoint.readOffset ?? offset });
      this.uncommitted.set(filePath, (this.uncommitted.get(filePath) ?? 1) - 1);
    }
  }

  /**
   * Something read was not committed: the parsers of those files hold lines whose events were not
   * stored. Forget them and read those files again from their last durable checkpoint.
   */
  private rollBackUncommitted(positions: Map<string, Checkpoint>): void {
    for (const [filePath, count] of this.uncommitted) if (count > 0) this.rollBack(filePath, positions);
    this.uncommitted.clear();
  }

  private rollBack(filePath: string, positions: Map<string, Checkpoint>): void {
    this.parsers.delete(filePath);
    const committed = this.committed.get(filePath);
    if (committed) positions.set(filePath, committed);
    else positions.delete(filePath);
  }

  /** Events whose terminator never came (a lost EOE, a quiet file) are emitted after a pause. */
  private async flushIdle(positions: Map<string, Checkpoint>): Promise<IngestStats> {
    const now = this.options.clock.now().getTime();
    const total = emptyStats();
    for (const [filePath, state] of [...this.parsers]) {
      if (state.parser.lowWaterMark() === null || now - state.lastLineAt < IDLE_FLUSH_MS) continue;
      try {
        const out = state.parser.flush();
        const position = positions.get(filePath);
        const checkpoints = position ? [{ filePath, ...position, readOffset: position.offset }] : [];
        addStats(total, await this.commit(out.events, out.malformed, checkpoints, this.watch.drain()));
        if (position) {
          this.committed.set(filePath, position);
          this.readUpTo.set(filePath, { fileId: position.fileId, offset: position.offset });
        }
      } catch (error) {
        this.rollBack(filePath, positions);
        throw error;
      }
    }
    return total;
  }

  private async commit(events: IngestBatch['events'], malformed: Malformed[], checkpoints: StoredCheckpoint[], health: HealthSignal[]): Promise<IngestStats> {
    const stats = await this.options.ingestor.ingest(this.name, { events, malformed, checkpoints, health });
    this.report(stats, malformed);
    return stats;
  }

  private parserFor(filePath: string): ParserState {
    let state = this.parsers.get(filePath);
    if (!state) {
      const options: ParserOptions = {
        defaultHost: this.options.source.host ?? localHostName(),
        resolveUid: this.options.resolveUid,
        onPipelineRecord: this.watch.observe,
        timeZone: this.options.source.timeZone,
      };
      const parser = this.options.source.type === 'auto' ? createAutoParser(options) : createParser(this.options.source.type, options);
      state = { parser, lastLineAt: this.options.clock.now().getTime() };
      this.parsers.set(filePath, state);
    }
    return state;
  }

  private report(stats: IngestStats, malformed: Malformed[]): void {
    const { metrics, logger } = this.options;
    metrics?.countEvents(this.name, stats.events, stats.matched);
    const counts = new Map<string, { count: number; item: Malformed }>();
    for (const item of malformed) {
      const entry = counts.get(item.reason);
      if (entry) entry.count += 1;
      else counts.set(item.reason, { count: 1, item });
    }
    for (const [reason, { count, item }] of counts) {
      logger.warn('malformed input skipped', { source: this.name, reason, count, sample: item.sample, offset: item.offset });
    }
  }
}
