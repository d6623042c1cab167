/**
 * Pieces of HTML every console page and the printable report share: badges, the command block,
 * and the alerts table (the CLI's HTML report is the same table).
 */
import { fromStoredProvenance, describeProvenance } from '../../sources/provenance.js';
import type { ReportRow } from '../report.js';
import { html, type Html } from './html.js';

/** A UTC time as `2026-11-24 09:00:05Z` in a <time> element (the page script adds local time). */
export function timeHtml(iso: string | null): Html {
  if (iso === null) return html`<span class="none">—</span>`;
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}Z</time>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge status-${status}">${status}</span>`;
}

export function severityBadge(severity: string): Html {
  return html`<span class="badge severity-${severity}">${severity}</span>`;
}

/** The command as the log recorded it (redacted), sanitised and escaped; never markup. */
export function commandHtml(command: string, options: { short?: boolean } = {}): Html {
  const max = options.short ? 160 : FULL_COMMAND_CHARS;
  if (command.length <= max) return html`<code class="command">${command}</code>`;
  // Never half a surrogate pair; the exports and the API carry the whole command.
  const end = isHighSurrogate(command.charCodeAt(max - 1)) ? max - 1 : max;
  const rest = options.short ? '' : html` <span class="hint">(${String(command.length - end)} more characters: the CSV and JSON exports have the whole command)</span>`;
  return html`<code class="command">${command.slice(0, end)}…</code>${rest}`;
}

/** The longest command a page shows in full; a hostile megabyte would make the page unusable. */
export const FULL_COMMAND_CHARS = 16_384;

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

export function alertLink(id: string, label: Html | string = id): Html {
  return html`<a href="/review/alerts/${encodeURIComponent(id)}">${label}</a>`;
}

/** The provenance in words, or a dash when the alert predates it. */
export function provenanceHtml(row: Pick<ReportRow, 'provenance'>): Html {
  const provenance = fromStoredProvenance(row.provenance);
  return provenance === null ? html`<span class="none">—</span>` : html`${describeProvenance(provenance)}`;
}

function orDash(value: string | null): Html {
  return value === null || value === '' ? html`<span class="none">—</span>` : html`${value}`;
}

/** The columns of the report table, each with a label (shown as a heading, and per cell when narrow). */
const REPORT_CELLS: Array<[string, (row: ReportRow) => Html]> = [
  ['Occurred', (row) => timeHtml(row.occurred_at)],
  ['Alert', (row) => alertLink(row.id)],
  ['Status', (row) => statusBadge(row.status)],
  ['User', (row) => orDash(row.user)],
  ['Host', (row) => html`${row.host}`],
  ['Rule', (row) => html`${row.rule}`],
  ['Severity', (row) => severityBadge(row.severity)],
  ['Command', (row) => commandHtml(row.command)],
  ['Justification', (row) => orDash(row.justification)],
  ['Second factor', (row) => orDash(row.second_factor)],
  ['Escalation reason', (row) => orDash(row.escalation_reason)],
  ['Reviewed by', (row) => orDash(row.reviewed_by)],
  ['Provenance', (row) => provenanceHtml(row)],
];

/** The report's alerts table: every answer (justification, second factor, escalation, reviewer). */
export function reportTable(rows: readonly ReportRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">No alerts match.</p>`;
  return html`<div class="table-wrap"><table class="alerts report-table">
<thead><tr>${REPORT_CELLS.map(([label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
<tbody>
${rows.map((row) => html`<tr data-alert="${row.id}" data-status="${row.status}">${REPORT_CELLS.map(([label, cell]) => html`<td data-label="${label}">${cell(row)}</td>`)}</tr>\n`)}
</tbody></table></div>`;
}
