import type { Kysely, Transaction } from 'kysely';
import type { ConsoleSessionRow, Database, StoredSignedInPerson } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewConsoleSession {
  idHash: string;
  person: StoredSignedInPerson;
  csrfToken: string;
  now: Date;
  expiresAt: Date;
}

export async function insertConsoleSession(db: Db, session: NewConsoleSession): Promise<void> {
  await db
    .insertInto('console_sessions')
    .values({
      id_hash: session.idHash,
      identity: JSON.stringify(session.person),
      csrf_token: session.csrfToken,
      created_at: session.now,
      last_seen_at: session.now,
      expires_at: session.expiresAt,
    })
    .execute();
}

export function findConsoleSession(db: Db, idHash: string): Promise<ConsoleSessionRow | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function touchConsoleSession(db: Db, idHash: string, now: Date): Promise<void> {
  await db.updateTable('console_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteConsoleSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
}

/** Removes sessions past their absolute end or idle longer than `idleMs`; returns how many. */
export async function deleteExpiredConsoleSessions(db: Db, now: Date, idleMs: number): Promise<number> {
  const result = await db
    .deleteFrom('console_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', new Date(now.getTime() - idleMs))]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

/** Records a sign-in under way; ones past their time are swept first, so the table stays small. */
export async function insertSignIn(db: Db, idHash: string, pending: PendingSignIn, now: Date, expiresAt: Date): Promise<void> {
  await db.deleteFrom('console_sign_ins').where('expires_at', '<=', now).execute();
  await db
    .insertInto('console_sign_ins')
    .values({ id_hash: idHash, state: pending.state, nonce: pending.nonce, code_verifier: pending.codeVerifier, return_to: pending.returnTo, expires_at: expiresAt })
    .execute();
}

/** Takes a sign-in under way out of the table (each is finished at most once); undefined when unknown or expired. */
export async function takeSignIn(db: Db, idHash: string, now: Date): Promise<PendingSignIn | undefined> {
  const row = await db.deleteFrom('console_sign_ins').where('id_hash', '=', idHash).returningAll().executeTakeFirst();
  if (!row || row.expires_at <= now) return undefined;
  return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, returnTo: row.return_to };
}
