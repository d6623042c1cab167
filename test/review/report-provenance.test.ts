import { describe, expect, it } from 'vitest';
import { provenanceCell, renderReport, toReportRow, type ReportRow } from '../../src/review/report.js';
import type { AlertRow } from '../../src/store/schema.js';
import type { StoredProvenance } from '../../src/sources/provenance.js';

const SYSLOG: StoredProvenance = { format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', host_binding: null };
const HTTP: StoredProvenance = { format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'http', host_binding: 'bound' };

const at = new Date('2026-11-24T10:00:00Z');
// Cast: the row carries every column this report reads; columns added later need no edit here.
function alertRow(provenance: StoredProvenance | null): AlertRow {
  return {
    id: 'al_1', event_id: 1, status: 'escalated', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', run_as: 'root', cwd: '/',
    occurred_at: at, rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: ['T1003.008'], dedupe_key: 'd',
    occurrences: 1, chat_user_id: null, dm_channel: null, dm_ts: null, asked_at: null, reminded_at: null, answered_at: null,
    justification: null, second_factor_user: null, push_txid: null, push_started_at: null, second_factor: null,
    escalation_reason: 'denied_by_user', escalation_detail: null, escalation_channel: null, escalation_ts: null, resolved_at: null,
    reviewed_by: null, reviewed_at: null, review_note: null, created_at: at, updated_at: at, provenance,
  } as AlertRow;
}

const rows = (): ReportRow[] => [toReportRow(alertRow(SYSLOG)), toReportRow(alertRow(HTTP)), toReportRow(alertRow(null))];

describe('provenance in the report', () => {
  it('adds a provenance object to every JSON row, null when it was not recorded', () => {
    const parsed = JSON.parse(renderReport(rows(), 'json')) as Array<Record<string, unknown>>;
    expect(parsed.map((row) => row.provenance)).toEqual([SYSLOG, HTTP, null]);
    expect(parsed[0]).toMatchObject({ id: 'al_1', status: 'escalated', user: 'alice', command: 'cat /etc/shadow' });
  });

  it('adds a provenance column to CSV, after the existing ones', () => {
    const [header, first, second, third] = renderReport(rows(), 'csv').split('\r\n');
    expect(header!.endsWith(',review_note,provenance')).toBe(true);
    expect(first!.endsWith(',"syslog-unverified, forgeable"')).toBe(true);
    expect(second!.endsWith(',"kernel, http, bound"')).toBe(true);
    expect(third!.endsWith(',')).toBe(true);
  });

  it('shows it in the table and in words in HTML', () => {
    const table = renderReport(rows(), 'table');
    expect(table).toContain('PROVENANCE');
    expect(table).toContain('syslog-unverified, forgeable ');
    expect(table).toContain('kernel, http, bound ');
    const html = renderReport(rows(), 'html');
    expect(html).toContain('<th scope="col">Provenance</th>');
    expect(html).toContain('<td data-label="Provenance">sudo syslog — any local user can write this log</td>');
    expect(html).toContain('<td data-label="Provenance">auditd (kernel record), over HTTP, host checked against its source</td>');
  });

  it('never cuts the provenance column, so bound and unbound read apart', () => {
    const weakest: StoredProvenance = { format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'http', host_binding: 'unbound' };
    const table = renderReport([toReportRow(alertRow(weakest)), toReportRow(alertRow({ ...weakest, host_binding: 'bound' }))], 'table');
    expect(table).toContain('syslog-unverified, forgeable, http, unbound ');
    expect(table).toContain('syslog-unverified, forgeable, http, bound ');
  });

  it('summarises a provenance in one cell', () => {
    expect(provenanceCell({ format: 'falco', attribution: 'shipper', forgeable: false, transport: 'http', host_binding: 'unbound' })).toBe('shipper, http, unbound');
    expect(provenanceCell({ format: 'auditd', attribution: 'kernel', forgeable: false, transport: null, host_binding: null })).toBe('kernel');
    expect(provenanceCell(null)).toBe('');
  });
});
