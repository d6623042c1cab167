import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database, JobRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The workflow's durable timers and side effects, one row per (alert, kind). */
export const JOB_KINDS = ['ask', 'remind', 'deadline', 'push', 'poll', 'notify_security', 'update_dm', 'notify_repeat', 'contact', 'announce', 'page'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The channel replicas NOTIFY when they schedule work that is due now. */
export const JOBS_CHANNEL = 'vouch_jobs';

/** A claimed job, and whether it was taken over from a worker whose lease ran out. */
export interface ClaimedJob extends JobRow {
  lease_expired: boolean;
}

/**
 * Schedules (or reschedules) the alert's job of this kind. A job that is running keeps its lock:
 * the new schedule bumps `version`, so when the running copy finishes it releases the row for
 * the new run instead of deleting it, and no second worker can start it meanwhile.
 */
export async function scheduleJob(db: Db, alertId: string, kind: JobKind, runAt: Date): Promise<void> {
  await db
    .insertInto('jobs')
    .values({ alert_id: alertId, kind, run_at: runAt })
    .onConflict((oc) =>
      oc.columns(['alert_id', 'kind']).doUpdateSet({
        run_at: runAt,
        attempts: 0,
        last_error: null,
        failed_at: null,
        version: sql<number>`jobs.version + 1`,
      }),
    )
    .execute();
}

/** Tells the other replicas (and this one) that work is due; delivered when `db`'s transaction commits. */
export async function notifyJobsDue(db: Db): Promise<void> {
  await sql`select pg_notify(${JOBS_CHANNEL}, '')`.execute(db);
}

export async function cancelJobs(db: Db, alertId: string, kinds: readonly JobKind[]): Promise<void> {
  if (kinds.length === 0) return;
  await db.deleteFrom('jobs').where('alert_id', '=', alertId).where('kind', 'in', kinds).execute();
}

/**
 * Claims up to `limit` jobs due at `now` for `worker`, leased for `leaseMs` by the database's
 * clock (replicas' own clocks may disagree; the lease must not). SKIP LOCKED lets replicas claim
 * side by side without ever taking the same job; a lease that ran out (a crashed or stalled
 * worker) makes the job claimable again, and the claim says so.
 */
export async function claimDueJobs(db: Kysely<Database>, options: { worker: string; now: Date; leaseMs: number; limit: number }): Promise<ClaimedJob[]> {
  const { worker, now, leaseMs, limit } = options;
  if (limit <= 0) return [];
  const result = await sql<ClaimedJob>`
    with due as (
      select id, locked_by as previous_worker from jobs
      where run_at <= ${now} and (locked_until is null or locked_until < now())
      order by run_at
      limit ${limit}
      for update skip locked
    )
    update jobs set locked_by = ${worker}, locked_until = now() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1
    from due where jobs.id = due.id
    returning jobs.*, due.previous_worker is not null as lease_expired`.execute(db);
  return result.rows;
}

/**
 * Extends the leases `worker` still holds on `ids` by `leaseMs` from the database's now, and
 * returns the ids it still holds (a job missing from the answer was taken over or cancelled).
 */
export async function renewLeases(db: Kysely<Database>, worker: string, ids: readonly number[], leaseMs: number): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .updateTable('jobs')
    .set({ locked_until: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'` })
    .where('id', 'in', ids)
    .where('locked_by', '=', worker)
    .returning('id')
    .execute();
  return new Set(rows.map((row) => row.id));
}

/**
 * Ends a run: deletes the job if it was not rescheduled while it ran; otherwise releases the
 * lock so the new schedule runs. Only the worker holding the job can do either.
 */
export async function completeJob(db: Db, job: JobRow): Promise<void> {
  const deleted = await db
    .deleteFrom('jobs')
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .where('version', '=', job.version)
    .executeTakeFirst();
  if (deleted.numDeletedRows > 0n) return;
  await releaseJob(db, job);
}

/** Releases the lock `job`'s worker holds, leaving the schedule as it is. */
export async function releaseJob(db: Db, job: JobRow): Promise<void> {
  await db.updateTable('jobs').set({ locked_by: null, locked_until: null }).where('id', '=', job.id).where('locked_by', '=', job.locked_by).execute();
}

/**
 * Releases a failed job to run again at `retryAt`, keeping the error for operators; `failed`
 * marks it as having used up its attempts, `refund` gives back the attempt its claim counted. A
 * reschedule made while it ran wins over the retry.
 */
export async function retryJob(db: Db, job: JobRow, retryAt: Date, error: string, failed = false, refund = false): Promise<void> {
  const updated = await db
    .updateTable('jobs')
    .set({
      run_at: retryAt,
      locked_by: null,
      locked_until: null,
      last_error: error.slice(0, 2000),
      ...(failed ? { failed_at: retryAt } : {}),
      // The run did not count (see JobRunner): the attempt its claim took is given back.
      ...(refund ? { attempts: sql<number>`greatest(attempts - 1, 0)` } : {}),
    })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .where('version', '=', job.version)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) await releaseJob(db, job);
}

/** The scheduled jobs of these kinds for these alerts, soonest first (what each alert waits for next). */
export function scheduledJobsOf(db: Db, alertIds: readonly string[], kinds: readonly JobKind[]): Promise<Array<Pick<JobRow, 'alert_id' | 'kind' | 'run_at'>>> {
  if (alertIds.length === 0 || kinds.length === 0) return Promise.resolve([]);
  return db.selectFrom('jobs').select(['alert_id', 'kind', 'run_at']).where('alert_id', 'in', alertIds).where('kind', 'in', kinds).orderBy('run_at').execute();
}

/** The earliest run_at of any job, so the runner can sleep until then. */
export async function nextJobAt(db: Kysely<Database>): Promise<Date | null> {
  const row = await db.selectFrom('jobs').select((eb) => eb.fn.min('run_at').as('next')).executeTakeFirst();
  return (row?.next as Date | null | undefined) ?? null;
}

/**
 * Whether a job used up its attempts: parked once its escalation went through (`failed_at`), or
 * still waiting for an escalation that keeps failing (Slack down too), which is the one an
 * operator most needs to see: its last run failed the `maxAttempts`-th time or later and no worker
 * holds it. A reschedule sets the attempts back to 0.
 */
function usedUpItsAttempts(maxAttempts: number) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) =>
    eb.or([eb('failed_at', 'is not', null), eb.and([eb('attempts', '>=', maxAttempts), eb('locked_by', 'is', null)])]);
}

/** Jobs that used up their attempts (see usedUpItsAttempts), the next due first (for `vouch doctor`). */
export async function failedJobs(db: Kysely<Database>, maxAttempts: number, limit = 20): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where(usedUpItsAttempts(maxAttempts)).orderBy('run_at').limit(limit).execute();
}

/** How many jobs used up their attempts (see usedUpItsAttempts), by kind (for /metrics and /healthz). */
export async function countFailedJobs(db: Kysely<Database>, maxAttempts: number): Promise<Array<{ kind: string; count: number }>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
    .where(usedUpItsAttempts(maxAttempts))
    .groupBy('kind')
    .execute();
  return rows.map((row) => ({ kind: row.kind, count: Number(row.count) }));
}
