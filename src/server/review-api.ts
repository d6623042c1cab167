import type { Kysely } from 'kysely';
import type { Logger } from '../logger.js';
import type { Clock } from '../clock.js';
import { NotFoundError, RequestError } from '../errors.js';
import { parseReportFilter, reportQueryFromParams } from '../review/report-filter.js';
import { toReportRow } from '../review/report.js';
import { recordReview } from '../review/record-review.js';
import { requireAdmin } from '../review/console/alert-actions.js';
import type { ConsoleAuth } from '../review/console/console-auth.js';
import { findAlert, listAlerts } from '../store/queries/alerts.js';
import { appendAudit, auditTrailFor } from '../store/queries/audit-trail.js';
import { reviewsOf } from '../store/queries/reviews.js';
import { allSuppressions, findSuppression, insertSuppression, liveSuppressions, revokeSuppression } from '../store/queries/suppressions.js';
import { activePauses } from '../store/queries/second-factor.js';
import type { Database, ReviewRow, SuppressionRow } from '../store/schema.js';
import { pauseView, resumePushes } from '../review/resume-pushes.js';
import { SUPPRESSION_USAGE, newSuppressionId, parseSuppressionRequest } from '../alerts/suppression.js';
import { jsonObjectBody, readBody, storableRequestText } from '../http/request-body.js';
import { sendJson } from '../http/respond.js';
import { decodePathId, type HttpServer } from './http-server.js';

export interface ReviewApiOptions {
  db: Kysely<Database>;
  clock: Clock;
  auth: ConsoleAuth;
  /** The ids of the rules the service runs: a suppression may only name one of them. */
  ruleIds: ReadonlySet<string>;
  /** Where each change is logged at info, as the workflow logs its steps. */
  logger?: Logger;
}

/**
 * The review API: what `vouch report` reads when the database is the service's embedded one, and
 * what dashboards and scripts can read.
 *   GET /api/me                                          who the credentials belong to
 *   GET /api/alerts?since=&until=&status=&user=&host=&rule=&severity=&reviewed=&limit=...
 *                                                        report rows, newest first (see REPORT_QUERY_KEYS)
 *   GET /api/alerts/<id>                                 one alert with its reviews and audit trail
 *   POST /api/alerts/<id>/review {note?}                 appends a review of a finished alert
 *   GET /api/suppressions[?all=1]                        suppressions in force (all, newest first)
 *   POST /api/suppressions {reason, for, rule?, user?, host?, command?}     (admins)
 *   POST /api/suppressions/<id>/revoke                   ends a suppression now (admins)
 *   GET /api/second-factor/pauses                        Duo accounts whose pushes are paused
 *   POST /api/people/<login>/second-factor/resume {note?}
 *                                                        resumes pushes paused by a fraud report
 * Every request authenticates through `auth.apiIdentity` (an API token, the shared review token,
 * an OIDC access token, or a console session), and every change records that identity's actor:
 * a `reviewer`, `created_by`, `revoked_by` or `resumed_by` in the body is ignored, so nobody acts under
 * another's name. A suppression silences alerts for everyone, so creating or revoking one takes
 * an admin (the console's rule, `requireAdmin`): a reviewer or a machine token gets 403. Alerts are
 * report rows (see ReportRow), `provenance` included.
 */
export function routeReviewApi(http: HttpServer, options: ReviewApiOptions): void {
  const { db, clock, auth, ruleIds, logger } = options;
  http.route('GET', '/api/me', async (req, res) => {
    sendJson(res, 200, await auth.apiIdentity(req));
  });
  http.route('GET', '/api/alerts', async (req, res, url) => {
    await auth.apiIdentity(req);
    const filter = parseReportFilter(reportQueryFromParams(url.searchParams), clock.now());
    const rows = await listAlerts(db, filter);
    sendJson(res, 200, rows.map(toReportRow));
  });
  http.route('POST', '/api/alerts/*', async (req, res, url) => {
    const identity = await auth.apiIdentity(req);
    const match = /^\/api\/alerts\/([^/]+)\/review$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const id = decodePathId(match[1] as string, 'alert');
    const { note } = parseReview(await readBody(req, 64 * 1024));
    const { alert } = await recordReview(db, { alertId: id, actor: identity.actor, note, at: clock.now() });
    logger?.info('alert reviewed', { alert: id, actor: identity.actor });
    sendJson(res, 200, { ...toReportRow(alert), reviews: (await reviewsOf(db, id)).map(reviewView) });
  });
  http.route('GET', '/api/suppressions', async (req, res, url) => {
    await auth.apiIdentity(req);
    const rows = url.searchParams.get('all') ? await allSuppressions(db, 1000) : await liveSuppressions(db, clock.now());
    sendJson(res, 200, rows.map(suppressionView));
  });
  http.route('POST', '/api/suppressions', async (req, res) => {
    const identity = await auth.apiIdentity(req);
    requireAdmin(identity);
    const now = clock.now();
    const fields = jsonObjectBody(await readBody(req, 128 * 1024), SUPPRESSION_USAGE);
    const request = parseSuppressionRequest({ ...fields, created_by: identity.actor }, now, ruleIds);
    const row = await db.transaction().execute(async (trx) => {
      const created = await insertSuppression(trx, newSuppressionId(), request, now);
      await appendAudit(trx, { alertId: null, at: now, actor: request.createdBy, action: 'suppression_created', detail: suppressionView(created) });
      return created;
    });
    logger?.info('suppression created', { suppression: row.id, actor: identity.actor, rule: row.rule_id, expires_at: row.expires_at.toISOString() });
    sendJson(res, 201, suppressionView(row));
  });
  http.route('POST', '/api/suppressions/*', async (req, res, url) => {
    const identity = await auth.apiIdentity(req);
    requireAdmin(identity);
    const revokedBy = identity.actor;
    const match = /^\/api\/suppressions\/([^/]+)\/revoke$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const id = decodePathId(match[1] as string, 'suppression');
    // The body once named who revoked; the signed-in identity does now, so any body is ignored.
    await readBody(req, 64 * 1024);
    const now = clock.now();
    const row = await db.transaction().execute(async (trx) => {
      const revoked = await revokeSuppression(trx, id, revokedBy, now);
      if (!revoked) {
        const known = await findSuppression(trx, id);
        throw new RequestError(known ? 409 : 404, known ? `suppression ${id} is no longer in force` : `no suppression ${id}`);
      }
      await appendAudit(trx, { alertId: null, at: now, actor: revokedBy, action: 'suppression_revoked', detail: { suppression: id } });
      return revoked;
    });
    logger?.info('suppression revoked', { suppression: id, actor: revokedBy });
    sendJson(res, 200, suppressionView(row));
  });
  http.route('GET', '/api/second-factor/pauses', async (req, res) => {
    await auth.apiIdentity(req);
    sendJson(res, 200, (await activePauses(db)).map(pauseView));
  });
  http.route('POST', '/api/people/*', async (req, res, url) => {
    const { actor } = await auth.apiIdentity(req);
    const match = /^\/api\/people\/([^/]+)\/second-factor\/resume$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const person = decodePathId(match[1] as string, 'person');
    const { note } = parseResume(await readBody(req, 64 * 1024));
    const resumed = await resumePushes(db, { person, by: actor, note, at: clock.now() }).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new RequestError(404, error.message) : error;
    });
    logger?.info('second-factor pushes resumed', { person, actor, pauses: resumed.length });
    sendJson(res, 200, resumed.map(pauseView));
  });
  http.route('GET', '/api/alerts/*', async (req, res, url) => {
    await auth.apiIdentity(req);
    const id = decodePathId(url.pathname.slice('/api/alerts/'.length), 'alert');
    const row = await findAlert(db, id);
    if (!row) throw new RequestError(404, `no alert ${id}`);
    const trail = await auditTrailFor(db, id);
    sendJson(res, 200, {
      ...toReportRow(row),
      reviews: (await reviewsOf(db, id)).map(reviewView),
      trail: trail.map((step) => ({ at: step.at.toISOString(), actor: step.actor, action: step.action, detail: step.detail })),
    });
  });
}

/** A suppression as the API shows it. */
function suppressionView(row: SuppressionRow) {
  return {
    id: row.id,
    rule: row.rule_id,
    user: row.owner,
    host: row.host_glob,
    command: row.command,
    reason: row.reason,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    revoked_by: row.revoked_by,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

/** A review as the API shows it. */
function reviewView(row: ReviewRow) {
  return { actor: row.actor, note: row.note, at: row.at.toISOString() };
}

/**
 * `{ "note": "expected: quarterly rotation" }`; 400 on anything else. A `reviewer` field, which
 * older clients send, is accepted and ignored: the review is recorded under the caller's identity.
 */
function parseReview(body: Buffer): { note: string | null } {
  return { note: optionalNote(body) };
}

/**
 * `{ "note": "phone replaced; spoke to alice" }` (optional); 400 on anything else. Who resumed is
 * the caller's identity: a `resumed_by` field is accepted and ignored.
 */
function parseResume(body: Buffer): { note: string | null } {
  return { note: optionalNote(body) };
}

/** The optional `note` of a body, as it can be stored (see storableRequestText). */
function optionalNote(body: Buffer): string | null {
  const { note } = body.length === 0 ? {} : jsonObjectBody(body, '{"note": "..."}');
  if (note === undefined || note === null) return null;
  if (typeof note !== 'string' || note.length > 2000) throw new RequestError(400, 'note: optional text of at most 2000 characters');
  return storableRequestText(note, 'note');
}
