import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface StoredCheckpoint {
  filePath: string;
  fileId: string;
  offset: number;
  /** The file's first bytes as the tailer fingerprints them (file-tail.ts); null when not known. */
  fingerprint?: string | null;
  /**
   * How far the file was read and committed (at or past `offset`, which stays at the first line of
   * an event still being assembled); null when not known.
   */
  readOffset?: number | null;
}

export async function loadCheckpoints(db: Db, source: string): Promise<StoredCheckpoint[]> {
  const rows = await db.selectFrom('source_checkpoints').selectAll().where('source', '=', source).execute();
  return rows.map((row) => ({
    filePath: row.file_path,
    fileId: row.file_id,
    offset: Number(row.offset),
    fingerprint: row.fingerprint,
    readOffset: row.read_offset === null ? null : Number(row.read_offset),
  }));
}

export async function saveCheckpoint(db: Db, source: string, checkpoint: StoredCheckpoint, now: Date): Promise<void> {
  const fingerprint = checkpoint.fingerprint ?? null;
  const read_offset = checkpoint.readOffset ?? null;
  await db
    .insertInto('source_checkpoints')
    .values({ source, file_path: checkpoint.filePath, file_id: checkpoint.fileId, offset: checkpoint.offset, fingerprint, read_offset, updated_at: now })
    .onConflict((oc) => oc.columns(['source', 'file_path']).doUpdateSet({ file_id: checkpoint.fileId, offset: checkpoint.offset, fingerprint, read_offset, updated_at: now }))
    .execute();
}

/** Adds to the per-source, per-reason count of skipped input, keeping the latest sample. */
export async function countMalformed(db: Db, source: string, reason: string, count: number, sample: string, now: Date): Promise<void> {
  await db
    .insertInto('source_malformed')
    // Samples are raw input: Postgres text cannot hold NUL, so it is shown as an escape.
    .values({ source, reason, count, sample: sample.slice(0, 500).replace(/\u0000/g, '\\x00'), last_seen: now })
    .onConflict((oc) =>
      oc.columns(['source', 'reason']).doUpdateSet({
        count: sql`source_malformed.count + excluded.count`,
        sample: sql`excluded.sample`,
        last_seen: sql`excluded.last_seen`,
      }),
    )
    .execute();
}

export async function malformedCounts(db: Db): Promise<Array<{ source: string; reason: string; count: number; sample: string }>> {
  const rows = await db.selectFrom('source_malformed').select(['source', 'reason', 'count', 'sample']).orderBy('source').orderBy('reason').execute();
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}
