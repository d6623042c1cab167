import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { SourceConfig } from '../config/config.js';
import { localHostName } from '../config/load-config.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../server/metrics.js';
import { loadCheckpoints, type StoredCheckpoint } from '../store/queries/sources.js';
import type { Database } from '../store/schema.js';
import type { CommandEvent } from './command-event.js';
import { FileTailer, type Checkpoint, type TailBatch } from './file-tail.js';
import { addStats, emptyStats, type IngestStats, type Ingestor } from './ingest.js';
import type { LogParser, Malformed, ParserOptions } from './parser.js';
import { createAutoParser, createParser } from './parsers/index.js';
import { MAX_LINE_CHARS } from './parsers/parse-support.js';

export interface FileSourceOptions {
  source: SourceConfig;
  ingestor: Ingestor;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  resolveUid?: ParserOptions['resolveUid'];
}

/** Held partial events are given up to the parser's flush after this much idle time. */
const IDLE_FLUSH_MS = 5000;
/** Polls in one round while files report more to read, so a backlog drains without waiting. */
const MAX_ROUNDS = 64;

/**
 * Follows one configured log source: tail the file(s), parse, and hand events to the ingestor
 * together with the checkpoint they lead to, so events and position commit together. The durable
 * checkpoint never passes the oldest line of an event the parser still holds; after a restart the
 * overlap is re-read and its already-stored events are recognised by their keys.
 */
export class FileSource {
  readonly name: string;
  private readonly tailer: FileTailer;
  private readonly parsers = new Map<string, { parser: LogParser; lastLineAt: number }>();
  private positions: Map<string, Checkpoint> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;

  constructor(private readonly options: FileSourceOptions) {
    this.name = options.source.name;
    if (!options.source.path) throw new Error(`source ${options.source.name} has no path to follow`);
    // The same line limit as the parsers: JSON formats may carry a megabyte-long argument.
    this.tailer = new FileTailer({ path: options.source.path, maxLineBytes: MAX_LINE_CHARS });
  }

  /** Reads everything new once; returns what was ingested. */
  async runOnce(): Promise<IngestStats> {
    const total = emptyStats();
    const positions = await this.loadPositions();
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const batches = await this.tailer.poll(positions);
      for (const batch of batches) addStats(total, await this.ingestBatch(batch, positions));
      if (!batches.some((batch) => batch.more)) break;
    }
    addStats(total, await this.flushIdle(positions));
    return total;
  }

  start(intervalMs: number): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      this.running = this.runOnce().catch((error) => this.options.logger.error('reading source failed', { source: this.name, error: coerceError(error) }));
      await this.running;
      this.running = null;
      if (!this.stopped) {
        this.timer = setTimeout(() => void tick(), intervalMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.tailer.close();
  }

  private async loadPositions(): Promise<Map<string, Checkpoint>> {
    if (!this.positions) {
      const stored = await loadCheckpoints(this.options.db, this.name);
      this.positions = new Map(stored.map((c) => [c.filePath, { fileId: c.fileId, offset: c.offset }]));
    }
    return this.positions;
  }

  private async ingestBatch(batch: TailBatch, positions: Map<string, Checkpoint>): Promise<IngestStats> {
    const now = this.options.clock.now();
    if (batch.truncated) this.parsers.delete(batch.filePath);
    const state = this.parserFor(batch.filePath);
    const events: CommandEvent[] = [];
    const malformed: Malformed[] = [];
    for (const line of batch.lines) {
      const out = state.parser.push(line.text, line.offset, now);
      events.push(...out.events);
      malformed.push(...out.malformed);
    }
    if (batch.lines.length > 0) state.lastLineAt = now.getTime();
    for (const long of batch.tooLong) malformed.push({ reason: 'too_long', sample: `(${long.bytes} bytes)`, offset: long.offset });
    let durableOffset = batch.endOffset;
    if (batch.finished) {
      const out = state.parser.flush();
      events.push(...out.events);
      malformed.push(...out.malformed);
      this.parsers.delete(batch.filePath);
    } else {
      durableOffset = Math.min(batch.endOffset, state.parser.lowWaterMark() ?? batch.endOffset);
    }
    positions.set(batch.filePath, { fileId: batch.fileId, offset: batch.endOffset });
    const checkpoint: StoredCheckpoint = { filePath: batch.filePath, fileId: batch.fileId, offset: durableOffset };
    return this.commit(events, malformed, [checkpoint]);
  }

  /** Events whose terminator never came (a lost EOE, a quiet file) are emitted after a pause. */
  private async flushIdle(positions: Map<string, Checkpoint>): Promise<IngestStats> {
    const now = this.options.clock.now().getTime();
    const total = emptyStats();
    for (const [filePath, state] of this.parsers) {
      if (state.parser.lowWaterMark() === null || now - state.lastLineAt < IDLE_FLUSH_MS) continue;
      const out = state.parser.flush();
      const position = positions.get(filePath);
      const checkpoints = position ? [{ filePath, fileId: position.fileId, offset: position.offset }] : [];
      addStats(total, await this.commit(out.events, out.malformed, checkpoints));
    }
    return total;
  }

  private async commit(events: CommandEvent[], malformed: Malformed[], checkpoints: StoredCheckpoint[]): Promise<IngestStats> {
    const stats = await this.options.ingestor.ingest(this.name, { events, malformed, checkpoints });
    this.report(stats, malformed);
    return stats;
  }

  private parserFor(filePath: string): { parser: LogParser; lastLineAt: number } {
    let state = this.parsers.get(filePath);
    if (!state) {
      const options: ParserOptions = { defaultHost: this.options.source.host ?? localHostName(), resolveUid: this.options.resolveUid };
      const parser = this.options.source.type === 'auto' ? createAutoParser(options) : createParser(this.options.source.type, options);
      state = { parser, lastLineAt: this.options.clock.now().getTime() };
      this.parsers.set(filePath, state);
    }
    return state;
  }

  private report(stats: IngestStats, malformed: Malformed[]): void {
    const { metrics, logger } = this.options;
    metrics?.increment('vouch_events_total', { source: this.name }, stats.events);
    metrics?.increment('vouch_rule_hits_total', { source: this.name }, stats.matched);
    const seen = new Set<string>();
    for (const item of malformed) {
      if (seen.has(item.reason)) continue;
      seen.add(item.reason);
      const count = malformed.filter((m) => m.reason === item.reason).length;
      logger.warn('malformed input skipped', { source: this.name, reason: item.reason, count, sample: item.sample, offset: item.offset });
    }
  }
}
