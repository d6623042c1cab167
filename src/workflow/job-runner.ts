import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { claimDueJobs, completeJob, retryJob } from '../store/queries/jobs.js';
import type { Database, JobRow } from '../store/schema.js';

export interface JobRunnerOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** Does the job's work; throwing schedules a retry with backoff. */
  handle: (job: JobRow) => Promise<void>;
  /** How long a claim lasts; longer than any single job (Duo long-polls included). Default 120 s. */
  leaseMs?: number;
  /** Jobs claimed per round. Default 20. */
  batchSize?: number;
  /** Attempts before a failing job is abandoned (and recorded in the audit trail). Default 12. */
  maxAttempts?: number;
  /**
   * Longest pause after rounds that failed (the database is down): the pause doubles from one
   * poll per failed round up to this. Default 60 s.
   */
  maxBackoffMs?: number;
}

/**
 * Runs due jobs claimed from the database. `runOnce()` is the whole loop body; `start()` only
 * wires it to a timer, and `wake()` runs it promptly after something was scheduled.
 */
export class JobRunner {
  readonly worker = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private running: Promise<number> | null = null;
  private rerun = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** Rounds failed in a row, and when polling resumes after them. */
  private failedRounds = 0;
  private resumeAt = 0;

  constructor(private readonly options: JobRunnerOptions) {}

  /** Claims and runs every due job (in parallel within a batch); returns how many ran. */
  async runOnce(): Promise<number> {
    const { db, clock, leaseMs = 120_000, batchSize = 20 } = this.options;
    let total = 0;
    // Jobs that schedule follow-ups for "now" are picked up in the next round; the cap keeps a
    // job that keeps rescheduling itself from holding the loop.
    for (let round = 0; round < 50; round += 1) {
      const now = clock.now();
      const jobs = await claimDueJobs(db, { worker: this.worker, now, leaseUntil: new Date(now.getTime() + leaseMs), limit: batchSize });
      if (jobs.length === 0) break;
      await Promise.all(jobs.map((job) => this.runJob(job)));
      total += jobs.length;
    }
    return total;
  }

  /**
   * Runs due jobs now, or right after the round in progress. Never throws: a round that fails
   * (the database is unreachable) is logged, and wakes are ignored for a pause that doubles with
   * each failed round in a row (up to `maxBackoffMs`); the first round that works ends the pause.
   */
  wake(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (this.options.clock.now().getTime() < this.resumeAt) return;
    this.running = this.runOnce()
      .then((count) => {
        this.failedRounds = 0;
        this.resumeAt = 0;
        return count;
      })
      .catch((error) => {
        this.failedRounds += 1;
        const pauseMs = Math.min(this.options.maxBackoffMs ?? 60_000, 1000 * 2 ** Math.min(this.failedRounds - 1, 16));
        this.resumeAt = this.options.clock.now().getTime() + pauseMs;
        this.options.logger.error('job round failed; pausing', { error: coerceError(error), failedRounds: this.failedRounds, pauseMs });
        return 0;
      })
      .finally(() => {
        this.running = null;
        if (this.rerun && !this.stopped) {
          this.rerun = false;
          this.wake();
        }
      });
  }

  /** Polls for due jobs every `intervalMs`. */
  start(intervalMs: number): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops polling and waits for the jobs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.rerun = false;
    await this.running;
  }

  /** Resolves once no round is in progress (tests await this after a wake). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runJob(job: JobRow): Promise<void> {
    const { db, clock, logger, maxAttempts = 12 } = this.options;
    try {
      await this.options.handle(job);
      await completeJob(db, job);
    } catch (thrown) {
      const error = coerceError(thrown);
      if (job.attempts >= maxAttempts) {
        logger.error('job abandoned after repeated failures', { job: job.kind, alert: job.alert_id, attempts: job.attempts, error });
        await completeJob(db, job);
        await db.transaction().execute((trx) =>
          appendAudit(trx, { alertId: job.alert_id, at: clock.now(), actor: 'system', action: 'job_abandoned', detail: { job: job.kind, error: error.message } }),
        );
        return;
      }
      const delay = Math.min(300_000, 1000 * 2 ** Math.min(job.attempts, 9));
      logger.warn('job failed; will retry', { job: job.kind, alert: job.alert_id, attempts: job.attempts, retryInMs: delay, error });
      await retryJob(db, job, new Date(clock.now().getTime() + delay), error.message);
    }
  }
}
