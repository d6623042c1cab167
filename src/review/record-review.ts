import type { Kysely } from 'kysely';
import { FINISHED_STATUSES, type AlertStatus } from '../alerts/alert.js';
import { RequestError } from '../errors.js';
import { lockAlert } from '../store/queries/alerts.js';
import { recordReview as appendReview } from '../store/queries/reviews.js';
import type { AlertRow, Database, ReviewRow } from '../store/schema.js';

export interface ReviewRequest {
  alertId: string;
  /** The signed-in identity's actor (`dana@example.com`, `token:<name>`): never a name from a form. */
  actor: string;
  note: string | null;
  at: Date;
}

/**
 * Records a review of a finished alert: appends it to the alert's reviews and to its audit trail,
 * and keeps the latest on the alert (reviewed_by, review_note) for the report. 404 for an unknown
 * alert, 409 for one still waiting on its owner.
 */
export async function recordReview(db: Kysely<Database>, request: ReviewRequest): Promise<{ alert: AlertRow; review: ReviewRow }> {
  const { alertId, actor, note, at } = request;
  return db.transaction().execute(async (trx) => {
    const row = await lockAlert(trx, alertId);
    if (!row) throw new RequestError(404, `no alert ${alertId}`);
    if (!FINISHED_STATUSES.includes(row.status as AlertStatus)) {
      throw new RequestError(409, `alert ${alertId} is still ${row.status}; only finished alerts are reviewed`);
    }
    const review = await appendReview(trx, { alertId, actor, note, at });
    return { alert: { ...row, reviewed_by: actor, reviewed_at: at, review_note: note }, review };
  });
}
