import type { Kysely } from 'kysely';
import { NotFoundError } from '../errors.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { resumeSecondFactor } from '../store/queries/second-factor.js';
import type { Database, SecondFactorPauseRow } from '../store/schema.js';

/**
 * A reviewer resumes pushes to `person` (a login or a Duo username) paused after a fraud report.
 * The alert that caused each pause records who resumed it. Throws NotFoundError when nothing was
 * paused, so a typo in the name is not mistaken for success.
 */
export function resumePushes(
  db: Kysely<Database>,
  request: { person: string; by: string; note: string | null; at: Date },
): Promise<SecondFactorPauseRow[]> {
  const { person, by, note, at } = request;
  return db.transaction().execute(async (trx) => {
    const rows = await resumeSecondFactor(trx, { person, by, note, at });
    if (rows.length === 0) throw new NotFoundError(`pushes to ${person} are not paused`);
    for (const row of rows) {
      await appendAudit(trx, { alertId: row.alert_id, at, actor: by, action: 'second_factor_resumed', detail: { username: row.username, note } });
    }
    return rows;
  });
}

/** A second-factor pause as the review API and the CLI show it. */
export function pauseView(row: SecondFactorPauseRow) {
  return {
    username: row.username,
    login: row.login,
    alert_id: row.alert_id,
    reason: row.reason,
    paused_at: row.paused_at.toISOString(),
    resumed_by: row.resumed_by,
    resumed_at: row.resumed_at?.toISOString() ?? null,
    resume_note: row.resume_note,
  };
}
