import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { parseReportFilter } from '../review/report-filter.js';
import { toReportRow } from '../review/report.js';
import { findAlert, listAlerts } from '../store/queries/alerts.js';
import { auditTrailFor } from '../store/queries/audit-trail.js';
import type { Database } from '../store/schema.js';
import { requireBearer, sendJson, type HttpServer } from './http-server.js';

/**
 * The review API (bearer token): what `vouch report` reads when the database is the service's
 * embedded one, and what dashboards and scripts can read.
 *   GET /api/alerts?since=&until=&status=&user=&limit=   report rows, newest first
 *   GET /api/alerts/<id>                                 one alert with its audit trail
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
  http.route('GET', '/api/alerts/*', async (req, res, url) => {
    requireBearer(req, token);
    const id = decodeURIComponent(url.pathname.slice('/api/alerts/'.length));
    const row = await findAlert(db, id);
    if (!row) throw new RequestError(404, `no alert ${id}`);
    const trail = await auditTrailFor(db, id);
    sendJson(res, 200, {
      ...toReportRow(row),
      trail: trail.map((step) => ({ at: step.at.toISOString(), actor: step.actor, action: step.action, detail: step.detail })),
    });
  });
}
