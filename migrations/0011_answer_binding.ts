import { sql, type Kysely } from 'kysely';

/**
 * Binding answers to the questions Vouch asked, and second-factor hygiene:
 * - a Duo txid belongs to at most one alert (a unique index), so an `/auth` answer that carries
 *   another alert's approved transaction can never verify this one;
 * - the justification modal Vouch opened is remembered (its view id, whom it was opened for and
 *   when, and a random key it carries), so only a submission of that very form counts as the
 *   owner's answer;
 * - every push Vouch sends is logged per Duo account (the rate limit counts these rows, so all
 *   replicas share one limit), and a "report fraud" answer pauses pushes to that account until a
 *   reviewer resumes them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await refuseSharedTxids(db);
  await db.schema
    .alterTable('alerts')
    .addColumn('justify_view_id', 'text')
    .addColumn('justify_view_user', 'text')
    .addColumn('justify_opened_at', 'timestamptz')
    .addColumn('justify_form_key', 'text')
    .execute();
  await sql`create unique index alerts_push_txid_unique on alerts (push_txid) where push_txid is not null`.execute(db);
  await db.schema
    .createTable('second_factor_pushes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('second_factor_pushes_by_user').on('second_factor_pushes').columns(['username', 'sent_at']).execute();
  await db.schema
    .createTable('second_factor_pauses')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('login', 'text')
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('paused_at', 'timestamptz', (c) => c.notNull())
    .addColumn('resumed_by', 'text')
    .addColumn('resumed_at', 'timestamptz')
    .addColumn('resume_note', 'text')
    .execute();
  // At most one pause in force per Duo account; resumed pauses stay as history.
  await sql`create unique index second_factor_pauses_active on second_factor_pauses (username) where resumed_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('second_factor_pauses').ifExists().execute();
  await db.schema.dropTable('second_factor_pushes').ifExists().execute();
  await sql`drop index if exists alerts_push_txid_unique`.execute(db);
  await db.schema.alterTable('alerts').dropColumn('justify_view_id').dropColumn('justify_view_user').dropColumn('justify_opened_at').dropColumn('justify_form_key').execute();
}

/**
 * Alerts that already share a txid were answered by one push between them: at most one of them
 * was really approved. Binding is refused until a person has looked, rather than picking a winner.
 */
async function refuseSharedTxids(db: Kysely<unknown>): Promise<void> {
  const shared = await sql<{ push_txid: string; alerts: string }>`
    select push_txid, string_agg(id, ', ' order by created_at) as alerts from alerts
    where push_txid is not null group by push_txid having count(*) > 1 limit 20`.execute(db);
  if (shared.rows.length === 0) return;
  const list = shared.rows.map((row) => `${row.push_txid}: ${row.alerts}`).join('; ');
  throw new Error(
    `alerts share a Duo txid (${list}): one push answered several alerts, so some were verified by an answer meant for another. ` +
      'Review those alerts, then clear push_txid on all but the first of each group (update alerts set push_txid = null where id = ...) and run migrate again.',
  );
}
