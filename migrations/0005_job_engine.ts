import type { Kysely } from 'kysely';

/**
 * The job engine's bookkeeping and the side-effect intents.
 *
 * - `jobs.version` grows with every reschedule, so a job that finishes only deletes the schedule
 *   it ran and a reschedule made meanwhile stands (comparing run_at fails when both are "now").
 * - `jobs.failed_at` marks a job that used up its attempts: it stays, parked for a slow retry and
 *   listed by `vouch doctor`, instead of being deleted.
 * - `alerts.*_requested_at` record that an external call (a DM, a reminder, the security-channel
 *   post, a Duo push) was about to be made. A re-run that finds one set reconciles with Slack or
 *   Duo before repeating the call.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('alerts')
    .addColumn('dm_requested_at', 'timestamptz')
    .addColumn('reminder_requested_at', 'timestamptz')
    .addColumn('escalation_requested_at', 'timestamptz')
    .addColumn('push_requested_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('alerts')
    .dropColumn('dm_requested_at')
    .dropColumn('reminder_requested_at')
    .dropColumn('escalation_requested_at')
    .dropColumn('push_requested_at')
    .execute();
  await db.schema.alterTable('jobs').dropColumn('version').dropColumn('failed_at').execute();
}
