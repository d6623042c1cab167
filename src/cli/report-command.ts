import { systemClock } from '../clock.js';
import type { VouchConfig } from '../config/config.js';
import { VouchError } from '../errors.js';
import { REPORT_QUERY_KEYS, parseReportFilter, type ReportQuery } from '../review/report-filter.js';
import { REPORT_FORMATS, renderReport, toReportRow, type ReportFormat, type ReportRow } from '../review/report.js';
import { listAlerts } from '../store/queries/alerts.js';
import { openConfiguredStore } from './open-store.js';
import { runningService } from './running-service.js';

export interface ReportOptions extends ReportQuery {
  format: string;
}

/**
 * Prints the audit report. On Postgres it reads the database directly. On embedded PGlite, which
 * only one process may open, it asks the running service's review API, and opens the files
 * itself only when no service is running.
 */
export async function reportCommand(config: VouchConfig, options: ReportOptions): Promise<string> {
  if (!(REPORT_FORMATS as readonly string[]).includes(options.format)) {
    throw new VouchError('request_invalid', `--format: "${options.format}" is not a report format; use ${REPORT_FORMATS.join(', ')}`);
  }
  const filter = parseReportFilter(options, systemClock.now());
  const rows = config.database.url ? await fromDatabase(config, filter) : await fromEmbedded(config, options, filter);
  return renderReport(rows, options.format as ReportFormat);
}

async function fromDatabase(config: VouchConfig, filter: ReturnType<typeof parseReportFilter>): Promise<ReportRow[]> {
  const store = await openConfiguredStore(config, { migrate: false });
  try {
    return (await listAlerts(store.db, filter)).map(toReportRow);
  } finally {
    await store.close();
  }
}

async function fromEmbedded(config: VouchConfig, query: ReportQuery, filter: ReturnType<typeof parseReportFilter>): Promise<ReportRow[]> {
  const running = runningService(config.database.dataDir);
  if (!running) return fromDatabase(config, filter);
  const params = new URLSearchParams();
  for (const key of REPORT_QUERY_KEYS) {
    const value = query[key];
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  let response: Response;
  try {
    response = await fetch(`${running.url}/api/alerts?${params}`, { headers: { authorization: `Bearer ${running.token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new VouchError('database_error', `vouch is running (pid ${running.pid}) but its API at ${running.url} does not answer: ${(error as Error).message}`);
  }
  if (!response.ok) {
    const body = await response.text();
    throw new VouchError('request_invalid', `the running service refused the report (${response.status}): ${body.slice(0, 300)}`);
  }
  return (await response.json()) as ReportRow[];
}
