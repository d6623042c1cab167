import { sql, type Kysely } from 'kysely';

/**
 * Conversations: rule hits of one person's activity (an audit session, a command shape across a
 * fleet, or everything that arrives while their question waits) share one DM, one answer and one
 * push. A conversation is its first alert, the lead: `conversation_id` is the lead's id on every
 * member, the lead included, and only the lead has jobs; members follow its status.
 *
 * - `session_key`: the host and audit session (`ses`) or terminal the command ran in, when known.
 * - `shape_key`: the person, rule and program (argv0), which a fleet deploy shares across hosts.
 * - `last_joined_at` (on the lead): when a hit last joined, for the fleet and repeat windows.
 * - `repeats_posted` (on the lead): members already reported in the escalation's thread.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('alerts')
    .addColumn('conversation_id', 'text')
    .addColumn('session_key', 'text')
    .addColumn('shape_key', 'text')
    .addColumn('last_joined_at', 'timestamptz')
    .addColumn('repeats_posted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Alerts from before are conversations of one.
  await sql`update alerts set conversation_id = id, last_joined_at = created_at`.execute(db);
  await db.schema.alterTable('alerts').alterColumn('conversation_id', (c) => c.setNotNull()).execute();
  await db.schema.createIndex('alerts_conversation').on('alerts').column('conversation_id').execute();
  await db.schema.createIndex('alerts_owner_status').on('alerts').columns(['owner', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('alerts_owner_status').execute();
  await db.schema.dropIndex('alerts_conversation').execute();
  await db.schema
    .alterTable('alerts')
    .dropColumn('conversation_id')
    .dropColumn('session_key')
    .dropColumn('shape_key')
    .dropColumn('last_joined_at')
    .dropColumn('repeats_posted')
    .execute();
}
