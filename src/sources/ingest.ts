import { sql, type Kysely, type Transaction } from 'kysely';
import { redactEvent } from '../alerts/redact.js';
import type { Clock } from '../clock.js';
import type { RuleMatch, RuleSet } from '../detect/rule.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { classifyDatabaseError, sqlState } from '../store/database-errors.js';
import { applyHeldLines, idleHeldLines, readHeldLines, type HeldLines, type HeldLinesUpdate } from '../store/queries/ingest-held-lines.js';
import { countMalformed, saveCheckpoint, type StoredCheckpoint } from '../store/queries/sources.js';
import { DEFAULT_RETRY_POLICY, realSleep, retryTransient, type RetryPolicy } from '../store/retry-transient.js';
import type { Database } from '../store/schema.js';
import { storableEvent, storableText } from '../store/storable.js';
import { HitRecorder, type IntakePolicy, type IntakeResult } from '../workflow/alert-intake.js';
import type { HealthSignal } from '../health/health-signal.js';
import { recordHealthSignals, touchHosts } from '../store/queries/health.js';
import type { CommandEvent } from './command-event.js';
import type { Malformed, MalformedReason } from './parser.js';
import { sampleOf } from './parsers/parse-support.js';
import { provenanceColumns, provenanceOf } from './provenance.js';

export interface IngestBatch {
  events: readonly CommandEvent[];
  malformed: readonly Malformed[];
  /** File positions these events were read up to; saved in the same transaction. */
  checkpoints?: readonly StoredCheckpoint[];
  /** What the lines said about the audit pipeline; stored in the same transaction. */
  health?: readonly HealthSignal[];
  /**
   * Malformed input of earlier reads, counted and held back until now (`vouch ingest` holds them
   * until the log's format is confirmed); stored with this batch's own malformed counts.
   */
  heldMalformed?: readonly MalformedTally[];
  /**
   * The held lines of `POST /ingest` this batch read and the lines it ends inside an event with
   * (see ingest-held-lines.ts); applied in the same transaction. When another transaction changed
   * them first, ingest rejects with HeldLinesConflictError, having committed nothing.
   */
  heldLines?: HeldLinesUpdate;
}

/** Malformed input of one reason, counted: how many, and the latest one's sample. */
export interface MalformedTally {
  reason: MalformedReason;
  count: number;
  sample: string;
}

export interface IngestStats {
  events: number;
  matched: number;
  /** Events already stored by an earlier read (a replay after a crash or rotation). */
  duplicates: number;
  alertsCreated: number;
  alertsFolded: number;
  /** Alerts recorded as suppressed: nobody was asked. */
  alertsSuppressed: number;
  /** Malformed input, the unstorable rule hits below included. */
  malformed: number;
  /** Rule hits the database refused, set aside and counted as malformed (`unstorable`). */
  unstorable: number;
}

export const emptyStats = (): IngestStats => ({ events: 0, matched: 0, duplicates: 0, alertsCreated: 0, alertsFolded: 0, alertsSuppressed: 0, malformed: 0, unstorable: 0 });

export function addStats(into: IngestStats, from: IngestStats): void {
  for (const key of Object.keys(into) as Array<keyof IngestStats>) into[key] += from[key];
}

export interface IngestorOptions {
  db: Kysely<Database>;
  rules: RuleSet;
  policy: IntakePolicy;
  clock: Clock;
  onAlert?: () => void;
  logger?: Logger;
  /** Retries of a transaction that failed for a transient reason. Default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** Waits between retries; injected so tests never really wait. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter of the retry delays, in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Note every batch's hosts as heard from now, for the silent-host check. The running service
   * does; a backfill of old logs (`vouch ingest`) must not, or its hosts would seem to go silent.
   */
  recordHostActivity?: boolean;
}

/** A rule hit ready to store: the event already storable and redacted. */
interface Hit {
  event: CommandEvent;
  match: RuleMatch;
}

/**
 * Stores what a source produced: rule hits become command events and alerts, malformed input is
 * counted, and the source's checkpoint moves, all in one transaction. A crash before commit
 * leaves the checkpoint where it was, and re-reading is harmless because (source, event_key) is
 * unique: every event is ingested exactly once.
 *
 * Only events that match a rule are stored; the rest of the audit stream stays in the log files.
 * Every stored event passes through storableEvent() first, whichever path it came by.
 */
export class Ingestor {
  constructor(private readonly options: IngestorOptions) {}

  /** The lines `POST /ingest` holds for `source`, by shipper host (see ingest-held-lines.ts). */
  heldLines(source: string): Promise<HeldLines[]> {
    return readHeldLines(this.options.db, source);
  }

  /** Held lines of any source whose host sent nothing since before `before`. */
  idleHeldLines(before: Date, limit: number): Promise<HeldLines[]> {
    return idleHeldLines(this.options.db, before, limit);
  }

  /**
   * Stores one batch. The contract callers (the file tailer, /ingest, `vouch ingest`) rely on:
   *
   * - **Resolves** once everything in the batch is committed in one transaction: its rule hits,
   *   its malformed counts and its checkpoints. A hit the database refuses (a data error, e.g.
   *   a value out of range) is isolated by halving the work under savepoints, counted as
   *   malformed with reason `unstorable` and a redacted sample, and the rest is stored.
   * - **Rejects**, having committed nothing of the batch (checkpoints included), when a transient
   *   failure (connection lost, server shutting down, statement or lock timeout, deadlock,
   *   serialization failure) outlasts the retries: DatabaseUnavailableError. The transaction is
   *   retried from its start with capped exponential backoff and jitter before that. The caller
   *   keeps its last committed position and reads again from there later.
   * - Rejects at once on any other failure (a missing table, a bug); nothing is committed.
   */
  async ingest(source: string, batch: IngestBatch): Promise<IngestStats> {
    const now = this.options.clock.now();
    const hits: Hit[] = [];
    for (const event of batch.events) {
      // Rules see the event as parsed; only hits are stored, so only they cross the boundary.
      const match = this.options.rules.match(event);
      // Secrets are removed before anything is stored, so no later path can leak them.
      if (match) hits.push({ event: redactEvent(storableEvent(event, now)), match });
    }
    const base = emptyStats();
    base.events = batch.events.length;
    base.matched = hits.length;
    const malformed = tallyMalformed(batch.heldMalformed ?? [], batch.malformed);
    base.malformed = malformed.reduce((sum, tally) => sum + tally.count, 0);
    const health = batch.health ?? [];
    const heard = this.options.recordHostActivity === true && batch.events.length > 0;
    const heldLines = batch.heldLines && (batch.heldLines.taken.length > 0 || batch.heldLines.hold.length > 0) ? batch.heldLines : null;
    if (hits.length === 0 && malformed.length === 0 && !batch.checkpoints?.length && health.length === 0 && !heard && heldLines === null) return base;
    const hosts = this.options.recordHostActivity ? hostsOf(batch.events, health) : new Set<string>();
    const { logger } = this.options;
    const { stats, steps } = await retryTransient(
      () => this.options.db.transaction().execute((trx) => this.store(trx, source, { hits, malformed, checkpoints: batch.checkpoints ?? [], health, hosts, heldLines, now })),
      this.options.retry ?? DEFAULT_RETRY_POLICY,
      {
        sleep: this.options.sleep ?? realSleep,
        random: this.options.random ?? Math.random,
        onRetry: ({ attempt, delayMs, error }) => logger?.warn('ingest transaction failed; retrying', { source, attempt, retryInMs: delayMs, error: coerceError(error) }),
      },
    );
    addStats(stats, base);
    if (logger) logAlertSteps(logger, source, steps);
    if (stats.alertsCreated > 0) {
      logger?.info('alerts created', { source, created: stats.alertsCreated, folded: stats.alertsFolded, suppressed: stats.alertsSuppressed });
      this.options.onAlert?.();
    }
    return stats;
  }

  /** One attempt: everything of the batch in `trx`. Returns what it stored (hits and unstorable). */
  private async store(
    trx: Transaction<Database>,
    source: string,
    work: {
      hits: readonly Hit[];
      malformed: readonly MalformedTally[];
      checkpoints: readonly StoredCheckpoint[];
      health: readonly HealthSignal[];
      hosts: ReadonlySet<string>;
      heldLines: HeldLinesUpdate | null;
      now: Date;
    },
  ): Promise<{ stats: IngestStats; steps: AlertStep[] }> {
    const stats = emptyStats();
    const unstorable: Malformed[] = [];
    const steps: AlertStep[] = [];
    // First: a request that lost the race for its held lines stops before doing anything else,
    // and the one that won holds their rows until it commits.
    if (work.heldLines !== null) await applyHeldLines(trx, work.heldLines);
    // Postgres takes at most 65535 parameters a statement: insert in chunks.
    for (let start = 0; start < work.hits.length; start += INSERT_CHUNK) {
      await this.storeIsolating(trx, source, work.hits.slice(start, start + INSERT_CHUNK), work.now, { stats, unstorable, steps });
    }
    if (unstorable.length > 0) {
      this.options.logger?.warn('unstorable rule hits set aside', { source, count: unstorable.length, sample: unstorable[0]?.sample, detail: unstorable[0]?.detail });
    }
    stats.unstorable = unstorable.length;
    stats.malformed = unstorable.length;
    for (const tally of tallyMalformed(work.malformed, unstorable)) {
      await countMalformed(trx, source, tally.reason, tally.count, storableText(tally.sample), work.now);
    }
    await touchHosts(trx, source, work.hosts, work.now);
    await recordHealthSignals(trx, work.health, work.now);
    // The checkpoint last: the transaction holds its row lock for the shortest time.
    for (const checkpoint of work.checkpoints) await saveCheckpoint(trx, source, checkpoint, work.now);
    return { stats, steps };
  }

  /**
   * Stores `hits` under a savepoint. When the database refuses the data (a poison record), rolls
   * back to the savepoint and stores each half the same way, down to the single refused hit,
   * which is set aside as `unstorable`. Other failures end the transaction (and are retried whole).
   */
  private async storeIsolating(
    trx: Transaction<Database>,
    source: string,
    hits: readonly Hit[],
    now: Date,
    into: { stats: IngestStats; unstorable: Malformed[]; steps: AlertStep[] },
  ): Promise<void> {
    if (hits.length === 0) return;
    const part = emptyStats();
    const partSteps: AlertStep[] = [];
    await sql`savepoint vouch_ingest_part`.execute(trx);
    try {
      await this.storeHits(trx, source, hits, now, part, partSteps);
      await sql`release savepoint vouch_ingest_part`.execute(trx);
    } catch (error) {
      if (classifyDatabaseError(error) !== 'poison') throw error;
      await sql`rollback to savepoint vouch_ingest_part`.execute(trx);
      await sql`release savepoint vouch_ingest_part`.execute(trx);
      if (hits.length === 1) {
        into.unstorable.push(unstorableHit(hits[0] as Hit, error));
        return;
      }
      const middle = Math.ceil(hits.length / 2);
      await this.storeIsolating(trx, source, hits.slice(0, middle), now, into);
      await this.storeIsolating(trx, source, hits.slice(middle), now, into);
      return;
    }
    addStats(into.stats, part);
    for (const step of partSteps) into.steps.push(step);
  }

  private async storeHits(trx: Transaction<Database>, source: string, hits: readonly Hit[], now: Date, stats: IngestStats, steps: AlertStep[]): Promise<void> {
    const inserted = await trx
      .insertInto('command_events')
      .values(hits.map(({ event, match }) => eventRow(source, event, match, now)))
      .onConflict((oc) => oc.columns(['source', 'event_key']).doNothing())
      .returning(['id', 'event_key'])
      .execute();
    const idByKey = new Map(inserted.map((row) => [row.event_key, row.id]));
    stats.duplicates += hits.length - inserted.length;
    const fresh: Array<{ eventId: number; event: CommandEvent; match: RuleMatch }> = [];
    for (const { event, match } of hits) {
      const eventId = idByKey.get(event.eventKey);
      if (eventId === undefined) continue;
      idByKey.delete(event.eventKey);
      fresh.push({ eventId, event, match });
    }
    if (fresh.length === 0) return;
    const recorder = await HitRecorder.open(trx, fresh, now, this.options.policy);
    for (const hit of fresh) {
      const result = await recorder.record(hit);
      if (result.kind !== 'ignored') steps.push({ result, rule: hit.match.ruleId, host: hit.event.host, owner: hit.event.user });
      if (result.kind === 'created') stats.alertsCreated += 1;
      // Joined a conversation (open, verified in the same session, or escalated) instead of asking again.
      if (result.kind === 'folded' || result.kind === 'joined' || result.kind === 'covered' || result.kind === 'repeated') stats.alertsFolded += 1;
      if (result.kind === 'suppressed') stats.alertsSuppressed += 1;
    }
    await recorder.finish();
  }
}

const INSERT_CHUNK = 1000;

/** What one rule hit became, for the log. */
interface AlertStep {
  result: Exclude<IntakeResult, { kind: 'ignored' }>;
  rule: string;
  host: string;
  owner: string | null;
}

/** Alert steps logged one by one per batch; a burst past it is summed up in one more line. */
const LOGGED_STEPS_PER_BATCH = 50;

/**
 * Logs each alert a batch created, folded, joined or suppressed at info, as the workflow logs
 * the steps after it, so an operator watching the service sees an alert from its start. A burst
 * (a deploy across the fleet) logs its first LOGGED_STEPS_PER_BATCH and a count of the rest;
 * the audit trail has every one.
 */
function logAlertSteps(logger: Logger, source: string, steps: readonly AlertStep[]): void {
  for (const { result, rule, host, owner } of steps.slice(0, LOGGED_STEPS_PER_BATCH)) {
    const conversation = 'conversationId' in result ? { conversation: result.conversationId } : {};
    const suppression = result.kind === 'suppressed' ? { suppression: result.suppressionId } : {};
    logger.info(`alert ${result.kind}`, { alert: result.alertId, source, rule, host, owner, ...conversation, ...suppression });
  }
  if (steps.length > LOGGED_STEPS_PER_BATCH) {
    logger.info('more alert steps in this batch (see the audit trail)', { source, more: steps.length - LOGGED_STEPS_PER_BATCH });
  }
}

/** A refused hit as malformed input: its (already redacted) command as the sample, the SQLSTATE as detail. */
function unstorableHit(hit: Hit, error: unknown): Malformed {
  const code = sqlState(error);
  return { reason: 'unstorable', sample: sampleOf(hit.event.command), detail: code ? `SQLSTATE ${code}` : coerceError(error).message.slice(0, 200) };
}


function eventRow(source: string, event: CommandEvent, match: RuleMatch, now: Date) {
  return {
    source,
    event_key: event.eventKey,
    occurred_at: event.time,
    host: event.host,
    login_user: event.user,
    login_uid: event.loginUid,
    run_as: event.runAs,
    argv: JSON.stringify(event.argv),
    command: event.command,
    exe: event.exe,
    cwd: event.cwd,
    pid: event.pid,
    ppid: event.ppid,
    source_format: event.sourceFormat,
    sudo_denied: event.sudoDenied ?? false,
    extra: JSON.stringify(event.extra ?? null),
    rule_id: match.ruleId,
    ingested_at: now,
    ...provenanceColumns(provenanceOf(event)),
  };
}

/** `tallies` with `items` counted in, one tally per reason; the latest item's sample is kept. */
export function tallyMalformed(tallies: readonly MalformedTally[], items: readonly Malformed[]): MalformedTally[] {
  const byReason = new Map<MalformedReason, MalformedTally>();
  const add = (reason: MalformedReason, count: number, sample: string) => {
    const tally = byReason.get(reason);
    if (tally) Object.assign(tally, { count: tally.count + count, sample });
    else byReason.set(reason, { reason, count, sample });
  };
  for (const tally of tallies) add(tally.reason, tally.count, tally.sample);
  for (const item of items) add(item.reason, 1, item.sample);
  return [...byReason.values()];
}

/** Most hosts a batch notes as heard from: a forged log naming a million hosts stays bounded. */
const MAX_HOSTS_PER_BATCH = 1000;

/** The hosts a batch heard from (for the silent-host check), in a stable order. */
function hostsOf(events: readonly CommandEvent[], health: readonly HealthSignal[]): Set<string> {
  const hosts = new Set<string>();
  for (const item of [...events, ...health]) {
    if (hosts.size >= MAX_HOSTS_PER_BATCH) break;
    hosts.add(item.host);
  }
  // Sorted, so two transactions upserting the same hosts lock them in the same order.
  return new Set([...hosts].sort());
}
