import type { Kysely } from 'kysely';

/**
 * `ingest_held_lines`: the lines of audit events a `POST /ingest` request ended in the middle of,
 * per HTTP source and shipper host. Shippers cut their batches by size and time, not where an
 * event ends, so the next request of that host starts with these lines; a host that sends nothing
 * more has them read on their own once they have waited long enough. One row per (source, host);
 * `id` tells the row a request read from one written since.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ingest_held_lines')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('host_key', 'text', (col) => col.notNull())
    .addColumn('lines', 'bytea', (col) => col.notNull())
    .addColumn('held_since', 'timestamptz', (col) => col.notNull())
    .addUniqueConstraint('ingest_held_lines_source_host', ['source', 'host_key'])
    .execute();
  await db.schema.createIndex('ingest_held_lines_held_since').on('ingest_held_lines').column('held_since').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ingest_held_lines').execute();
}
