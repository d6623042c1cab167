import type { Kysely } from 'kysely';

/**
 * `source_checkpoints.read_offset`: how far the file was read and committed, beside `offset`, the
 * durable checkpoint that never passes the first line of an event still being assembled. After a
 * restart the lines between the two are read again (to finish those events); what they held that
 * was malformed was counted the first time, so it is not counted again. Null in rows stored before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('source_checkpoints').addColumn('read_offset', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('source_checkpoints').dropColumn('read_offset').execute();
}
