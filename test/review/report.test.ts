import { describe, expect, it } from 'vitest';
import { csvCell, renderReport, type ReportRow } from '../../src/review/report.js';

const hostile = 'cat /etc/shadow \u001b[2J\u202e<script>alert(1)</script>\u200b';

function row(overrides: Partial<ReportRow> = {}): ReportRow {
  return {
    id: 'al_1', status: 'escalated', user: 'alice', host: 'db-1', command: hostile, rule: 'shadow-read', rule_name: 'Read of password hashes',
    severity: 'high', attack: ['T1003.008'], occurred_at: '2026-11-24T10:00:00.000Z', run_as: 'root', cwd: '/', occurrences: 1,
    justification: null, second_factor: null, escalation_reason: 'denied_by_user', escalation_detail: null, resolved_at: null,
    reviewed_by: null, reviewed_at: null, review_note: null, provenance: null, conversation_id: 'al_1', ...overrides,
  };
}

describe('renderReport', () => {
  it('prints hostile command text on a terminal without control, bidi or zero-width characters', () => {
    const table = renderReport([row()], 'table');
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e\u200b]/);
    expect(table).toContain('\\x1b');
    expect(table).toContain('1 alert: 1 escalated');
  });

  it('cuts a long command in the table without splitting an escape or a surrogate pair', () => {
    for (const command of [`${'a'.repeat(57)}\u001bbbbbbbbbbb`, `${'a'.repeat(58)}😀bbbbbbbbbb`]) {
      const table = renderReport([row({ command })], 'table');
      expect(table).not.toMatch(/\\x(?![0-9a-f]{2})|\\x[0-9a-f](?![0-9a-f])/);
      expect(table).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      expect(table).toContain(`${'a'.repeat(57)}…`);
    }
  });

  it('shows the answers in the table: alert id, justification, second factor, escalation reason and reviewer', () => {
    const table = renderReport(
      [
        row({ id: 'al_verified', status: 'verified', command: 'cat /etc/shadow', justification: 'Rotating root for OPS-1', second_factor: 'allow', escalation_reason: null, reviewed_by: 'dana@example.com' }),
        row({ id: 'al_escalated', command: 'cat /etc/shadow', second_factor: 'deny', escalation_reason: 'second_factor_failed' }),
      ],
      'table',
    );
    const [header, verified, escalated] = table.split('\n');
    for (const title of ['ALERT', 'JUSTIFICATION', '2ND FACTOR', 'ESCALATION', 'REVIEWER']) expect(header).toContain(title);
    expect(header!.indexOf('JUSTIFICATION')).toBeGreaterThan(header!.indexOf('COMMAND'));
    expect(verified).toContain('al_verified');
    expect(verified).toContain('Rotating root for OPS-1');
    expect(verified).toContain('allow');
    expect(verified).toContain('dana@example.com');
    // Each answer sits under its own heading.
    expect(verified!.indexOf('Rotating root')).toBe(header!.indexOf('JUSTIFICATION'));
    expect(verified!.indexOf('dana@example.com')).toBe(header!.indexOf('REVIEWER'));
    expect(escalated!.indexOf('second_factor_failed')).toBe(header!.indexOf('ESCALATION'));
    expect(escalated!.indexOf('deny')).toBe(header!.indexOf('2ND FACTOR'));
  });

  it('prints the HTML report as the console does: every answer, reviewer included, stylesheet inlined', () => {
    const html = renderReport([row({ justification: 'why <b>', reviewed_by: 'dana@example.com' })], 'html');
    expect(html).toContain('<td data-label="Justification">why &lt;b&gt;</td>');
    expect(html).toContain('<td data-label="Reviewed by">dana@example.com</td>');
    expect(html).toContain('<a href="/review/alerts/al_1">al_1</a>');
    expect(html).toMatch(/<style>[^<]*@media print/);
    expect(html).not.toContain('<script');
  });

  it('renders a megabyte-long hostile command in the table quickly', () => {
    const started = performance.now();
    const table = renderReport([row({ command: '\u001b'.repeat(1024 * 1024) })], 'table');
    expect(performance.now() - started).toBeLessThan(500);
    expect(table.length).toBeLessThan(1000);
  });

  it('escapes HTML', () => {
    const html = renderReport([row()], 'html');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(renderReport([row({ command: `a"b'c&d` })], 'html')).toContain('a&quot;b&#39;c&amp;d');
  });

  it('quotes CSV and defuses spreadsheet formulas', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(null)).toBe('');
    expect(renderReport([row({ justification: '+1 cmd' })], 'csv')).toContain(",'+1 cmd,");
  });

  it('prints JSON with the contract fields', () => {
    const [parsed] = JSON.parse(renderReport([row()], 'json')) as Array<Record<string, unknown>>;
    for (const field of ['id', 'status', 'user', 'host', 'command', 'rule', 'severity', 'occurred_at', 'justification', 'second_factor', 'escalation_reason', 'resolved_at']) {
      expect(parsed).toHaveProperty(field);
    }
    expect(parsed?.command).toBe('cat /etc/shadow \\x1b[2J\\u202e<script>alert(1)</script>\\u200b');
  });

  it('sanitises JSON values with the shared sanitiser and keeps the JSON valid', () => {
    const report = renderReport(
      [row({ host: 'db-1\n> fake\u061c', cwd: '/tmp/\u2066x\u2069', command: 'a\nb\u{e0041}', attack: ['T1\u200d'], justification: 'why\nnot\u00ad' })],
      'json',
    );
    const [parsed] = JSON.parse(report) as Array<Record<string, unknown>>;
    expect(parsed).toMatchObject({
      host: 'db-1\\x0a> fake\\u061c',
      cwd: '/tmp/\\u2066x\\u2069',
      command: 'a\nb\\u{e0041}',
      attack: ['T1\\u200d'],
      justification: 'why\nnot\\xad',
    });
    for (const char of ['\u061c', '\u200d', '\u2066', '\u2069', '\u00ad']) expect(report).not.toContain(char);
  });

  it('sanitises CSV values and keeps the formula guard and quoting', () => {
    const csv = renderReport([row({ host: '\u202e=cmd|calc\r\nx', justification: '=1+1\n\u200bline', command: '@SUM(A1)\u0000' })], 'csv');
    const [, line] = csv.split('\r\n');
    expect(line).toContain(',\\u202e=cmd|calc\\x0d\\x0ax,');
    expect(line).toContain(`,"'=1+1\n\\u200bline",`);
    expect(line).toContain(",'@SUM(A1)\\x00,");
    expect(renderReport([row({ user: '=' + '='.repeat(1000) })], 'csv')).toContain(`,'${'='.repeat(1001)},`);
  });
});
