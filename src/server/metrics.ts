import type { Kysely } from 'kysely';
import { countFailedJobs } from '../store/queries/jobs.js';
import type { Database } from '../store/schema.js';

/** Counters this process keeps; gauges are read from the database at scrape time. */
export class Metrics {
  private readonly counters = new Map<string, number>();

  increment(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = `${name}${formatLabels(labels)}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  /** Prometheus text exposition format. */
  async render(db: Kysely<Database>): Promise<string> {
    const lines: string[] = [];
    for (const [key, value] of [...this.counters].sort()) lines.push(`${key} ${value}`);
    const statuses = await db.selectFrom('alerts').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute();
    lines.push('# TYPE vouch_alerts gauge');
    for (const row of statuses) lines.push(`vouch_alerts{status="${row.status}"} ${Number(row.count)}`);
    const jobs = await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirst();
    lines.push('# TYPE vouch_jobs_pending gauge', `vouch_jobs_pending ${Number(jobs?.count ?? 0)}`);
    lines.push('# TYPE vouch_jobs_failed gauge');
    for (const row of await countFailedJobs(db)) lines.push(`vouch_jobs_failed${formatLabels({ kind: row.kind })} ${row.count}`);
    const malformed = await db.selectFrom('source_malformed').select(['source', 'reason', 'count']).execute();
    lines.push('# TYPE vouch_malformed_lines_total counter');
    for (const row of malformed) lines.push(`vouch_malformed_lines_total${formatLabels({ source: row.source, reason: row.reason })} ${Number(row.count)}`);
    return lines.join('\n') + '\n';
  }
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`))}"`).join(',')}}`;
}
