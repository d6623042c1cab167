import type { Kysely, Transaction } from 'kysely';
import type { ApiTokenRow, Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Inserts a token; returns false when the name is already taken (revoked names stay taken). */
export async function insertApiToken(db: Db, token: { name: string; hash: string; createdBy: string; now: Date }): Promise<boolean> {
  const inserted = await db
    .insertInto('api_tokens')
    .values({ name: token.name, hash: token.hash, created_by: token.createdBy, created_at: token.now, revoked_at: null, last_used_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The live (unrevoked) token with this hash, marked as used now. */
export function useApiToken(db: Db, hash: string, now: Date): Promise<ApiTokenRow | undefined> {
  return db.updateTable('api_tokens').set({ last_used_at: now }).where('hash', '=', hash).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
}

export function listApiTokens(db: Db): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('name').execute();
}

export function findApiToken(db: Db, name: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Revokes a live token; undefined when there is no such live token. */
export function revokeApiToken(db: Db, name: string, now: Date): Promise<ApiTokenRow | undefined> {
  return db.updateTable('api_tokens').set({ revoked_at: now }).where('name', '=', name).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
}
