import type { Kysely } from 'kysely';

/**
 * `source_checkpoints.fingerprint`: a hash of the first bytes of the file a checkpoint belongs
 * to (`LENGTH:SHA256`), so a file truncated and written past its old offset, or deleted and
 * re-created under a reused inode, is told from the file the offset was counted in. Checkpoints
 * stored before have none and get one with their next batch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('source_checkpoints').addColumn('fingerprint', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('source_checkpoints').dropColumn('fingerprint').execute();
}
