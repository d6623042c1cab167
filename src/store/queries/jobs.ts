import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, JobRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The workflow's durable timers and side effects, one row per (alert, kind). */
export const JOB_KINDS = ['ask', 'remind', 'deadline', 'push', 'poll', 'notify_security', 'update_dm'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Schedules (or reschedules) the alert's job of this kind. */
export async function scheduleJob(db: Db, alertId: string, kind: JobKind, runAt: Date): Promise<void> {
  await db
    .insertInto('jobs')
    .values({ alert_id: alertId, kind, run_at: runAt })
    .onConflict((oc) =>
      oc.columns(['alert_id', 'kind']).doUpdateSet({ run_at: runAt, locked_by: null, locked_until: null, attempts: 0, last_error: null }),
    )
    .execute();
}

export async function cancelJobs(db: Db, alertId: string, kinds: readonly JobKind[]): Promise<void> {
  if (kinds.length === 0) return;
  await db.deleteFrom('jobs').where('alert_id', '=', alertId).where('kind', 'in', kinds).execute();
}

/**
 * Claims up to `limit` due jobs for `worker` until `leaseUntil`. SKIP LOCKED lets replicas claim
 * side by side without ever taking the same job; a lease that runs out (a crashed worker) makes the
 * job claimable again.
 */
export async function claimDueJobs(db: Kysely<Database>, options: { worker: string; now: Date; leaseUntil: Date; limit: number }): Promise<JobRow[]> {
  const { worker, now, leaseUntil, limit } = options;
  const result = await sql<JobRow>`
    update jobs set locked_by = ${worker}, locked_until = ${leaseUntil}, attempts = attempts + 1
    where id in (
      select id from jobs
      where run_at <= ${now} and (locked_until is null or locked_until < ${now})
      order by run_at
      limit ${limit}
      for update skip locked
    )
    returning *`.execute(db);
  return result.rows;
}

/** Removes a finished job, unless it was rescheduled while it ran (then the new schedule stands). */
export async function completeJob(db: Db, job: JobRow): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', job.id).where('locked_by', '=', job.locked_by).where('run_at', '=', job.run_at).execute();
}

/** Releases a failed job to run again at `retryAt`, keeping the error for operators. */
export async function retryJob(db: Db, job: JobRow, retryAt: Date, error: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ run_at: retryAt, locked_by: null, locked_until: null, last_error: error.slice(0, 2000) })
    .where('id', '=', job.id)
    .where('locked_by', '=', job.locked_by)
    .execute();
}

/** The earliest run_at of any job, so the runner can sleep until then. */
export async function nextJobAt(db: Kysely<Database>): Promise<Date | null> {
  const row = await db.selectFrom('jobs').select((eb) => eb.fn.min('run_at').as('next')).executeTakeFirst();
  return (row?.next as Date | null | undefined) ?? null;
}
