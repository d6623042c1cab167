import { describe, expect, it } from 'vitest';
import { RequestError } from '../../src/errors.js';
import { parseReportFilter, reportQueryFromParams } from '../../src/review/report-filter.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const refused = (run: () => unknown, message: RegExp) => {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RequestError);
  expect((thrown as RequestError).status).toBe(400);
  expect((thrown as Error).message).toMatch(message);
};

describe('report filters', () => {
  it('reads host glob, rule, severity, reason, provenance, reviewed, free text and sort', () => {
    const filter = parseReportFilter(
      { host: ' web-* ', rule: 'shadow-read', severity: 'high,critical', reason: 'no_response', provenance: 'syslog-unverified', reviewed: 'false', q: 'passwd', sort: 'severity', order: 'asc', since: '7d' },
      NOW,
    );
    expect(filter).toEqual({
      hostGlob: 'web-*', rule: 'shadow-read', severity: ['high', 'critical'], escalationReason: ['no_response'], attribution: ['syslog-unverified'],
      reviewed: false, text: 'passwd', sort: 'severity', descending: false, since: new Date('2026-11-17T12:00:00Z'),
    });
    expect(parseReportFilter({ reviewed: 'yes' }, NOW).reviewed).toBe(true);
    expect(parseReportFilter({ reviewed: true }, NOW).reviewed).toBe(true);
    expect(parseReportFilter({ reviewed: '' }, NOW).reviewed).toBeUndefined();
  });

  it('refuses values it does not know with a 400 naming the choices', () => {
    refused(() => parseReportFilter({ severity: 'urgent' }, NOW), /--severity: "urgent" is not a severity; use low, medium, high, critical/);
    refused(() => parseReportFilter({ reviewed: 'maybe' }, NOW), /--reviewed: "maybe" is neither true nor false/);
    refused(() => parseReportFilter({ reason: 'bored' }, NOW), /--reason/);
    refused(() => parseReportFilter({ provenance: 'vibes' }, NOW), /--provenance/);
    refused(() => parseReportFilter({ sort: 'random' }, NOW), /--sort/);
    refused(() => parseReportFilter({ order: 'up' }, NOW), /--order/);
    refused(() => parseReportFilter({ status: 'asked,done' }, NOW), /--status: "done" is not a status; use new, asked, verifying, verified, escalated, suppressed/);
    refused(() => parseReportFilter({ offset: '-1' }, NOW), /--offset/);
    refused(() => parseReportFilter({ host: 'x'.repeat(501) }, NOW), /--host: at most 500/);
  });

  it('accepts every status an alert can have, `new` (waiting behind another question) included', () => {
    expect(parseReportFilter({ status: 'new' }, NOW).status).toEqual(['new']);
    expect(parseReportFilter({ status: 'new,asked,verifying,verified,escalated,suppressed' }, NOW).status).toHaveLength(6);
  });

  it.each([
    ['since', '2026-02-30', '2026-02 has no day 30'],
    ['until', '2026-11-31', '2026-11 has no day 31'],
    ['since', '2026-02-29T10:00Z', '2026-02 has no day 29'],
    ['until', '2026-04-31T23:00:00+02:00', '2026-04 has no day 31'],
    ['since', '2026-06-00', '2026-06 has no day 00'],
    ['until', '2026-13-01', 'there is no month 13'],
  ] as const)('refuses --%s %s, a day its month does not have, instead of rolling it over', (name, value, why) => {
    refused(() => parseReportFilter({ [name]: value }, NOW), new RegExp(`^--${name}: "${value.replace(/[+]/g, '\\+')}" is not a calendar date: ${why}$`));
  });

  it('takes real calendar dates, leap days included', () => {
    expect(parseReportFilter({ since: '2024-02-29', until: '2026-12-31T23:59Z' }, NOW)).toEqual({
      since: new Date('2024-02-29T00:00:00Z'), until: new Date('2026-12-31T23:59:00Z'),
    });
    expect(parseReportFilter({ since: '2000-02-29' }, NOW).since).toEqual(new Date('2000-02-29T00:00:00Z'));
    refused(() => parseReportFilter({ since: '2100-02-29' }, NOW), /2100-02 has no day 29/);
  });

  it('refuses an unknown or repeated query parameter instead of ignoring it', () => {
    expect(reportQueryFromParams(new URLSearchParams('reviewed=false&host=web-*'))).toEqual({ reviewed: 'false', host: 'web-*' });
    refused(() => reportQueryFromParams(new URLSearchParams('reviwed=false')), /reviwed: unknown filter/);
    refused(() => reportQueryFromParams(new URLSearchParams('status=asked&status=verified')), /status: given more than once/);
    expect(reportQueryFromParams(new URLSearchParams('page=2&rule=x'), ['page'])).toEqual({ rule: 'x' });
  });
});

describe('report filter times without a zone', () => {
  it.each(['America/New_York', 'Europe/Berlin', 'UTC'])('reads a date-time without a zone as UTC, like a bare date, in a process running in %s', (zone) => {
    const saved = process.env.TZ;
    process.env.TZ = zone;
    try {
      expect(parseReportFilter({ since: '2026-11-24T09:00' }, NOW).since).toEqual(new Date('2026-11-24T09:00:00Z'));
      expect(parseReportFilter({ since: '2026-11-24 09:00:30' }, NOW).since).toEqual(new Date('2026-11-24T09:00:30Z'));
      // New York's spring-forward gap and fall-back repeat name one instant each, not a shifted or ambiguous one.
      expect(parseReportFilter({ since: '2026-03-08T02:30' }, NOW).since).toEqual(new Date('2026-03-08T02:30:00Z'));
      expect(parseReportFilter({ until: '2026-11-01T01:30:00.250' }, NOW).until).toEqual(new Date('2026-11-01T01:30:00.250Z'));
      expect(parseReportFilter({ since: '2026-11-24' }, NOW).since).toEqual(new Date('2026-11-24T00:00:00Z'));
      expect(parseReportFilter({ since: '2026-11-24T09:00+02:00' }, NOW).since).toEqual(new Date('2026-11-24T07:00:00Z'));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
