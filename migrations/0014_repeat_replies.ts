import type { Kysely } from 'kysely';

/**
 * `alerts.repeats_noted_at` (on an escalated conversation's lead): when repeats were last noted
 * in the escalation's thread, so a command that keeps repeating (a cron job) is noted in batches
 * instead of one reply per run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('repeats_noted_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').dropColumn('repeats_noted_at').execute();
}
