import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { GaugeReader } from './gauge-family.js';

/** Counters this process keeps; gauges are read from the database at scrape time. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges: GaugeReader[] = [];

  /** Adds a gauge family read from the database at every scrape. */
  addGauge(read: GaugeReader): void {
    this.gauges.push(read);
  }

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
    const malformed = await db.selectFrom('source_malformed').select(['source', 'reason', 'count']).execute();
    lines.push('# TYPE vouch_malformed_lines_total counter');
    for (const row of malformed) lines.push(`vouch_malformed_lines_total${formatLabels({ source: row.source, reason: row.reason })} ${Number(row.count)}`);
    for (const read of this.gauges) {
      const family = await read(db);
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
      for (const sample of family.samples) lines.push(`${family.name}${formatLabels(sample.labels)} ${sample.value}`);
    }
    return lines.join('\n') + '\n';
  }
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`))}"`).join(',')}}`;
}
