/**
 * What `/metrics` shows, on a prom-client registry of its own (Prometheus text format with HELP
 * and TYPE lines): the process's default metrics, counters this process keeps, and figures read
 * from the database at scrape time, so every replica reports the same totals for shared state.
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_STATUSES } from '../alerts/alert.js';
import { DEFAULTS } from '../config/defaults.js';
import { JOB_KINDS, countFailedJobs, type JobKind } from '../store/queries/jobs.js';
import type { Database } from '../store/schema.js';
import type { GaugeReader } from './gauge-family.js';

let processMetrics: Registry | null = null;

/**
 * The process's default metrics (CPU, memory, event loop lag, GC), collected once per process:
 * each collection starts observers that are never stopped, and a process that starts its service
 * more than once (tests, the sandbox) must not pile them up.
 */
function processRegistry(): Registry {
  if (processMetrics === null) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export class Metrics {
  private readonly registry = new Registry();
  private readonly events = this.counter('vouch_events_total', 'Command events read, per source', ['source']);
  private readonly ruleHits = this.counter('vouch_rule_hits_total', 'Command events that matched a rule, per source', ['source']);
  private readonly ingestRequests = this.counter('vouch_ingest_requests_total', 'Accepted POST /ingest requests, per source', ['source']);
  private readonly jobFailures = this.counter('vouch_job_failures_total', 'Job attempts that failed and will be retried, per job kind', ['kind']);
  private readonly jobsAbandoned = this.counter(
    'vouch_jobs_abandoned_total',
    'Jobs that exhausted their attempts (their alert escalates as delivery_failed), per job kind',
    ['kind'],
  );
  private readonly leaseExpiries = this.counter(
    'vouch_job_lease_expiries_total',
    'Jobs claimed again because the lease of the worker running them expired, per job kind',
    ['kind'],
  );
  private readonly alerts = this.gauge('vouch_alerts', 'Alerts in the database, per status', ['status']);
  private readonly jobsPending = this.gauge('vouch_jobs_pending', 'Jobs in the database waiting to run or running', []);
  private readonly jobsFailed = this.gauge('vouch_jobs_failed', 'Jobs that used up their attempts, parked for a slow retry or waiting for their escalation to go through (see vouch doctor), per job kind', ['kind']);
  private readonly malformed = this.counter(
    'vouch_malformed_lines_total',
    'Input lines skipped as malformed since the database was created, per source and reason',
    ['source', 'reason'],
  );
  /** Gauge families other modules read from the database at each scrape (health notices...). */
  private readonly extraGauges: Array<{ read: GaugeReader; gauge: Gauge<string> | null }> = [];

  /** Adds a gauge family read from the database at every scrape. */
  addGauge(read: GaugeReader): void {
    this.extraGauges.push({ read, gauge: null });
  }

  /** `maxAttempts`: `jobs.max_attempts`, past which a job counts as failed (see countFailedJobs). */
  constructor(private readonly maxAttempts: number = DEFAULTS.jobMaxAttempts) {
    // Series that exist from the start, so rate() and alerts on them work before the first event.
    for (const kind of JOB_KINDS) {
      for (const counter of [this.jobFailures, this.jobsAbandoned, this.leaseExpiries]) counter.inc({ kind }, 0);
    }
  }

  /** The Content-Type of render's text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** One batch of a source was stored: `events` read, `matched` of them hit a rule. */
  countEvents(source: string, events: number, matched: number): void {
    this.events.inc({ source }, events);
    this.ruleHits.inc({ source }, matched);
  }

  countIngestRequest(source: string): void {
    this.ingestRequests.inc({ source });
  }

  /** A job's attempt failed; it will run again later. */
  jobFailed(kind: JobKind): void {
    this.jobFailures.inc({ kind });
  }

  /** A job ran out of attempts and was given up (its alert escalates). */
  jobAbandoned(kind: JobKind): void {
    this.jobsAbandoned.inc({ kind });
  }

  /** A job was claimed again because the worker that held it let its lease expire. */
  jobLeaseExpired(kind: JobKind): void {
    this.leaseExpiries.inc({ kind });
  }

  /** Prometheus text exposition format, with the database figures read now. */
  async render(db: Kysely<Database>): Promise<string> {
    await this.readDatabase(db);
    return Registry.merge([processRegistry(), this.registry]).metrics();
  }

  private async readDatabase(db: Kysely<Database>): Promise<void> {
    const [statuses, jobs, malformed, failed] = await Promise.all([
      db.selectFrom('alerts').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute(),
      db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirst(),
      db.selectFrom('source_malformed').select(['source', 'reason', 'count']).execute(),
      countFailedJobs(db, this.maxAttempts),
    ]);
    for (const extra of this.extraGauges) {
      const family = await extra.read(db);
      const labelNames = [...new Set(family.samples.flatMap((sample) => Object.keys(sample.labels)))];
      extra.gauge ??= this.gauge(family.name, family.help, labelNames);
      extra.gauge.reset();
      for (const sample of family.samples) extra.gauge.set(sample.labels, sample.value);
    }
    for (const kind of JOB_KINDS) this.jobsFailed.set({ kind }, 0);
    for (const row of failed) this.jobsFailed.set({ kind: row.kind }, row.count);
    this.alerts.reset();
    for (const status of ALERT_STATUSES) this.alerts.set({ status }, 0);
    for (const row of statuses) this.alerts.set({ status: row.status }, Number(row.count));
    this.jobsPending.set(Number(jobs?.count ?? 0));
    // A counter kept by the database: the registry's copy is replaced by the stored totals.
    this.malformed.reset();
    for (const row of malformed) this.malformed.inc({ source: row.source, reason: row.reason }, Number(row.count));
  }

  private counter<Label extends string>(name: string, help: string, labelNames: readonly Label[]): Counter<Label> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<Label extends string>(name: string, help: string, labelNames: readonly Label[]): Gauge<Label> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
