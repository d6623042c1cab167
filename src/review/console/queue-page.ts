/**
 * The review queue (GET /review): alerts needing review first (escalated and not yet reviewed),
 * filtered, sorted and paginated by query parameters, so a filtered view is a link to share.
 */
import type { Kysely } from 'kysely';
import { ALERT_STATUSES, ESCALATION_REASONS, SEVERITIES } from '../../alerts/alert.js';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import { ATTRIBUTIONS } from '../../sources/provenance.js';
import { countAlerts, listAlerts, sortsDescendingByDefault, type AlertSort } from '../../store/queries/alerts.js';
import type { Database } from '../../store/schema.js';
import { parseReportFilter, reportQueryFromParams, type ReportQuery } from '../report-filter.js';
import { toReportRow, type ReportRow } from '../report.js';
import { alertLink, commandHtml, severityBadge, statusBadge, timeHtml } from './alert-html.js';
import type { ReviewerIdentity } from './console-auth.js';
import { consolePage } from './console-page.js';
import { html, queryString, type Html } from './html.js';

export const QUEUE_PAGE_SIZE = 50;
const MAX_PAGE = 10_000;

/** The queue's parameters: a report filter, plus the page. `sort` defaults to the queue's order. */
export interface QueueView {
  query: ReportQuery;
  page: number;
}

/**
 * The queue's view of a URL, and its exports' (which hold every alert the filter selects). The
 * queue pages with `page`: `limit` and `offset`, which the review API takes, are refused rather
 * than ignored, so a link never shows one thing while its Export links download another.
 */
export function queueViewFromUrl(url: URL): QueueView {
  for (const key of ['limit', 'offset']) {
    if (url.searchParams.has(key)) {
      throw new RequestError(400, `${key}: not a queue filter; the queue pages with page=2, page=3, ... (${QUEUE_PAGE_SIZE} alerts a page), and its exports hold every alert the filter selects`);
    }
  }
  const query = reportQueryFromParams(url.searchParams, ['page']);
  const pageText = url.searchParams.get('page');
  const page = pageText === null || pageText === '' ? 1 : Number(pageText);
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE) throw new RequestError(400, `page: a whole number from 1 to ${MAX_PAGE}`);
  return { query: { ...query, sort: query.sort || 'queue' }, page };
}

export async function renderQueuePage(options: { db: Kysely<Database>; clock: Clock; identity: ReviewerIdentity; url: URL }): Promise<Html> {
  const view = queueViewFromUrl(options.url);
  const filter = parseReportFilter(view.query, options.clock.now());
  const [rows, total] = await Promise.all([
    listAlerts(options.db, { ...filter, limit: QUEUE_PAGE_SIZE, offset: (view.page - 1) * QUEUE_PAGE_SIZE }),
    countAlerts(options.db, filter),
  ]);
  const content = html`<h1>Review queue</h1>
${filterForm(view.query)}
<p class="summary" id="queue-summary">${summaryText(total, view.page, rows.length)}
 · <a href="/review/export.csv${exportQuery(view.query)}">Export CSV</a>
 · <a href="/review/export.json${exportQuery(view.query)}">Export JSON</a></p>
${queueTable(rows.map(toReportRow), view)}
${pager(view, total)}`;
  return consolePage({ title: 'Queue', identity: options.identity, section: 'queue' }, content);
}

function summaryText(total: number, page: number, shown: number): string {
  if (total === 0) return 'No alerts match.';
  const first = (page - 1) * QUEUE_PAGE_SIZE + 1;
  return shown === 0 ? `${total} alerts match; this page is past the end.` : `Alerts ${first}–${first + shown - 1} of ${total}`;
}

/** The filter as query parameters (empty ones dropped), with changes. */
function withQuery(query: ReportQuery, changes: Partial<Record<keyof ReportQuery | 'page', string | number | null>> = {}): string {
  const params: Record<string, string | number | null | undefined> = {};
  for (const [key, value] of Object.entries(query)) params[key] = value === undefined || value === null ? null : String(value);
  return queryString({ ...params, ...changes });
}

function exportQuery(query: ReportQuery): string {
  return withQuery(query, { sort: query.sort === 'queue' ? null : (query.sort ?? null) });
}

function select(name: keyof ReportQuery, label: string, values: readonly string[], current: string | undefined, anyLabel = 'Any'): Html {
  const id = `filter-${name}`;
  // A list from a shared link (`status=escalated,verified`) is kept as an option of its own, so
  // refining the filter in the form does not drop it.
  const list = current !== undefined && current !== '' && !values.includes(current) ? html`<option value="${current}" selected>${current.split(',').join(', ')}</option>` : '';
  return html`<div class="field"><label for="${id}">${label}</label><select id="${id}" name="${name}" data-autosubmit>
<option value="">${anyLabel}</option>${values.map((value) => html`<option value="${value}"${value === current ? html` selected` : ''}>${value}</option>`)}${list}
</select></div>`;
}

function input(name: keyof ReportQuery, label: string, current: string | undefined, placeholder = ''): Html {
  const id = `filter-${name}`;
  return html`<div class="field"><label for="${id}">${label}</label><input id="${id}" name="${name}" type="text" value="${current ?? ''}" placeholder="${placeholder}" autocomplete="off" spellcheck="false"></div>`;
}

function filterForm(query: ReportQuery): Html {
  const reviewed = typeof query.reviewed === 'string' ? query.reviewed : '';
  return html`<form class="filters panel" method="get" action="/review" role="search" aria-label="Filter alerts">
<div class="field field-wide"><label for="filter-q">Search</label><input id="filter-q" name="q" type="search" value="${query.q ?? ''}" placeholder="command, host, user, rule, reason…" autocomplete="off" spellcheck="false"></div>
${select('status', 'Status', ALERT_STATUSES, query.status ?? undefined)}
${select('reason', 'Escalation reason', ESCALATION_REASONS, query.reason ?? undefined)}
${select('severity', 'Severity', SEVERITIES, query.severity ?? undefined)}
${select('provenance', 'Provenance', ATTRIBUTIONS, query.provenance ?? undefined)}
<div class="field"><label for="filter-reviewed">Reviewed</label><select id="filter-reviewed" name="reviewed" data-autosubmit>
<option value="">Either</option><option value="false"${reviewed === 'false' ? html` selected` : ''}>Not yet reviewed</option><option value="true"${reviewed === 'true' ? html` selected` : ''}>Reviewed</option>
</select></div>
${input('user', 'Person', query.user ?? undefined, 'login')}
${input('host', 'Host', query.host ?? undefined, 'web-* (glob)')}
${input('rule', 'Rule', query.rule ?? undefined, 'rule id')}
${input('since', 'From', query.since ?? undefined, '2026-11-24 or 7d')}
${input('until', 'Before', query.until ?? undefined, '2026-11-25')}
${query.sort && query.sort !== 'queue' ? html`<input type="hidden" name="sort" value="${query.sort}">` : ''}
${query.order ? html`<input type="hidden" name="order" value="${query.order}">` : ''}
<div class="field field-submit"><button type="submit" class="button primary">Apply filters</button> <a class="button" href="/review">Clear</a></div>
</form>`;
}

const SORTABLE: Array<[string, string]> = [
  ['occurred_at', 'Occurred'], ['status', 'Status'], ['severity', 'Severity'], ['user', 'User'], ['host', 'Host'], ['rule', 'Rule'],
];

/** Sorting by a column: its link (the filter kept, back to the first page), and how it sorts now. */
function sortChoice(view: QueueView, column: string, label: string): { href: string; state: 'ascending' | 'descending' | 'none'; text: string } {
  const current = view.query.sort === column;
  const descending = view.query.order ? view.query.order === 'desc' : sortsDescendingByDefault(column as AlertSort);
  // A second click on the current column turns its order round.
  const next = current ? (descending ? 'asc' : 'desc') : null;
  return {
    href: `/review${withQuery(view.query, { sort: column, order: next, page: null })}`,
    state: current ? (descending ? 'descending' : 'ascending') : 'none',
    text: `${label}${current ? (descending ? ' ▼' : ' ▲') : ''}`,
  };
}

function sortHeader(view: QueueView, column: string, label: string): Html {
  const choice = sortChoice(view, column, label);
  return html`<th scope="col" aria-sort="${choice.state}"><a href="${choice.href}">${choice.text}</a></th>`;
}

/**
 * The same sorts as links above the list, for a narrow screen, where the table becomes cards and
 * its header row is hidden (the stylesheet shows these only there); plus the queue's own order.
 */
function sortLinks(view: QueueView): Html {
  const current = (on: boolean) => (on ? html` aria-current="true"` : '');
  const queueOrder = html`<a href="/review${withQuery(view.query, { sort: null, order: null, page: null })}"${current(view.query.sort === 'queue')}>Needs review first</a>`;
  const columns = SORTABLE.map(([column, label]) => {
    const choice = sortChoice(view, column, label);
    return html`<a href="${choice.href}"${current(choice.state !== 'none')}>${choice.text}</a>`;
  });
  return html`<nav class="sort-links" id="queue-sort" aria-label="Sort alerts"><span class="sort-title">Sort by</span> ${queueOrder} ${columns}</nav>`;
}

function queueTable(rows: readonly ReportRow[], view: QueueView): Html {
  if (rows.length === 0) return html``;
  const headers = html`${SORTABLE.map(([column, label]) => sortHeader(view, column, label))}<th scope="col">Command</th><th scope="col">Review</th>`;
  const body = rows.map(
    (row) => html`<tr data-alert="${row.id}" data-status="${row.status}">
<td data-label="Occurred">${alertLink(row.id, timeHtml(row.occurred_at))}</td>
<td data-label="Status">${statusBadge(row.status)}${row.escalation_reason ? html` <span class="reason">${row.escalation_reason}</span>` : ''}</td>
<td data-label="Severity">${severityBadge(row.severity)}</td>
<td data-label="User">${row.user ?? ''}</td>
<td data-label="Host">${row.host}</td>
<td data-label="Rule">${row.rule}</td>
<td data-label="Command" class="command-cell">${alertLink(row.id, commandHtml(row.command, { short: true }))}</td>
<td data-label="Review">${row.reviewed_by ? html`<span class="reviewed">✓ ${row.reviewed_by}</span>` : html`<span class="unreviewed">not yet</span>`}</td>
</tr>`,
  );
  return html`${sortLinks(view)}
<div class="table-wrap"><table class="alerts queue-table" id="queue"><thead><tr>${headers}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function pager(view: QueueView, total: number): Html {
  const pages = Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE));
  if (pages === 1) return html``;
  const link = (page: number, label: string, rel: string) => html`<a class="button" rel="${rel}" href="/review${withQuery(view.query, { page: page === 1 ? null : page })}">${label}</a>`;
  return html`<nav class="pager" aria-label="Pages">${view.page > 1 ? link(view.page - 1, '← Previous', 'prev') : ''}
<span>Page ${view.page} of ${pages}</span>${view.page < pages ? link(view.page + 1, 'Next →', 'next') : ''}</nav>`;
}
