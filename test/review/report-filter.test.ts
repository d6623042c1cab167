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
    refused(() => parseReportFilter({ status: 'asked,done' }, NOW), /--status: "done" is not a status; use asked, verifying/);
    refused(() => parseReportFilter({ offset: '-1' }, NOW), /--offset/);
    refused(() => parseReportFilter({ host: 'x'.repeat(501) }, NOW), /--host: at most 500/);
  });

  it('refuses an unknown or repeated query parameter instead of ignoring it', () => {
    expect(reportQueryFromParams(new URLSearchParams('reviewed=false&host=web-*'))).toEqual({ reviewed: 'false', host: 'web-*' });
    refused(() => reportQueryFromParams(new URLSearchParams('reviwed=false')), /reviwed: unknown filter/);
    refused(() => reportQueryFromParams(new URLSearchParams('status=asked&status=verified')), /status: given more than once/);
    expect(reportQueryFromParams(new URLSearchParams('page=2&rule=x'), ['page'])).toEqual({ rule: 'x' });
  });
});
