/**
 * The tailer into Postgres: the real FileSource (tailing, auditd parser, checkpoints) and
 * Ingestor (rules, command events, alerts, audit trail) on a real Postgres database, each run in
 * a schema of its own that is dropped afterwards.
 *
 * - Backlog: a generated log is already on disk; one source reads it to the end. Measures
 *   sustained events/s (every parsed command event, hits and non-hits) and MB/s, beside
 *   `vouch scan FILE --all --json` on the same file, run alternately with it.
 * - Live: a separate process appends to the log at a steady rate, then in bursts, while the
 *   source follows it as in production (woken by file changes, polling at the production
 *   interval as the fallback). Measures, for every rule hit, the delay from the write that
 *   completed its event to the commit of the transaction that stored it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { systemClock } from '../src/clock.js';
import type { SourceConfig } from '../src/config/config.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { parseDuration } from '../src/config/duration.js';
import { loadDefaultRules } from '../src/detect/load-rules.js';
import { silentLogger } from '../src/logger.js';
import { FileSource } from '../src/sources/file-source.js';
import { Ingestor, emptyStats, type IngestBatch, type IngestStats } from '../src/sources/ingest.js';
import { openDatabase, type VouchDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { writeAuditLog, type GenerateStats } from './generate-auditd.js';
import { absoluteNow, planCommands, type WritePhase } from './log-writer.js';
import { measureProcess } from './measure-process.js';
import { readBacklogOverHttp, type HttpBacklogRun } from './ingest-http.js';
import { median } from './scan-vs-ausearch.js';

/** What to run. */
export interface IngestBenchOptions {
  databaseUrl: string;
  outDir: string;
  /** Commands in the backlog log (the scan benchmark's size, for the comparison). */
  backlogCommands: number;
  /** Timed runs of the backlog and of the scan, alternately; the medians are reported. */
  repeats: number;
  /** bin/vouch, for the scan it is compared with. */
  vouchBin: string;
  /** The live writing schedule. */
  plan: WritePhase[];
  /** Share of rule hits in the live phase (more than the backlog's, for enough latency samples). */
  liveHitShare: number;
  seed: number;
  log: (message: string) => void;
}

export interface BacklogResult {
  file: GenerateStats;
  /** Median of the runs. */
  seconds: number;
  /** Every run, in seconds. */
  runs: number[];
  /** `vouch scan FILE --all --json` of the same file: its runs (wall, s), median and events/s. */
  scan: { runs: number[]; seconds: number; eventsPerSecond: number };
  /** The same log through `POST /ingest` (bodies cut by size, events running across them; two requests in flight). */
  http: { runs: number[]; seconds: number; eventsPerSecond: number; ratioToScan: number; requests: number; storedHits: number };
  /** The tailer's events/s over the scan's. */
  ratioToScan: number;
  stats: IngestStats;
  eventsPerSecond: number;
  megabytesPerSecond: number;
  storedHits: number;
}

/** Latency of one group of rule hits, in ms. */
export interface LatencySummary {
  phase: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LiveResult {
  pollIntervalMs: number;
  commandsWritten: number;
  eventsWritten: number;
  /** Written events that were ingested within a minute of the last write (should be all). */
  eventsIngested: number;
  /** Events per second offered during the steady phase. */
  steadyEventsPerSecond: number;
  latency: LatencySummary[];
}

export type IngestBenchResult =
  | { skipped: string }
  | { databaseUrl: string; postgresVersion: string; backlog: BacklogResult; live: LiveResult };

/** Runs both phases, or says why it could not (no Postgres). */
export async function runIngestBenchmark(options: IngestBenchOptions): Promise<IngestBenchResult> {
  let version: string;
  try {
    version = await adminQuery(options.databaseUrl, 'show server_version').then((rows) => String(rows[0]?.server_version ?? '?'));
  } catch (error) {
    return { skipped: `no Postgres at ${redactUrl(options.databaseUrl)} (${(error as Error).message}); set BENCH_DATABASE_URL` };
  }
  const backlog = await runBacklog(options);
  // The backlog phases leave a few hundred MB of dirty pages behind; flush them first, so that the
  // live phase times the service and not the server writing out the previous phase's work.
  await adminQuery(options.databaseUrl, 'checkpoint');
  const live = await withStore(options.databaseUrl, (store) => runLive(store, options));
  return { databaseUrl: redactUrl(options.databaseUrl), postgresVersion: version, backlog, live };
}

/** The backlog phase alone: the tailer and the scan on the same generated log, alternately. */
export async function runBacklog(options: IngestBenchOptions): Promise<BacklogResult> {
  const logFile = path.join(options.outDir, 'ingest-backlog.log');
  options.log(`ingest backlog: generating ${options.backlogCommands.toLocaleString('en-US')} commands`);
  const file = await writeAuditLog(logFile, { commands: options.backlogCommands, seed: options.seed });
  const scanRuns: number[] = [];
  const runs: Array<{ seconds: number; stats: IngestStats; storedHits: number }> = [];
  const httpRuns: HttpBacklogRun[] = [];
  try {
    for (let i = 0; i < options.repeats; i += 1) {
      scanRuns.push(await timeScan(options, logFile));
      runs.push(await withStore(options.databaseUrl, (store) => readBacklog(store, logFile, file)));
      httpRuns.push(await withStore(options.databaseUrl, (store) => readBacklogOverHttp(store, logFile, intakePolicy())));
      const run = runs[runs.length - 1]!;
      const http = httpRuns[httpRuns.length - 1]!;
      options.log(
        `  scan ${scanRuns[i]!.toFixed(2)} s (${Math.round(file.execEvents / scanRuns[i]!).toLocaleString('en-US')} events/s); ` +
          `tailer ${run.stats.events.toLocaleString('en-US')} events in ${run.seconds.toFixed(2)} s (${Math.round(run.stats.events / run.seconds).toLocaleString('en-US')} events/s), ` +
          `${run.stats.matched} hits, ${run.stats.alertsCreated} alerts created, ${run.stats.alertsFolded} folded; ` +
          `POST /ingest ${http.events.toLocaleString('en-US')} events in ${http.seconds.toFixed(2)} s (${Math.round(http.events / http.seconds).toLocaleString('en-US')} events/s, ${http.requests} requests)`,
      );
    }
  } finally {
    await rm(logFile, { force: true });
  }
  const seconds = median(runs.map((r) => r.seconds));
  const typical = runs.find((r) => r.seconds === seconds) ?? runs[0]!;
  const scanSeconds = median(scanRuns);
  const eventsPerSecond = typical.stats.events / seconds;
  const scanEventsPerSecond = file.execEvents / scanSeconds;
  const httpSeconds = median(httpRuns.map((r) => r.seconds));
  const typicalHttp = httpRuns.find((r) => r.seconds === httpSeconds) ?? httpRuns[0]!;
  const httpEventsPerSecond = typicalHttp.events / httpSeconds;
  return {
    file,
    seconds,
    runs: runs.map((r) => r.seconds),
    scan: { runs: scanRuns, seconds: scanSeconds, eventsPerSecond: scanEventsPerSecond },
    ratioToScan: eventsPerSecond / scanEventsPerSecond,
    http: {
      runs: httpRuns.map((r) => r.seconds),
      seconds: httpSeconds,
      eventsPerSecond: httpEventsPerSecond,
      ratioToScan: httpEventsPerSecond / scanEventsPerSecond,
      requests: typicalHttp.requests,
      storedHits: typicalHttp.stored,
    },
    stats: typical.stats,
    eventsPerSecond,
    megabytesPerSecond: file.bytes / 1e6 / seconds,
    storedHits: typical.storedHits,
  };
}

/** One source reads the whole log into a fresh schema. */
async function readBacklog(store: VouchDatabase, logFile: string, file: GenerateStats): Promise<{ seconds: number; stats: IngestStats; storedHits: number }> {
  const rules = loadDefaultRules();
  const ingestor = new Ingestor({ db: store.db, rules, clock: systemClock, policy: intakePolicy() });
  const source = new FileSource({ source: sourceConfig('backlog', logFile), ingestor, db: store.db, clock: systemClock, logger: silentLogger });
  const total = emptyStats();
  const started = performance.now();
  try {
    // One runOnce reads up to 64 batches; repeat until the whole file has been consumed.
    while (total.events < file.execEvents) {
      const stats = await source.runOnce();
      if (stats.events === 0) break;
      for (const key of Object.keys(total) as Array<keyof IngestStats>) total[key] += stats[key];
    }
  } finally {
    await source.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const stored = await store.db.selectFrom('command_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { seconds, stats: total, storedHits: Number(stored.n) };
}

/** Wall time of `vouch scan FILE --all --json`, in seconds, output to a file as in the scan benchmark. */
async function timeScan(options: IngestBenchOptions, logFile: string): Promise<number> {
  const out = path.join(options.outDir, 'ingest-scan.jsonl');
  const m = await measureProcess(process.execPath, [options.vouchBin, 'scan', logFile, '--all', '--json'], { stdoutFile: out, stderrFile: `${out}.err` });
  await rm(out, { force: true });
  await rm(`${out}.err`, { force: true });
  if (m.exitCode !== 0) throw new Error(`vouch scan exited with ${m.exitCode}`);
  return m.wallMs / 1000;
}

/** Notes when each event was stored: right after the transaction holding it committed. */
class TimedIngestor extends Ingestor {
  /** Commit time of every rule hit, by event key. */
  readonly storedAt = new Map<string, number>();
  /** Every event key ingested, hit or not. */
  readonly seen = new Set<string>();

  constructor(
    options: ConstructorParameters<typeof Ingestor>[0],
    private readonly isHit: (batch: IngestBatch, index: number) => boolean,
  ) {
    super(options);
  }

  override async ingest(source: string, batch: IngestBatch): Promise<IngestStats> {
    const stats = await super.ingest(source, batch);
    const at = absoluteNow();
    batch.events.forEach((event, index) => {
      this.seen.add(event.eventKey);
      if (this.isHit(batch, index)) this.storedAt.set(event.eventKey, at);
    });
    return stats;
  }
}

/** The live phase alone, in `store`. */
export async function runLive(store: VouchDatabase, options: IngestBenchOptions): Promise<LiveResult> {
  const logFile = path.join(options.outDir, 'ingest-live.log');
  const timesFile = path.join(options.outDir, 'ingest-live.times');
  await writeFile(logFile, '');
  const rules = loadDefaultRules();
  const ingestor = new TimedIngestor(
    { db: store.db, rules, clock: systemClock, policy: intakePolicy() },
    (batch, index) => rules.match(batch.events[index]!) !== null,
  );
  const pollIntervalMs = parseDuration(DEFAULTS.pollInterval, 'workflow.poll_interval');
  const source = new FileSource({ source: sourceConfig('live', logFile), ingestor, db: store.db, clock: systemClock, logger: silentLogger });
  source.start(pollIntervalMs);
  options.log(`ingest live: ${describePlan(options.plan)}, woken by file changes, polling every ${pollIntervalMs} ms as the fallback`);
  let written: Array<{ phase: string; key: string; at: number }>;
  try {
    const writer = spawn(
      process.execPath,
      [
        path.join(path.dirname(fileURLToPath(import.meta.url)), 'log-writer.js'),
        ...['--out', logFile, '--times', timesFile, '--seed', String(options.seed + 2), '--hit-share', String(options.liveHitShare)],
        ...['--plan', JSON.stringify(options.plan)],
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const [code] = (await once(writer, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`log writer exited with ${code}`);
    written = parseTimes(await readFile(timesFile, 'utf8'));
    // Wait for the reader to catch up with everything written (bounded).
    const deadline = Date.now() + 60_000;
    while (written.some((w) => !ingestor.seen.has(w.key)) && Date.now() < deadline) await sleep(100);
  } finally {
    await source.stop();
  }
  const byPhase = new Map<string, number[]>();
  for (const { phase, key, at } of written) {
    const stored = ingestor.storedAt.get(key);
    if (stored === undefined) continue;
    const list = byPhase.get(phase) ?? [];
    list.push(stored - at);
    byPhase.set(phase, list);
  }
  const latency = [...byPhase].map(([phase, values]) => summarize(phase, values));
  const all = [...byPhase.values()].flat();
  if (all.length > 0) latency.push(summarize('all', all));
  for (const l of latency) options.log(`  ${l.phase}: ${l.samples} hits, p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms`);
  const steady = options.plan.find((p) => p.kind === 'steady');
  const steadyEvents = written.filter((w) => w.phase === steady?.name).length;
  await rm(logFile, { force: true });
  await rm(timesFile, { force: true });
  return {
    pollIntervalMs,
    commandsWritten: planCommands(options.plan),
    eventsWritten: written.length,
    eventsIngested: written.filter((w) => ingestor.seen.has(w.key)).length,
    steadyEventsPerSecond: steady && steady.kind === 'steady' ? steadyEvents / steady.seconds : 0,
    latency,
  };
}

function parseTimes(text: string): Array<{ phase: string; key: string; at: number }> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [phase, key, at] = line.split('\t');
      return { phase: phase ?? '', key: key ?? '', at: Number(at) };
    });
}

/** Nearest-rank percentiles. */
export function summarize(phase: string, values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return { phase, samples: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1] ?? NaN };
}

function describePlan(plan: readonly WritePhase[]): string {
  return plan
    .map((p) => (p.kind === 'steady' ? `${p.rate} commands/s for ${p.seconds} s` : `a burst of ${p.commands.toLocaleString('en-US')} commands`))
    .join(', then ');
}

function sourceConfig(name: string, file: string): SourceConfig {
  return { name, type: 'auditd', path: file, token: null, host: null };
}

function intakePolicy() {
  return {
    dedupeWindowMs: parseDuration(DEFAULTS.dedupeWindow, 'workflow.dedupe_window'),
    fleetWindowMs: parseDuration(DEFAULTS.fleetWindow, 'workflow.fleet_window'),
    reuseWindowMs: parseDuration(DEFAULTS.reuseWindow, 'workflow.reuse_window'),
    systemActor: DEFAULTS.systemActor,
  };
}

/** A migrated store in a fresh schema, dropped (with everything in it) after `use`. */
export async function withStore<T>(url: string, use: (store: VouchDatabase) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `create schema "${schema}"`);
  try {
    const store = await openDatabase({ url, dataDir: null, schema, poolSize: 5 });
    try {
      await migrateToLatest(store);
      return await use(store);
    } finally {
      await store.close();
    }
  } finally {
    await adminQuery(url, `drop schema "${schema}" cascade`);
  }
}

async function adminQuery(url: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(text)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

/** The URL without its password, for the report. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
