import type { AlertStatus } from '../alerts/alert.js';
import { ATTRIBUTIONS, fromStoredProvenance, isForgeable, toStoredProvenance, type StoredProvenance } from '../sources/provenance.js';
import type { AlertRow } from '../store/schema.js';
import { readWebAsset } from '../server/web-assets.js';
import { terminalPrefix, visibleText } from '../terminal-text.js';
import { standaloneReport } from './console/report-document.js';
import type { ReportFormat } from './report-formats.js';
import { replaceEvery } from '../replace-every.js';

/** One alert in `vouch report --format json` (and the review API). Field names are a contract. */
export interface ReportRow {
  id: string;
  status: AlertStatus;
  user: string | null;
  host: string;
  command: string;
  rule: string;
  rule_name: string;
  severity: string;
  attack: string[];
  occurred_at: string;
  run_as: string | null;
  cwd: string | null;
  occurrences: number;
  justification: string | null;
  second_factor: string | null;
  escalation_reason: string | null;
  escalation_detail: string | null;
  resolved_at: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_note: string | null;
  /**
   * Where the alert's event came from and how far its attribution can be trusted (`attribution`,
   * `forgeable`, `transport`, `host_binding`, `format`); null for alerts raised before it was kept.
   */
  provenance: StoredProvenance | null;
  /** The conversation the alert belongs to: the id of its first alert (its own id when it leads). */
  conversation_id: string;
}

export { REPORT_FORMATS, type ReportFormat } from './report-formats.js';

export function toReportRow(row: AlertRow): ReportRow {
  return {
    id: row.id,
    status: row.status,
    user: row.owner,
    host: row.host,
    command: row.command,
    rule: row.rule_id,
    rule_name: row.rule_name,
    severity: row.severity,
    attack: row.attack,
    occurred_at: row.occurred_at.toISOString(),
    run_as: row.run_as,
    cwd: row.cwd,
    occurrences: row.occurrences,
    justification: row.justification,
    second_factor: row.second_factor,
    escalation_reason: row.escalation_reason,
    escalation_detail: row.escalation_detail,
    resolved_at: row.resolved_at?.toISOString() ?? null,
    reviewed_by: row.reviewed_by,
    reviewed_at: row.reviewed_at?.toISOString() ?? null,
    review_note: row.review_note,
    provenance: storedProvenance(row.provenance),
    conversation_id: row.conversation_id,
  };
}

function storedProvenance(stored: StoredProvenance | null): StoredProvenance | null {
  const provenance = fromStoredProvenance(stored);
  return provenance === null ? null : toStoredProvenance(provenance);
}

/**
 * A report cell for a provenance: the attribution word, then what qualifies it, e.g. `kernel`,
 * `syslog-unverified, forgeable`, `shipper, http, unbound`. Empty when unknown.
 */
export function provenanceCell(provenance: StoredProvenance | null): string {
  if (provenance === null) return '';
  const parts: string[] = [provenance.attribution];
  if (provenance.forgeable) parts.push('forgeable');
  if (provenance.transport === 'http') parts.push('http', provenance.host_binding ?? 'unbound');
  return parts.join(', ');
}

/** A report cell's text: provenance summarised, arrays joined, nothing as empty. */
function cellText(row: ReportRow, column: keyof ReportRow): string {
  if (column === 'provenance') return provenanceCell(row.provenance);
  const value = row[column];
  if (value === null || value === undefined) return '';
  return Array.isArray(value) ? value.join(' ') : String(value);
}

/** Renders rows in one of the report formats; every format escapes for its own medium. */
export function renderReport(rows: readonly ReportRow[], format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, sanitisedJsonValue, 2) + '\n';
    case 'csv':
      return renderCsv(rows);
    case 'html':
      return renderHtml(rows);
    case 'table':
      return renderTable(rows);
  }
}

/** Fields a person may write on several lines; every other field is one line. */
const MULTI_LINE_FIELDS: ReadonlySet<string> = new Set(['command', 'justification', 'escalation_detail', 'review_note']);

/**
 * A report value through the shared sanitiser: control, bidi and zero-width characters become
 * visible escapes; newlines survive only in multi-line fields. Structure (keys, numbers) is ours.
 */
function sanitisedValue(field: string, text: string): string {
  return visibleText(text, { keepLineBreaks: MULTI_LINE_FIELDS.has(field) });
}

/** JSON.stringify replacer: sanitises string values (array items belong to their field). */
function sanitisedJsonValue(this: unknown, key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const field = Array.isArray(this) ? 'attack' : key;
  return sanitisedValue(field, value);
}

const CSV_COLUMNS: Array<keyof ReportRow> = [
  'id', 'status', 'user', 'host', 'command', 'rule', 'severity', 'attack', 'occurred_at', 'run_as', 'cwd', 'occurrences',
  'justification', 'second_factor', 'escalation_reason', 'escalation_detail', 'resolved_at', 'reviewed_by', 'reviewed_at', 'review_note',
  'provenance',
];

function renderCsv(rows: readonly ReportRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(CSV_COLUMNS.map((column) => csvCell(sanitisedValue(column, cellText(row, column)))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${replaceEvery(text, '"', '""')}"` : text;
}

/**
 * The provenance column is as wide as its longest cell (an unbound HTTP source of the weakest
 * attribution): cut short, `..., http, bound` and `..., http, unbound` would read the same.
 */
const PROVENANCE_WIDTH = Math.max(
  ...ATTRIBUTIONS.map((attribution) => provenanceCell({ format: '', attribution, forgeable: isForgeable(attribution), transport: 'http', host_binding: 'unbound' }).length),
);

/** The terminal table: what happened and every answer (justification, second factor, escalation, reviewer). */
const TABLE_COLUMNS: Array<[keyof ReportRow, string, number]> = [
  ['occurred_at', 'OCCURRED', 19],
  ['id', 'ALERT', 14],
  ['status', 'STATUS', 10],
  ['user', 'USER', 12],
  ['host', 'HOST', 16],
  ['rule', 'RULE', 22],
  ['severity', 'SEV', 8],
  ['provenance', 'PROVENANCE', PROVENANCE_WIDTH],
  ['command', 'COMMAND', 60],
  ['justification', 'JUSTIFICATION', 36],
  ['second_factor', '2ND FACTOR', 10],
  ['escalation_reason', 'ESCALATION', 20],
  ['reviewed_by', 'REVIEWER', 24],
];

function renderTable(rows: readonly ReportRow[]): string {
  if (rows.length === 0) return 'No alerts match.\n';
  const cell = (value: unknown, width: number) => {
    // Cut while escaping: never inside an escape or a surrogate pair, and a megabyte-long
    // command costs no more than the column shows.
    return terminalPrefix(value === null || value === undefined ? '-' : String(value), width).padEnd(width);
  };
  const header = TABLE_COLUMNS.map(([, title, width]) => cell(title, width)).join('  ');
  const body = rows.map((row) =>
    TABLE_COLUMNS.map(([key, , width]) => cell(tableValue(row, key), width)).join('  ').trimEnd(),
  );
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
  const summary = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  return [header.trimEnd(), ...body, '', `${rows.length} alert${rows.length === 1 ? '' : 's'}: ${summary}`].join('\n') + '\n';
}

function tableValue(row: ReportRow, key: keyof ReportRow): unknown {
  if (key === 'occurred_at') return row.occurred_at.slice(0, 19).replace('T', ' ');
  if (key === 'provenance') return row.provenance === null ? null : provenanceCell(row.provenance);
  return row[key];
}

/**
 * The HTML report is the console's printable report (src/review/console/report-document.ts), its
 * stylesheet inlined; without the audit trail at hand it shows the alerts only.
 */
function renderHtml(rows: readonly ReportRow[]): string {
  const doc = { rows, since: null, until: null, generatedAt: new Date(), trail: null, reviews: null };
  return standaloneReport(doc, readWebAsset('console/report.css'));
}
