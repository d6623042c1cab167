import type { Kysely, Transaction } from 'kysely';
import type { SuppressionRequest } from '../../alerts/suppression.js';
import type { Database, SuppressionRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertSuppression(db: Db, id: string, request: SuppressionRequest, now: Date): Promise<SuppressionRow> {
  return db
    .insertInto('suppressions')
    .values({
      id,
      rule_id: request.ruleId,
      owner: request.owner,
      host_glob: request.hostGlob,
      command: request.command,
      reason: request.reason,
      created_by: request.createdBy,
      created_at: now,
      expires_at: request.expiresAt,
      revoked_by: null,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Suppressions in force at `now`, oldest first. */
export function liveSuppressions(db: Db, now: Date): Promise<SuppressionRow[]> {
  return db.selectFrom('suppressions').selectAll().where('revoked_at', 'is', null).where('expires_at', '>', now).orderBy('created_at').execute();
}

/** Every suppression, newest first, at most `limit`. */
export function allSuppressions(db: Db, limit: number): Promise<SuppressionRow[]> {
  return db.selectFrom('suppressions').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
}

/** Revokes a suppression still in force; returns the row, or undefined when there is no such live one. */
export function revokeSuppression(db: Db, id: string, by: string, now: Date): Promise<SuppressionRow | undefined> {
  return db
    .updateTable('suppressions')
    .set({ revoked_by: by, revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

export function findSuppression(db: Db, id: string): Promise<SuppressionRow | undefined> {
  return db.selectFrom('suppressions').selectAll().where('id', '=', id).executeTakeFirst();
}
