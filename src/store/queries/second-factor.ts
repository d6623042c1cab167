import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, SecondFactorPauseRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Serialises push decisions for one Duo account until the transaction ends, across replicas, so
 * two alerts of one person cannot both read "2 pushes so far" and both send the third.
 */
export async function lockSecondFactorAccount(trx: Transaction<Database>, username: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`vouch.second_factor:${username}`}))`.execute(trx);
}

/** The pause in force for a Duo account, if any. */
export function activePause(db: Db, username: string): Promise<SecondFactorPauseRow | undefined> {
  return db.selectFrom('second_factor_pauses').selectAll().where('username', '=', username).where('resumed_at', 'is', null).executeTakeFirst();
}

/** Pushes sent to a Duo account since `since`, oldest first (only their times). */
export async function pushTimesSince(db: Db, username: string, since: Date): Promise<Date[]> {
  const rows = await db
    .selectFrom('second_factor_pushes')
    .select('sent_at')
    .where('username', '=', username)
    .where('sent_at', '>', since)
    .orderBy('sent_at')
    .execute();
  return rows.map((row) => row.sent_at);
}

/** Logs a push about to be sent; it counts against the limit even if Duo then fails. */
export async function recordPush(db: Db, push: { username: string; alertId: string; at: Date }): Promise<void> {
  await db.insertInto('second_factor_pushes').values({ username: push.username, alert_id: push.alertId, sent_at: push.at }).execute();
}

/** Pauses pushes to a Duo account; a pause already in force stays as it is. */
export async function pauseSecondFactor(
  db: Db,
  pause: { username: string; login: string | null; alertId: string; reason: string; at: Date },
): Promise<void> {
  await db
    .insertInto('second_factor_pauses')
    .values({ username: pause.username, login: pause.login, alert_id: pause.alertId, reason: pause.reason, paused_at: pause.at })
    .onConflict((oc) => oc.column('username').where('resumed_at', 'is', null).doNothing())
    .execute();
}

/**
 * Ends the pauses in force for `person`, matched as the Duo account or as the login behind it.
 * Returns the pauses it ended (none: nothing was paused).
 */
export function resumeSecondFactor(
  db: Db,
  resume: { person: string; by: string; note: string | null; at: Date },
): Promise<SecondFactorPauseRow[]> {
  return db
    .updateTable('second_factor_pauses')
    .set({ resumed_by: resume.by, resumed_at: resume.at, resume_note: resume.note })
    .where('resumed_at', 'is', null)
    .where((eb) => eb.or([eb('username', '=', resume.person), eb('login', '=', resume.person)]))
    .returningAll()
    .execute();
}

/** Pauses in force, newest first. */
export function activePauses(db: Db): Promise<SecondFactorPauseRow[]> {
  return db.selectFrom('second_factor_pauses').selectAll().where('resumed_at', 'is', null).orderBy('paused_at', 'desc').execute();
}

/** The alert already bound to a Duo txid, other than `alertId`. */
export async function alertBoundToTxid(db: Db, txid: string, alertId: string): Promise<string | null> {
  const row = await db.selectFrom('alerts').select('id').where('push_txid', '=', txid).where('id', '!=', alertId).executeTakeFirst();
  return row?.id ?? null;
}
