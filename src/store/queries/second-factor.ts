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

/**
 * Binds a Duo txid to the current round of an alert, for good. Returns null when it is now bound,
 * or what it was bound to before (another alert, or an earlier round of this one): an answer to
 * a different question, which never verifies this one. Two replicas binding one txid at once
 * are settled by the primary key: the second waits for the first and finds it bound.
 */
export async function claimTxid(db: Db, txid: string, alert: { id: string; round: number }, at: Date): Promise<{ alertId: string; round: number } | null> {
  const inserted = await db
    .insertInto('push_txids')
    .values({ txid, alert_id: alert.id, round: alert.round, bound_at: at })
    .onConflict((oc) => oc.column('txid').doNothing())
    .returning('txid')
    .executeTakeFirst();
  if (inserted) return null;
  const earlier = await db.selectFrom('push_txids').select(['alert_id', 'round']).where('txid', '=', txid).executeTakeFirst();
  return { alertId: earlier?.alert_id ?? 'another alert', round: earlier?.round ?? 0 };
}
