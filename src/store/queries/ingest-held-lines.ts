/**
 * Lines a `POST /ingest` request ended inside an audit event with, kept per source and shipper
 * host until the host's next request (or, if none comes, until they are read on their own). A
 * request reads the rows of its source, and its transaction gives back the rows it read and
 * writes what it ends inside: each row is taken by one transaction only, so two requests of one
 * source at once (two replicas, a shipper sending in parallel) never both assemble, or both
 * lose, the same lines. The one that finds its rows gone or replaced is run again.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Lines held for one shipper host of a source. */
export interface HeldLines {
  /** The row's id: a request gives back exactly the rows it read. */
  id: string;
  source: string;
  /** The host the request's parser was keyed by (the wrapper's host, or the source's default). */
  hostKey: string;
  /** Whole lines, each ended by `\n`. */
  lines: Buffer;
  /** When the host last sent lines: held longer than the idle wait, they are read on their own. */
  heldSince: Date;
}

/** What one transaction does to the held lines: the rows it read, and the lines it ends inside. */
export interface HeldLinesUpdate {
  source: string;
  /** Ids of rows read and now assembled: each must still be there, unchanged. */
  taken: readonly string[];
  /** Lines to hold per host, with when the host last sent lines. */
  hold: ReadonlyArray<{ hostKey: string; lines: Buffer; heldSince: Date }>;
}

/**
 * Another transaction took or wrote held lines of the same source first: nothing of this one is
 * committed, and the request is parsed again from the rows as they are now.
 */
export class HeldLinesConflictError extends Error {
  constructor(source: string) {
    super(`the held lines of source ${source} changed under this request; it is read again`);
    this.name = 'HeldLinesConflictError';
  }
}

/** The lines held for a source, by host. */
export async function readHeldLines(db: Db, source: string): Promise<HeldLines[]> {
  const rows = await db.selectFrom('ingest_held_lines').selectAll().where('source', '=', source).orderBy('held_since').execute();
  return rows.map(fromRow);
}

/** Held lines that waited since before `before`, oldest first (at most `limit`). */
export async function idleHeldLines(db: Db, before: Date, limit: number): Promise<HeldLines[]> {
  const rows = await db.selectFrom('ingest_held_lines').selectAll().where('held_since', '<', before).orderBy('held_since').limit(limit).execute();
  return rows.map(fromRow);
}

/**
 * Applies `update` in `trx`: deletes each row read (HeldLinesConflictError when one is gone: another
 * transaction took it), then inserts the new ones (HeldLinesConflictError when one is there: another
 * transaction wrote it after this one read).
 */
export async function applyHeldLines(trx: Transaction<Database>, update: HeldLinesUpdate): Promise<void> {
  for (const id of update.taken) {
    const deleted = await trx.deleteFrom('ingest_held_lines').where('id', '=', id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) !== 1) throw new HeldLinesConflictError(update.source);
  }
  for (const { hostKey, lines, heldSince } of update.hold) {
    const inserted = await trx
      .insertInto('ingest_held_lines')
      .values({ id: randomUUID(), source: update.source, host_key: hostKey, lines, held_since: heldSince })
      .onConflict((oc) => oc.columns(['source', 'host_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted === undefined) throw new HeldLinesConflictError(update.source);
  }
}

function fromRow(row: { id: string; source: string; host_key: string; lines: Buffer | Uint8Array; held_since: Date }): HeldLines {
  const lines = Buffer.isBuffer(row.lines) ? row.lines : Buffer.from(row.lines.buffer, row.lines.byteOffset, row.lines.byteLength);
  return { id: row.id, source: row.source, hostKey: row.host_key, lines, heldSince: new Date(row.held_since) };
}
