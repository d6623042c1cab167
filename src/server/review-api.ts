import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { parseReportFilter } from '../review/report-filter.js';
import { toReportRow } from '../review/report.js';
import { FINISHED_STATUSES } from '../alerts/alert.js';
import { findAlert, listAlerts, lockAlert, updateAlert } from '../store/queries/alerts.js';
import { appendAudit, auditTrailFor } from '../store/queries/audit-trail.js';
import { notifyJobsDue, scheduleJob } from '../store/queries/jobs.js';
import { allSuppressions, findSuppression, insertSuppression, liveSuppressions, revokeSuppression } from '../store/queries/suppressions.js';
import type { Database, SuppressionRow } from '../store/schema.js';
import { SUPPRESSION_USAGE, newSuppressionId, parseRevokeRequest, parseSuppressionRequest } from '../alerts/suppression.js';
import { requireBearer } from '../http/bearer-token.js';
import { jsonObjectBody, readBody } from '../http/request-body.js';
import { sendJson } from '../http/respond.js';
import { decodePathId, type HttpServer } from './http-server.js';

/**
 * The review API (bearer token): what `vouch report` reads when the database is the service's
 * embedded one, and what dashboards and scripts can read.
 *   GET /api/alerts?since=&until=&status=&user=&limit=   report rows, newest first
 *   GET /api/alerts/<id>                                 one alert with its audit trail
 *   POST /api/alerts/<id>/review {reviewer, note?}       marks a finished alert reviewed
 *   GET /api/suppressions[?all=1]                        suppressions in force (all, newest first)
 *   POST /api/suppressions {created_by, reason, for, rule?, user?, host?, command?}
 *   POST /api/suppressions/<id>/revoke {revoked_by}      ends a suppression now
 * Alerts are report rows (see ReportRow), `provenance` included: how far the attribution of the
 * event behind each one can be trusted.
 */
export function routeReviewApi(http: HttpServer, options: { db: Kysely<Database>; clock: Clock; token: string }): void {
  const { db, clock, token } = options;
  http.route('GET', '/api/alerts', async (req, res, url) => {
    requireBearer(req, token);
    const params = url.searchParams;
    const filter = parseReportFilter(
      { since: params.get('since'), until: params.get('until'), status: params.get('status'), user: params.get('user'), limit: params.get('limit') },
      clock.now(),
    );
    const rows = await listAlerts(db, filter);
    sendJson(res, 200, rows.map(toReportRow));
  });
  http.route('POST', '/api/alerts/*', async (req, res, url) => {
    requireBearer(req, token);
    const match = /^\/api\/alerts\/([^/]+)\/review$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const id = decodePathId(match[1] as string, 'alert');
    const { reviewer, note } = parseReview(await readBody(req, 64 * 1024));
    const reviewed = await db.transaction().execute(async (trx) => {
      const row = await lockAlert(trx, id);
      if (!row) throw new RequestError(404, `no alert ${id}`);
      if (!FINISHED_STATUSES.includes(row.status)) {
        throw new RequestError(409, `alert ${id} is still ${row.status}; only finished alerts are reviewed`);
      }
      const at = clock.now();
      await updateAlert(trx, id, { reviewed_by: reviewer, reviewed_at: at, review_note: note, updated_at: at });
      await appendAudit(trx, { alertId: id, at, actor: reviewer, action: 'reviewed', detail: { note } });
      // A paged escalation's incident is resolved once a reviewer has looked at it.
      if (row.paged_at && !row.page_resolved_at) {
        await scheduleJob(trx, id, 'page', at);
        await notifyJobsDue(trx);
      }
      return { ...row, reviewed_by: reviewer, reviewed_at: at, review_note: note };
    });
    sendJson(res, 200, toReportRow(reviewed));
  });
  http.route('GET', '/api/suppressions', async (req, res, url) => {
    requireBearer(req, token);
    const rows = url.searchParams.get('all') ? await allSuppressions(db, 1000) : await liveSuppressions(db, clock.now());
    sendJson(res, 200, rows.map(suppressionView));
  });
  http.route('POST', '/api/suppressions', async (req, res) => {
    requireBearer(req, token);
    const now = clock.now();
    const request = parseSuppressionRequest(jsonObjectBody(await readBody(req, 128 * 1024), SUPPRESSION_USAGE), now);
    const row = await db.transaction().execute(async (trx) => {
      const created = await insertSuppression(trx, newSuppressionId(), request, now);
      await appendAudit(trx, { alertId: null, at: now, actor: request.createdBy, action: 'suppression_created', detail: suppressionView(created) });
      return created;
    });
    sendJson(res, 201, suppressionView(row));
  });
  http.route('POST', '/api/suppressions/*', async (req, res, url) => {
    requireBearer(req, token);
    const match = /^\/api\/suppressions\/([^/]+)\/revoke$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const id = decodePathId(match[1] as string, 'suppression');
    const { revokedBy } = parseRevokeRequest(jsonObjectBody(await readBody(req, 64 * 1024), '{"revoked_by": "..."}'));
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
    sendJson(res, 200, suppressionView(row));
  });
  http.route('GET', '/api/alerts/*', async (req, res, url) => {
    requireBearer(req, token);
    const id = decodePathId(url.pathname.slice('/api/alerts/'.length), 'alert');
    const row = await findAlert(db, id);
    if (!row) throw new RequestError(404, `no alert ${id}`);
    const trail = await auditTrailFor(db, id);
    sendJson(res, 200, {
      ...toReportRow(row),
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

/** `{ "reviewer": "dana", "note": "expected: quarterly rotation" }`; 400 on anything else. */
function parseReview(body: Buffer): { reviewer: string; note: string | null } {
  const { reviewer, note } = jsonObjectBody(body, '{"reviewer": "...", "note": "..."}');
  if (typeof reviewer !== 'string' || reviewer.trim() === '' || reviewer.length > 200) {
    throw new RequestError(400, 'reviewer: required, the name of the person reviewing (at most 200 characters)');
  }
  if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 2000)) {
    throw new RequestError(400, 'note: optional text of at most 2000 characters');
  }
  return { reviewer: reviewer.trim(), note: typeof note === 'string' ? note : null };
}
