import { sql, type Kysely } from 'kysely';

/**
 * The escalation ladder, working hours, the critical heads-up and paging.
 *
 * - `identities.time_zone`: the person's zone from Slack (`users.info` tz), cached with the identity.
 * - `alerts.deferred_until`: an out-of-hours low or medium question waits until then.
 * - `alerts.reminders_sent` / `reminder_refs`: how far up the reminders the ladder is, and where
 *   each reminder lives (they are updated to say so once the conversation ended).
 * - `alerts.contact_*`: the escalation contact's message (a DM to the manager or a channel post
 *   mentioning the on-call group), with its intent for reconciliation.
 * - `alerts.announce_*` / `outcome_*`: a critical alert's heads-up in the security channel and the
 *   outcome reply in its thread, with their intents.
 * - `alerts.paged_at` / `page_resolved_at`: when PagerDuty accepted the trigger for this alert,
 *   and the resolve sent once a reviewer marked it reviewed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('identities').addColumn('time_zone', 'text').addColumn('time_zone_resolved_at', 'timestamptz').execute();
  await db.schema
    .alterTable('alerts')
    .addColumn('deferred_until', 'timestamptz')
    .addColumn('reminders_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reminder_refs', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('contact_requested_at', 'timestamptz')
    .addColumn('contact_channel', 'text')
    .addColumn('contact_ts', 'text')
    .addColumn('announce_requested_at', 'timestamptz')
    .addColumn('announce_channel', 'text')
    .addColumn('announce_ts', 'text')
    .addColumn('outcome_requested_at', 'timestamptz')
    .addColumn('outcome_ts', 'text')
    .addColumn('paged_at', 'timestamptz')
    .addColumn('page_resolved_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  let alter = db.schema.alterTable('alerts').dropColumn('deferred_until');
  for (const column of [
    'reminders_sent',
    'reminder_refs',
    'contact_requested_at',
    'contact_channel',
    'contact_ts',
    'announce_requested_at',
    'announce_channel',
    'announce_ts',
    'outcome_requested_at',
    'outcome_ts',
    'paged_at',
    'page_resolved_at',
  ]) {
    alter = alter.dropColumn(column);
  }
  await alter.execute();
  await db.schema.alterTable('identities').dropColumn('time_zone').dropColumn('time_zone_resolved_at').execute();
}
