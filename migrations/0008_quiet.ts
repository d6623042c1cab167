import { sql, type Kysely } from 'kysely';

/**
 * Quiet by design: system actors digested instead of posted one by one, and pipeline health.
 *
 * - `system_digests`: one row per digest period (`daily:2026-12-01`, `hourly:2026-12-01T23`). A
 *   replica claims the row (a lease) before posting and records the message, so the period is
 *   posted once however many replicas run.
 * - `system_digest_entries`: the alerts a period lists, one period per alert.
 * - `health_notices`: one row per problem seen on a host (auditd stopped, events lost, ...); at
 *   most one open (not recovered) notice per host and kind, enforced by a partial unique index.
 *   The notice and its recovery are each posted once (claimed, then their message recorded).
 * - `host_activity`: when each host was last heard from, for the silent-host check.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('system_digests')
    .addColumn('period', 'text', (c) => c.primaryKey())
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('channel', 'text')
    .addColumn('ts', 'text')
    .addColumn('posted_at', 'timestamptz')
    .addColumn('alert_count', 'integer')
    .execute();
  await db.schema.createIndex('system_digests_unposted').on('system_digests').columns(['posted_at', 'ends_at']).execute();
  await db.schema
    .createTable('system_digest_entries')
    .addColumn('alert_id', 'text', (c) => c.primaryKey().references('alerts.id').onDelete('cascade'))
    .addColumn('period', 'text', (c) => c.notNull().references('system_digests.period'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('system_digest_entries_period').on('system_digest_entries').column('period').execute();

  await db.schema
    .createTable('health_notices')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('occurrences', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('channel', 'text')
    .addColumn('ts', 'text')
    .addColumn('recovered_at', 'timestamptz')
    .addColumn('recovery_detail', 'text')
    .addColumn('recovery_ts', 'text')
    .execute();
  await sql`create unique index health_notices_open on health_notices (host, kind) where recovered_at is null`.execute(db);
  await db.schema
    .createTable('host_activity')
    .addColumn('host', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('host_activity').ifExists().execute();
  await db.schema.dropTable('health_notices').ifExists().execute();
  await db.schema.dropTable('system_digest_entries').ifExists().execute();
  await db.schema.dropTable('system_digests').ifExists().execute();
}
