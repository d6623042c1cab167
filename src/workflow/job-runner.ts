import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { claimDueJobs, completeJob, renewLeases, retryJob, type ClaimedJob, type JobKind } from '../store/queries/jobs.js';
import type { Database, JobRow } from '../store/schema.js';
import { classifyDatabaseError } from '../store/database-errors.js';

/** What a running job can see of its run. */
export interface JobContext {
  /**
   * Aborted when this worker no longer holds the job (its lease was taken over by another replica
   * after a stall, or the job was cancelled): a handler checks it before each external call.
   */
  signal: AbortSignal;
}

/** Counters the runner reports to (the service wires them to /metrics). */
export interface JobEvents {
  /** A run threw and will be retried. */
  failed(kind: JobKind): void;
  /** A job used up its attempts and was escalated (once per job, not per parked retry). */
  exhausted(kind: JobKind): void;
  /** A job was claimed from a worker whose lease had run out (it crashed or stalled). */
  leaseExpired(kind: JobKind): void;
}

export interface JobRunnerOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** Does the job's work; throwing schedules a retry with backoff. */
  handle: (job: JobRow, context: JobContext) => Promise<void>;
  /**
   * Called when a job used up its attempts, before it is parked. It must make the failure seen by
   * a path that does not depend on the one that failed (the workflow escalates the alert). Only a
   * call that returned marks the job failed (`failed_at`); one that threw is made again after the
   * job's next failed run, until one returns. A crash between its return and the mark repeats it,
   * so it must tolerate being called twice for one failure.
   */
  onExhausted?: (job: JobRow, error: Error) => Promise<void>;
  /**
   * How long a claim lasts without renewal, by the database's clock. The runner renews it every
   * third of this while the job runs, so it bounds how long a crashed worker's job waits, not how
   * long a job may take. Default 30 s; `jobs.lease` refuses less than 5 s, but the runner takes
   * any lease (tests use short ones).
   */
  leaseMs?: number;
  /** Jobs running at once; each has its own slot, so a slow one holds up nobody. Default 16. */
  concurrency?: number;
  /** Attempts before a failing job is given up on (and `onExhausted` runs). Default 12. */
  maxAttempts?: number;
  /** How long a job that used up its attempts waits before it is tried again. Default 15 min. */
  parkedRetryMs?: number;
  /**
   * Longest pause after claims that failed (the database is down): the pause doubles from one
   * second per failed claim up to this. Default 60 s.
   */
  maxBackoffMs?: number;
  events?: JobEvents;
}

interface RunningJob {
  job: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

const DEFAULTS = { leaseMs: 30_000, concurrency: 16, maxAttempts: 12, parkedRetryMs: 15 * 60_000, maxBackoffMs: 60_000 } as const;

/**
 * Runs due jobs claimed from the database, each in its own slot under a concurrency limit: a
 * freed slot claims the next due job at once, so there is no batch to wait for. Leases come from
 * the database's clock and are renewed while a job runs. `wake()` looks for work now (after a
 * schedule, a NOTIFY from another replica, or the poll timer); `runOnce()` runs everything due
 * and waits for it (tests and tools).
 */
export class JobRunner {
  readonly worker = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly settings: Required<Omit<JobRunnerOptions, 'onExhausted' | 'events'>>;
  private readonly active = new Map<number, RunningJob>();
  private claiming: Promise<void> | null = null;
  private wanted = false;
  private halted = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Claims failed in a row, and when claiming resumes after them. */
  private failedClaims = 0;
  private resumeAt = 0;
  private started = 0;

  constructor(private readonly options: JobRunnerOptions) {
    this.settings = { ...DEFAULTS, ...stripUndefined(options) } as Required<Omit<JobRunnerOptions, 'onExhausted' | 'events'>>;
  }

  /** How many jobs this runner is running now. */
  get running(): number {
    return this.active.size;
  }

  /**
   * Claims due jobs into the free slots, now or right after the claim in progress. Never throws:
   * a claim that fails (the database is unreachable) is logged, and wakes are ignored for a pause
   * that doubles with each failed claim in a row (up to `maxBackoffMs`); the first claim that
   * works ends the pause.
   */
  wake(): void {
    if (this.halted) return;
    this.wanted = true;
    if (this.claiming) return;
    this.claiming = this.claimIntoFreeSlots().finally(() => {
      this.claiming = null;
      if (this.wanted && !this.halted) this.wake();
    });
  }

  /** Runs every due job (and what they schedule for now), waits for them; returns how many ran. */
  async runOnce(): Promise<number> {
    const before = this.started;
    // A job that keeps rescheduling itself for "now" must not hold this loop forever.
    for (let round = 0; round < 50; round += 1) {
      const seen = this.started;
      this.wake();
      await this.idle();
      if (this.started === seen) break;
    }
    return this.started - before;
  }

  /** Polls for due jobs every `intervalMs` (a fallback for missed notifications and timers). */
  start(intervalMs: number): void {
    this.halted = false;
    const tick = () => {
      if (this.halted) return;
      this.wake();
      this.pollTimer = setTimeout(tick, intervalMs);
      this.pollTimer.unref();
    };
    tick();
  }

  /** Stops claiming and waits for the jobs in flight. */
  async stop(): Promise<void> {
    this.halted = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    await this.idle();
  }

  /** Resolves once no claim is in progress and no job runs (tests await this after a wake). */
  async idle(): Promise<void> {
    while (this.claiming || this.active.size > 0) {
      await Promise.all([this.claiming, ...[...this.active.values()].map((running) => running.done)]);
    }
  }

  private async claimIntoFreeSlots(): Promise<void> {
    const { db, clock, logger } = this.options;
    while (this.wanted && !this.halted) {
      this.wanted = false;
      if (clock.now().getTime() < this.resumeAt) return;
      const free = this.settings.concurrency - this.active.size;
      // A full runner is woken again when a slot frees.
      if (free <= 0) return;
      let jobs: ClaimedJob[];
      try {
        jobs = await claimDueJobs(db, { worker: this.worker, now: clock.now(), leaseMs: this.settings.leaseMs, limit: free });
        this.failedClaims = 0;
        this.resumeAt = 0;
      } catch (error) {
        this.failedClaims += 1;
        const pauseMs = Math.min(this.settings.maxBackoffMs, 1000 * 2 ** Math.min(this.failedClaims - 1, 16));
        this.resumeAt = clock.now().getTime() + pauseMs;
        logger.error('job round failed; pausing', { error: coerceError(error), failedRounds: this.failedClaims, pauseMs });
        return;
      }
      for (const job of jobs) this.startJob(job);
      // Every free slot was filled: more may be due.
      if (jobs.length === free) this.wanted = true;
    }
  }

  private startJob(job: ClaimedJob): void {
    if (job.lease_expired) {
      this.options.events?.leaseExpired(job.kind);
      this.options.logger.warn('job taken over after its lease ran out', { job: job.kind, alert: job.alert_id, attempts: job.attempts });
    }
    this.started += 1;
    const controller = new AbortController();
    const done = this.runJob(job, controller.signal)
      .catch((error) => this.options.logger.error('job bookkeeping failed; its lease will run out and it runs again', { job: job.kind, alert: job.alert_id, error: coerceError(error) }))
      .finally(() => {
        this.active.delete(job.id);
        if (this.active.size === 0) this.stopRenewing();
        this.wake();
      });
    this.active.set(job.id, { job, controller, done });
    this.renewWhileRunning();
  }

  private async runJob(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    const { db, clock, logger } = this.options;
    let failure: Error;
    let databaseFault: boolean;
    try {
      await this.options.handle(job, { signal });
      await completeJob(db, job);
      return;
    } catch (thrown) {
      failure = coerceError(thrown);
      databaseFault = classifyDatabaseError(thrown) === 'transient';
    }
    this.options.events?.failed(job.kind);
    if (databaseFault) {
      // The database failed (a lock or statement timeout, a lost connection, a deadlock), not the
      // job's delivery: such runs do not count against maxAttempts, or a long database fault
      // would escalate as `delivery_failed` a push the person approved meanwhile. The pause
      // still grows with the job's real attempts, and an outage stops claims anyway.
      const delay = retryDelayMs(Math.max(1, job.attempts));
      logger.warn('job hit a database fault; will retry without counting the attempt', { job: job.kind, alert: job.alert_id, attempts: job.attempts - 1, retryInMs: delay, error: failure });
      await retryJob(db, job, new Date(clock.now().getTime() + delay), failure.message, false, true);
      return;
    }
    if (job.attempts < this.settings.maxAttempts) {
      const delay = retryDelayMs(job.attempts);
      logger.warn('job failed; will retry', { job: job.kind, alert: job.alert_id, attempts: job.attempts, retryInMs: delay, error: failure });
      await retryJob(db, job, new Date(clock.now().getTime() + delay), failure.message);
      return;
    }
    await this.giveUp(job, failure);
  }

  /**
   * A job that used up its attempts is escalated once through `onExhausted`, then marked failed
   * and parked; a parked job that fails again stays parked. An escalation that throws leaves the
   * job unmarked and due again at the retry pace, so the run after that escalates again.
   */
  private async giveUp(job: ClaimedJob, failure: Error): Promise<void> {
    const { db, clock, logger } = this.options;
    const fields = { job: job.kind, alert: job.alert_id, attempts: job.attempts, error: failure };
    const parkedUntil = new Date(clock.now().getTime() + this.settings.parkedRetryMs);
    if (job.failed_at !== null) {
      logger.error('parked job failed again; it stays parked', fields);
      await retryJob(db, job, parkedUntil, failure.message);
      return;
    }
    logger.error('job failed too often; escalating and parking it', fields);
    const escalationError = await this.escalate(job, failure);
    if (escalationError) {
      const delay = retryDelayMs(job.attempts);
      logger.error('could not escalate a job that used up its attempts; trying again after its next run', { ...fields, retryInMs: delay, escalationError });
      await retryJob(db, job, new Date(clock.now().getTime() + delay), failure.message);
      return;
    }
    // Marked failed only now: the mark is what says the escalation is done.
    await retryJob(db, job, parkedUntil, failure.message, true);
    this.options.events?.exhausted(job.kind);
  }

  /** Runs `onExhausted`; returns what it threw, or null once it has returned. */
  private async escalate(job: ClaimedJob, failure: Error): Promise<Error | null> {
    try {
      await this.options.onExhausted?.(job, failure);
      return null;
    } catch (thrown) {
      return coerceError(thrown);
    }
  }

  /**
   * One timer renews every lease this runner holds, every third of the lease, so after a renewal
   * that fails or comes late the next still lands in time. No floor: a fixed minimum interval
   * would outlast a short lease.
   */
  private renewWhileRunning(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.settings.leaseMs / 3)));
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }

  private async renew(): Promise<void> {
    const ids = [...this.active.keys()];
    let held: Set<number>;
    try {
      held = await renewLeases(this.options.db, this.worker, ids, this.settings.leaseMs);
    } catch (error) {
      // The lease stands until it runs out; the next renewal may get through.
      this.options.logger.warn('could not renew job leases', { error: coerceError(error), jobs: ids.length });
      return;
    }
    for (const id of ids) {
      const running = this.active.get(id);
      if (running && !held.has(id) && !running.controller.signal.aborted) {
        this.options.logger.warn('job no longer held by this worker; stopping before its next external call', { job: running.job.kind, alert: running.job.alert_id });
        running.controller.abort();
      }
    }
  }
}

/** The pause before a failed job's next attempt: 1 s, doubling with each attempt, up to 5 min. */
function retryDelayMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 9));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
