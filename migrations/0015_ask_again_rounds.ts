import { sql, type Kysely } from 'kysely';

/**
 * Rounds of a conversation, so what an earlier round did never counts for a later one.
 *
 * - `alerts.round`: 0 at first, one more at each "Ask again". Chat messages carry it in their
 *   metadata, so a re-run looking for the message it may have posted never takes the previous
 *   round's message for it.
 * - `push_txids`: every Duo txid ever bound to an alert, kept for good. "Ask again" clears the
 *   alert's push_txid, but an answer naming an old txid (of this alert or another) must still be
 *   refused; filled from the pushes the audit trail and the alerts already record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('round', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('push_txids')
    .addColumn('txid', 'text', (c) => c.primaryKey())
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('bound_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`
    insert into push_txids (txid, alert_id, round, bound_at)
    select distinct on (txid) txid, alert_id, 0, at from (
      select detail->>'txid' as txid, alert_id, at from audit_trail
      where action = 'push_sent' and alert_id is not null and detail->>'txid' is not null and detail->>'txid' <> ''
      union all
      select push_txid, id, coalesce(push_started_at, updated_at) from alerts where push_txid is not null and push_txid <> ''
    ) bound
    where alert_id in (select id from alerts)
    order by txid, at`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('push_txids').ifExists().execute();
  await db.schema.alterTable('alerts').dropColumn('round').execute();
}
