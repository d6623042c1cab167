/**
 * The review console's routes. Every page needs a signed-in reviewer or admin (ConsoleAuth);
 * every state-changing request is a POST form carrying the session's CSRF token, checked before
 * anything else is read; every action records the signed-in identity.
 *
 *   GET  /review                      the queue (filters in the query string)
 *   GET  /review/alerts/<id>          one alert, its timeline and the actions
 *   POST /review/alerts/<id>/review   Mark reviewed {note}           POST .../ask-again   Ask again
 *   POST /review/alerts/<id>/assign   {to}                           POST /review/suppressions  (admins)
 *   GET  /review/suppress?rule=...    a prefilled suppression form (admins)
 *   GET  /review/overview?days=30     charts
 *   GET  /review/export.csv|.json     the queue's filter, exported
 *   GET  /review/report?since=&until= the printable audit report
 *   GET  /assets/console/*            the console's script and stylesheets
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import { sendText } from '../../http/respond.js';
import { decodePathId, type RouteHandler } from '../../server/http-server.js';
import { PAGE_CSP, routeSharedAssets, securityHeaders, sendWebAsset, type RouteRegistry } from '../../server/web-assets.js';
import { findAlert, listAlerts } from '../../store/queries/alerts.js';
import { verifyAuditTrail } from '../../store/queries/audit-trail.js';
import { reviewsBetween } from '../../store/queries/reviews.js';
import type { Database } from '../../store/schema.js';
import { visibleText } from '../../terminal-text.js';
import { parseReportFilter, reportQueryFromParams } from '../report-filter.js';
import { renderReport, toReportRow } from '../report.js';
import { askAgain, assignAlert, createSuppression, markReviewed, requireAdmin, requireReviewer, type SuppressionContext } from './alert-actions.js';
import { renderAlertPage } from './alert-page.js';
import type { ConsoleAuth, ConsoleSession } from './console-auth.js';
import { consolePage, errorPage, redirectAfterPost, sendPage } from './console-page.js';
import { formText, readForm } from './form-body.js';
import { html, queryString, type Html } from './html.js';
import { renderOverviewPage } from './overview-page.js';
import { queueViewFromUrl, renderQueuePage } from './queue-page.js';
import { reportBody } from './report-document.js';
import { suppressionForm } from './suppression-form.js';

export interface ReviewConsoleOptions {
  db: Kysely<Database>;
  clock: Clock;
  auth: ConsoleAuth;
  /** The ids of the rules the service runs: a suppression may only name one of them. */
  ruleIds: ReadonlySet<string>;
  /** Called after an action scheduled a job (Ask again), so the runner wakes. */
  onScheduled?: () => void;
  /** Where each action is logged at info, as the workflow logs its steps. */
  logger?: Logger;
}

/** The most alerts one export or report holds. */
const MAX_EXPORT_ROWS = 100_000;
const MAX_REPORT_REVIEWS = 10_000;

type Route = RouteRegistry;
type SessionHandler = (context: { req: IncomingMessage; res: ServerResponse; url: URL; session: ConsoleSession }) => Promise<Html | void>;

export function routeReviewConsole(http: Route, options: ReviewConsoleOptions): void {
  const { db, clock, ruleIds } = options;
  const context = (session: ConsoleSession): SuppressionContext => ({ db, clock, identity: session.identity, ruleIds });
  const page = (handler: SessionHandler) => signedIn(options.auth, handler);
  const post = (handler: (input: { form: Map<string, string>; session: ConsoleSession; url: URL }) => Promise<string>) => formPost(options.auth, handler);

  routeSharedAssets(http);
  http.route('GET', '/assets/console/*', (_req, res, url) => sendWebAsset(res, url.pathname.slice('/assets/'.length), PAGE_CSP));
  http.route('GET', '/review/', (_req, res) => void res.writeHead(308, { location: '/review' }).end());
  http.route('GET', '/review', page(({ url, session }) => renderQueuePage({ db, clock, identity: session.identity, url })));
  http.route('GET', '/review/overview', page(({ url, session }) => renderOverviewPage({ db, clock, identity: session.identity, url })));
  http.route('GET', '/review/alerts/*', page(async ({ url, session }) => {
    const alertId = decodePathId(url.pathname.slice('/review/alerts/'.length), 'alert');
    return renderAlertPage({ db, session, alertId, done: url.searchParams.get('done'), assignees: await options.auth.assignees() });
  }));
  http.route('POST', '/review/alerts/*', post(async ({ form, session, url }) => {
    const match = /^\/review\/alerts\/([^/]+)\/(review|ask-again|assign)$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const alertId = decodePathId(match[1] as string, 'alert');
    const action = match[2] as 'review' | 'ask-again' | 'assign';
    if (action === 'review') await markReviewed(context(session), alertId, formText(form, 'note', 2000));
    else if (action === 'assign') await assignAlert(context(session), alertId, formText(form, 'to', 200), await options.auth.assignees());
    else {
      await askAgain(context(session), alertId);
      options.onScheduled?.();
    }
    const done = { review: 'reviewed', 'ask-again': 'asked', assign: 'assigned' }[action];
    options.logger?.info(`alert ${{ review: 'reviewed', 'ask-again': 'reopened', assign: 'assigned' }[action]}`, { alert: alertId, actor: session.identity.actor });
    return `/review/alerts/${encodeURIComponent(alertId)}?done=${done}`;
  }));
  http.route('GET', '/review/suppress', page(async ({ url, session }) => {
    requireAdmin(session.identity);
    const value = (key: string) => url.searchParams.get(key) || null;
    const form = suppressionForm({ action: '/review/suppressions', csrfToken: session.csrfToken, rule: value('rule'), user: value('user'), host: value('host'), command: value('command'), fromAlert: null });
    return consolePage({ title: 'New suppression', identity: session.identity }, html`<h1>New suppression</h1><section class="panel">${form}</section>`);
  }));
  http.route('POST', '/review/suppressions', post(async ({ form, session }) => {
    const fromAlert = formText(form, 'from_alert', 200);
    const created = await createSuppression(context(session), {
      rule: formText(form, 'rule', 200), user: formText(form, 'user', 200), host: formText(form, 'host', 255),
      command: await exactCommand(db, form, fromAlert), reason: formText(form, 'reason', 2000), for: formText(form, 'for', 20), fromAlert,
    });
    options.logger?.info('suppression created', { suppression: created.id, actor: session.identity.actor, rule: created.rule_id, ...(fromAlert ? { alert: fromAlert } : {}) });
    return fromAlert ? `/review/alerts/${encodeURIComponent(fromAlert)}?done=suppressed` : `/review${queryString({ rule: created.rule_id })}`;
  }));
  for (const format of ['csv', 'json'] as const) {
    http.route('GET', `/review/export.${format}`, page(async ({ res, url }) => {
      const view = queueViewFromUrl(url);
      const query = { ...view.query, sort: view.query.sort === 'queue' ? null : view.query.sort };
      const filter = parseReportFilter(query, clock.now());
      const rows = (await listAlerts(db, { ...filter, limit: MAX_EXPORT_ROWS })).map(toReportRow);
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
      securityHeaders(res, PAGE_CSP);
      res.setHeader('content-disposition', `attachment; filename="vouch-alerts-${clock.now().toISOString().slice(0, 10)}.${format}"`);
      sendText(res, 200, renderReport(rows, format), type);
    }));
  }
  http.route('GET', '/review/report', page(async ({ url, session }) => {
    const query = reportQueryFromParams(url.searchParams);
    const now = clock.now();
    const filter = parseReportFilter({ ...query, since: query.since || '7d' }, now);
    const since = filter.since as Date;
    const until = filter.until ?? now;
    const [rows, trail, reviews] = await Promise.all([
      listAlerts(db, { ...filter, sort: filter.sort ?? 'occurred_at', descending: filter.descending ?? false, limit: Math.min(filter.limit ?? MAX_EXPORT_ROWS, MAX_EXPORT_ROWS) }),
      verifyAuditTrail(db),
      reviewsBetween(db, since, until, MAX_REPORT_REVIEWS),
    ]);
    const body = reportBody({ rows: rows.map(toReportRow), since, until: filter.until ?? null, generatedAt: now, trail, reviews });
    return consolePage({ title: 'Report', identity: session.identity, section: 'report', stylesheet: '/assets/console/report.css' }, body);
  }));
}

/**
 * The suppression's exact command. The form shows a command through the sanitiser, so control or
 * bidi characters arrive as their visible escapes; when that is what came back for the alert the
 * form was made from, the alert's stored command is meant, and used, so the suppression matches.
 */
async function exactCommand(db: Kysely<Database>, form: Map<string, string>, fromAlert: string | null): Promise<string | null> {
  // A command too long for the form (see FORM_COMMAND_CHARS) is the alert's own.
  if (fromAlert !== null && form.get('command_from_alert') === '1') {
    const alert = await findAlert(db, fromAlert);
    if (!alert) throw new RequestError(404, `no alert ${fromAlert}`);
    return alert.command;
  }
  const posted = form.get('command') ?? '';
  if (posted.trim() === '') return null;
  if (fromAlert !== null) {
    const alert = await findAlert(db, fromAlert);
    if (alert && visibleText(alert.command, { keepLineBreaks: true }) === posted.replace(/\r\n/g, '\n')) return alert.command;
  }
  return posted;
}

/** A GET page for a signed-in reviewer: sends the browser to sign in first; errors become pages. */
function signedIn(auth: ConsoleAuth, handler: SessionHandler): RouteHandler {
  return async (req, res, url) => {
    const session = await auth.session(req);
    if (!session) return auth.beginSignIn(req, res, url.pathname + url.search);
    try {
      requireReviewer(session.identity);
      const page = await handler({ req, res, url, session });
      if (page) sendPage(res, 200, page);
    } catch (error) {
      if (!(error instanceof RequestError) || res.headersSent) throw error;
      sendPage(res, error.status, errorPage(session.identity, error.status, error.message));
    }
  };
}

/** A POST form: needs a session and the CSRF token before its fields are acted on; answers 303 to a page. */
function formPost(auth: ConsoleAuth, handler: (input: { form: Map<string, string>; session: ConsoleSession; url: URL }) => Promise<string>): RouteHandler {
  return async (req, res, url) => {
    const session = await auth.session(req);
    try {
      if (!session) throw new RequestError(403, 'not signed in (or the session expired): sign in again, then repeat the action');
      requireReviewer(session.identity);
      const form = await readForm(req);
      auth.checkCsrf(session, form.get('csrf'));
      redirectAfterPost(res, await handler({ form, session, url }));
    } catch (error) {
      if (!(error instanceof RequestError) || res.headersSent) throw error;
      req.resume();
      sendPage(res, error.status, errorPage(session?.identity ?? null, error.status, error.message));
    }
  };
}
