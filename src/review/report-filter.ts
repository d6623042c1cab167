import { ALERT_STATUSES, type AlertStatus } from '../alerts/alert.js';
import { parseDuration } from '../config/duration.js';
import { RequestError } from '../errors.js';
import type { AlertFilter } from '../store/queries/alerts.js';

export interface ReportQuery {
  since?: string | null;
  until?: string | null;
  /** One status or a comma-separated list. */
  status?: string | null;
  user?: string | null;
  limit?: string | number | null;
}

/**
 * Validates report filters given on the command line or in the review API. Times are ISO 8601
 * dates or times, or a duration back from now (`24h`, `7d`). Throws RequestError(400).
 */
export function parseReportFilter(query: ReportQuery, now: Date): AlertFilter {
  const filter: AlertFilter = {};
  if (query.since) filter.since = parseTime(query.since, 'since', now);
  if (query.until) filter.until = parseTime(query.until, 'until', now);
  if (query.status) {
    const statuses = query.status.split(',').map((status) => status.trim()).filter(Boolean);
    for (const status of statuses) {
      if (!(ALERT_STATUSES as readonly string[]).includes(status)) {
        throw new RequestError(400, `--status: "${status}" is not a status; use ${ALERT_STATUSES.filter((s) => s !== 'new').join(', ')}`);
      }
    }
    filter.status = statuses as AlertStatus[];
  }
  if (query.user) filter.user = query.user;
  if (query.limit !== undefined && query.limit !== null && query.limit !== '') {
    const limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new RequestError(400, '--limit: must be a whole number from 1 to 100000');
    filter.limit = limit;
  }
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw new RequestError(400, '--since must be earlier than --until');
  }
  return filter;
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
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(time.getTime())) {
    throw new RequestError(400, `--${name}: "${value}" is neither an ISO date/time (2026-11-24, 2026-11-24T09:00Z) nor a duration back from now (24h, 7d)`);
  }
  return time;
}
