import { ALERT_STATUSES, ESCALATION_REASONS, SEVERITIES, type AlertStatus } from '../alerts/alert.js';
import { parseDuration } from '../config/duration.js';
import { RequestError } from '../errors.js';
import { ATTRIBUTIONS } from '../sources/provenance.js';
import { ALERT_SORTS, type AlertFilter, type AlertSort } from '../store/queries/alerts.js';

/**
 * Report filters as they arrive: command-line options, or query parameters of the review API and
 * the console (where every value is a string). Names are the query parameters' names.
 */
export interface ReportQuery {
  since?: string | null;
  until?: string | null;
  /** One status or a comma-separated list. */
  status?: string | null;
  user?: string | null;
  /** A glob on the host name: `*` any run of characters, `?` one. */
  host?: string | null;
  rule?: string | null;
  /** One severity or a comma-separated list. */
  severity?: string | null;
  /** One escalation reason or a comma-separated list. */
  reason?: string | null;
  /** An attribution (kernel, syslog-unverified, ...). */
  provenance?: string | null;
  /** `true` or `false` (also `1`/`0`, `yes`/`no`). */
  reviewed?: string | boolean | null;
  /** Free text looked for in the command, host, user, rule, justification and alert id. */
  q?: string | null;
  sort?: string | null;
  /** `asc` or `desc`. */
  order?: string | null;
  limit?: string | number | null;
  offset?: string | number | null;
}

/** Every query parameter a filter understands; anything else in a URL is refused. */
export const REPORT_QUERY_KEYS = [
  'since', 'until', 'status', 'user', 'host', 'rule', 'severity', 'reason', 'provenance', 'reviewed', 'q', 'sort', 'order', 'limit', 'offset',
] as const satisfies ReadonlyArray<keyof ReportQuery>;

/** The longest free-text or name value accepted; real ones are far shorter. */
const MAX_TEXT_LENGTH = 500;

/**
 * Reads a filter from URL query parameters; 400 on a parameter no filter knows (a typo such as
 * `?reviwed=false` must not silently widen the answer) or one given twice. `extraKeys` are
 * parameters the caller reads itself (a page number).
 */
export function reportQueryFromParams(params: URLSearchParams, extraKeys: readonly string[] = []): ReportQuery {
  const query: Record<string, string> = {};
  for (const [key, value] of params) {
    if (extraKeys.includes(key)) continue;
    if (!(REPORT_QUERY_KEYS as readonly string[]).includes(key)) {
      throw new RequestError(400, `${key}: unknown filter; the filters are ${REPORT_QUERY_KEYS.join(', ')}`);
    }
    if (key in query) throw new RequestError(400, `${key}: given more than once; separate several values with commas`);
    query[key] = value;
  }
  return query as ReportQuery;
}

/**
 * Validates report filters given on the command line, in the review API or in the console. Times
 * are ISO 8601 dates or times, or a duration back from now (`24h`, `7d`). Unknown statuses,
 * severities, reasons, attributions and sorts are refused: RequestError(400).
 */
export function parseReportFilter(query: ReportQuery, now: Date): AlertFilter {
  const filter: AlertFilter = {};
  if (query.since) filter.since = parseTime(query.since, 'since', now);
  if (query.until) filter.until = parseTime(query.until, 'until', now);
  // `new` too: an alert waiting behind another question of its conversation stays `new`, and
  // metrics and the report's summary count it so.
  if (query.status) filter.status = listOf(query.status, 'status', 'a status', ALERT_STATUSES) as AlertStatus[];
  if (query.severity) filter.severity = listOf(query.severity, 'severity', 'a severity', SEVERITIES);
  if (query.reason) filter.escalationReason = listOf(query.reason, 'reason', 'an escalation reason', ESCALATION_REASONS);
  if (query.provenance) filter.attribution = listOf(query.provenance, 'provenance', 'an attribution', ATTRIBUTIONS);
  if (query.user) filter.user = text(query.user, 'user');
  if (query.host) filter.hostGlob = text(query.host, 'host');
  if (query.rule) filter.rule = text(query.rule, 'rule');
  if (query.q) filter.text = text(query.q, 'q');
  if (query.reviewed !== undefined && query.reviewed !== null && query.reviewed !== '') filter.reviewed = yesOrNo(query.reviewed, 'reviewed');
  if (query.sort) filter.sort = oneOf(query.sort, 'sort', 'a sort', ALERT_SORTS) as AlertSort;
  if (query.order) filter.descending = oneOf(query.order, 'order', 'an order', ['asc', 'desc']) === 'desc';
  if (isGiven(query.limit)) filter.limit = wholeNumber(query.limit, 'limit', 1, 100_000);
  if (isGiven(query.offset)) filter.offset = wholeNumber(query.offset, 'offset', 0, 10_000_000);
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw new RequestError(400, '--since must be earlier than --until');
  }
  return filter;
}

function isGiven(value: string | number | null | undefined): value is string | number {
  return value !== undefined && value !== null && value !== '';
}

function wholeNumber(value: string | number, name: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new RequestError(400, `--${name}: must be a whole number from ${min} to ${max}`);
  return number;
}

function text(value: string, name: string): string {
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT_LENGTH) throw new RequestError(400, `--${name}: at most ${MAX_TEXT_LENGTH} characters`);
  return trimmed;
}

/** A comma-separated list whose every item must be one of `allowed`. */
function listOf<T extends string>(value: string, name: string, what: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) oneOf(item, name, what, allowed);
  return items as T[];
}

/** `what` names the kind of value for the message: `--status: "done" is not a status; use ...`. */
function oneOf(value: string, name: string, what: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new RequestError(400, `--${name}: "${value}" is not ${what}; use ${allowed.join(', ')}`);
  return value;
}

function yesOrNo(value: string | boolean, name: string): boolean {
  if (typeof value === 'boolean') return value;
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(word)) return true;
  if (['false', '0', 'no'].includes(word)) return false;
  throw new RequestError(400, `--${name}: "${value}" is neither true nor false`);
}

/** The span a time filter may name: the database stores years 1970 to 9999 sensibly. */
const EARLIEST_TIME = Date.UTC(1970, 0, 1);
const LATEST_TIME = Date.UTC(9999, 11, 31);

function parseTime(value: string, name: string, now: Date): Date {
  const time = parseTimeOrDuration(value, name, now);
  if (time.getTime() < EARLIEST_TIME || time.getTime() > LATEST_TIME) {
    throw new RequestError(400, `--${name}: "${value}" is out of range; use a time between 1970 and 9999`);
  }
  return time;
}

function parseTimeOrDuration(value: string, name: string, now: Date): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)/.test(value) && !/^\d{4}-/.test(value)) {
    try {
      return new Date(now.getTime() - parseDuration(value, name));
    } catch {
      // Fall through to the date parser for a better message.
    }
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (date) calendarDate(date.slice(1, 4).map(Number) as [number, number, number], value, name);
  // A time without a zone is UTC, as a bare date is (and as the overview's days are): Date would
  // read "2026-11-24T09:00" in this process's zone, so the CLI, the service and a console in
  // another zone would each report on another span, and a DST change would skip or repeat an hour.
  const zoneless = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(value);
  const time = zoneless ? new Date(`${zoneless[1]}T${zoneless[2]}Z`) : date ? new Date(value) : new Date(NaN);
  if (Number.isNaN(time.getTime())) {
    throw new RequestError(400, `--${name}: "${value}" is neither an ISO date/time (2026-11-24, 2026-11-24T09:00Z) nor a duration back from now (24h, 7d)`);
  }
  return time;
}

/**
 * 400 unless year, month and day name a day of the calendar. Date reads "2026-02-30" as March 2
 * and "2026-11-31" as December 1, which would report on another span than the one asked for.
 */
function calendarDate([year, month, day]: [number, number, number], value: string, name: string): void {
  if (month < 1 || month > 12) throw new RequestError(400, `--${name}: "${value}" is not a calendar date: there is no month ${pad(month)}`);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw new RequestError(400, `--${name}: "${value}" is not a calendar date: ${year}-${pad(month)} has no day ${pad(day)}`);
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Days in a month (1 to 12) of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
