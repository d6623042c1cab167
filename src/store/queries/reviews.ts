import type { Kysely, Transaction } from 'kysely';
import type { Database, ReviewRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function appendReview(db: Db, review: { alertId: string; actor: string; note: string | null; at: Date }): Promise<ReviewRow> {
  return db.insertInto('reviews').values({ alert_id: review.alertId, actor: review.actor, note: review.note, at: review.at }).returningAll().executeTakeFirstOrThrow();
}

/** Every review of an alert, oldest first. */
export function reviewsOf(db: Db, alertId: string): Promise<ReviewRow[]> {
  return db.selectFrom('reviews').selectAll().where('alert_id', '=', alertId).orderBy('at').orderBy('id').execute();
}
