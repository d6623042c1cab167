import type { Kysely, Transaction } from 'kysely';
import type { Database, ReviewRow } from '../schema.js';
import { appendAudit } from './audit-trail.js';
import { updateAlert } from './alerts.js';
import { notifyJobsDue, scheduleJob } from './jobs.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewReview {
  alertId: string;
  /** The signed-in identity (email claim, else sub) or `token:<name>`; never a typed name. */
  actor: string;
  note: string | null;
  at: Date;
}

/**
 * Appends a review, with its audit-trail step, inside the caller's transaction (which should hold
 * the alert's lock). The alert's reviewed_by/at/note columns are set to this, the latest review,
 * so reports keep their one-line summary; the history is the reviews table and the trail.
 */
export async function recordReview(trx: Transaction<Database>, review: NewReview): Promise<ReviewRow> {
  const row = await trx
    .insertInto('reviews')
    .values({ alert_id: review.alertId, actor: review.actor, note: review.note, at: review.at })
    .returningAll()
    .executeTakeFirstOrThrow();
  await updateAlert(trx, review.alertId, { reviewed_by: review.actor, reviewed_at: review.at, review_note: review.note, updated_at: review.at });
  await appendAudit(trx, { alertId: review.alertId, at: review.at, actor: review.actor, action: 'reviewed', detail: { note: review.note } });
  // A paged escalation's incident is resolved once a reviewer has looked at it.
  const paged = await trx.selectFrom('alerts').select(['paged_at', 'page_resolved_at']).where('id', '=', review.alertId).executeTakeFirst();
  if (paged?.paged_at && !paged.page_resolved_at) {
    await scheduleJob(trx, review.alertId, 'page', review.at);
    await notifyJobsDue(trx);
  }
  return row;
}

/** An alert's reviews, oldest first. */
export function reviewsOf(db: Db, alertId: string): Promise<ReviewRow[]> {
  return db.selectFrom('reviews').selectAll().where('alert_id', '=', alertId).orderBy('at').orderBy('id').execute();
}

/** Reviews recorded in [since, until), oldest first, at most `limit`. */
export function reviewsBetween(db: Db, since: Date, until: Date, limit: number): Promise<ReviewRow[]> {
  return db.selectFrom('reviews').selectAll().where('at', '>=', since).where('at', '<', until).orderBy('at').orderBy('id').limit(limit).execute();
}
