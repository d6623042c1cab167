/**
 * The printable audit report for a period: the alerts with every answer, whether the audit
 * trail's hash chains verify, and who reviewed what. The console serves it at /review/report and
 * `vouch report --format html` prints the same document, its stylesheet inlined so the file
 * stands alone.
 */
import type { ReviewRow } from '../../store/schema.js';
import { describeBrokenChain, type TrailCheck } from '../../store/queries/audit-trail.js';
import type { ReportRow } from '../report.js';
import { alertLink, reportTable, timeHtml } from './alert-html.js';
import { html, trustedHtml, type Html } from './html.js';

export interface ReportDocument {
  rows: readonly ReportRow[];
  since: Date | null;
  until: Date | null;
  generatedAt: Date;
  /** The whole trail's verification; null when the report was made without it. */
  trail: TrailCheck | null;
  /** Reviews recorded in the period; null when the report was made without them. */
  reviews: readonly ReviewRow[] | null;
}

function period(doc: ReportDocument): string {
  const day = (date: Date | null, fallback: string) => (date === null ? fallback : date.toISOString().replace('T', ' ').slice(0, 16) + 'Z');
  return `${day(doc.since, 'the beginning')} to ${day(doc.until, 'now')}`;
}

function trailSection(trail: TrailCheck | null): Html {
  if (trail === null) return html``;
  const verdict = trail.ok
    ? html`<p class="chain chain-ok" id="report-chain">✓ The audit trail verifies: ${trail.rows} steps in ${trail.chains} hash chains, none altered, removed or reordered.</p>`
    : html`<p class="chain chain-broken" id="report-chain" role="alert">✗ The audit trail does not verify: ${describeBrokenChain(trail.broken as NonNullable<TrailCheck['broken']>)}</p>`;
  return html`<section class="report-section" aria-labelledby="chain-title"><h2 id="chain-title">Audit trail</h2>${verdict}</section>`;
}

function reviewsSection(reviews: readonly ReviewRow[] | null): Html {
  if (reviews === null) return html``;
  const body = reviews.length === 0
    ? html`<p class="empty">No reviews in this period.</p>`
    : html`<div class="table-wrap"><table class="reviews-table" id="report-reviews"><thead><tr><th scope="col">When</th><th scope="col">Reviewer</th><th scope="col">Alert</th><th scope="col">Note</th></tr></thead>
<tbody>${reviews.map((review) => html`<tr><td data-label="When">${timeHtml(review.at.toISOString())}</td><td data-label="Reviewer">${review.actor}</td><td data-label="Alert">${alertLink(review.alert_id)}</td><td data-label="Note">${review.note ?? ''}</td></tr>`)}</tbody></table></div>`;
  return html`<section class="report-section" aria-labelledby="reviews-title"><h2 id="reviews-title">Who reviewed what</h2>${body}</section>`;
}

function counts(rows: readonly ReportRow[]): string {
  const byStatus = new Map<string, number>();
  for (const row of rows) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
  const parts = [...byStatus].map(([status, count]) => `${count} ${status}`);
  return `${rows.length} alert${rows.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** The report's content, inside a console page or a standalone file. */
export function reportBody(doc: ReportDocument): Html {
  return html`<article class="report">
<header><h1>Vouch audit report</h1>
<p class="report-period">From ${period(doc)} · generated ${doc.generatedAt.toISOString().replace('T', ' ').slice(0, 19)}Z</p>
<p class="report-counts">${counts(doc.rows)}</p></header>
${trailSection(doc.trail)}
<section class="report-section" aria-labelledby="alerts-title"><h2 id="alerts-title">Alerts</h2>${reportTable(doc.rows)}</section>
${reviewsSection(doc.reviews)}
</article>`;
}

/** The report as a file of its own, its stylesheet inlined (a file opened from disk has no /assets). */
export function standaloneReport(doc: ReportDocument, stylesheet: string): string {
  // The stylesheet is the project's own file (web/console/report.css), never outside text.
  const style = trustedHtml(stylesheet.replace(/<\/style/gi, '<\\/style'));
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Vouch report</title>
<style>${style}</style>
</head><body>
${reportBody(doc)}
</body></html>
`.markup;
}
