import { systemClock, type Clock } from '../clock.js';
import type { VouchConfig } from '../config/config.js';
import { localHostName } from '../config/load-config.js';
import { loadDefaultRules, loadRuleFile } from '../detect/load-rules.js';
import { VouchError } from '../errors.js';
import { refuseWhileServiceRuns } from './running-service.js';
import { Ingestor, addStats, emptyStats, tallyMalformed, type IngestStats, type MalformedTally } from '../sources/ingest.js';
import { openLog } from '../sources/read-log.js';
import type { VouchDatabase } from '../store/database.js';
import { terminalText } from '../terminal-text.js';
import { checkLogFormat } from './check-log-format.js';
import { openConfiguredStore } from './open-store.js';
import { countLines, describeFormat } from './scan-command.js';

/** Options of `vouch ingest` as commander passes them. */
export interface IngestOptions {
  /** `auto` or a parser format; `auto` takes the type of a configured source of the same name. */
  format: string;
  /** Source name the events are stored under (default `backfill` in the CLI). */
  source: string;
}

/** The terminal the progress bar is drawn on: process.stderr or a test double. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface IngestIo {
  /** Where the progress bar goes, when it is a TTY. Default process.stderr. */
  stderr?: ProgressStream;
  stdin?: NodeJS.ReadableStream;
  /** An open, migrated store to use instead of the configured one (left open). */
  store?: VouchDatabase;
  clock?: Clock;
}

/** Most often the progress bar is redrawn. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * `vouch ingest FILE`: backfills a historic log into the database through the same Ingestor as
 * live sources, so rule hits become alerts exactly as if the lines had been tailed. Events are
 * keyed per source, so ingesting the same file twice adds nothing the second time, and a file
 * ingested under the name of a configured source (`--source audit`) skips what that source
 * already read. Draws a progress bar on stderr when it is a terminal; returns the summary.
 *
 * Embedded PGlite admits one process: while the service runs on it this refuses, naming the two
 * ways out (stop the service, or post the file to its /ingest endpoint).
 */
export async function ingestCommand(config: VouchConfig, file: string, options: IngestOptions, io: IngestIo = {}): Promise<string> {
  const clock = io.clock ?? systemClock;
  if (!/^[A-Za-z0-9_.-]+$/.test(options.source)) {
    throw new VouchError('request_invalid', `--source: "${options.source}" is not a source name (letters, digits, dot, dash or underscore)`);
  }
  if (!io.store && !config.database.url) refuseWhileIngestingBeside(config, file);
  const configured = config.sources.find((source) => source.name === options.source);
  const format = options.format === 'auto' && configured ? configured.type : options.format;
  const uids = config.identity.uids;
  const log = await openLog(file, {
    format,
    parser: { defaultHost: configured?.host ?? localHostName(), resolveUid: (uid) => uids[String(uid)] ?? null, timeZone: configured?.timeZone },
    clock,
    stdin: io.stdin,
  });
  const rules = config.rules ? loadRuleFile(config.rules) : loadDefaultRules();
  const store = io.store ?? (await openConfiguredStore(config, { migrate: true }));
  const started = clock.now().getTime();
  const progress = new ProgressBar(io.stderr ?? process.stderr, log.totalBytes, clock);
  const totals = emptyStats();
  const byReason = new Map<string, number>();
  // Malformed counts wait here until the first event confirms the format: a log refused for
  // being in the wrong format leaves no counts behind (they would open a malformed_spike notice).
  let held: MalformedTally[] = [];
  try {
    const ingestor = new Ingestor({ db: store.db, rules, policy: config.workflow, clock });
    for await (const batch of log) {
      if (totals.events === 0 && batch.events.length === 0) held = tallyMalformed(held, batch.malformed);
      else {
        addStats(totals, await ingestor.ingest(options.source, { events: batch.events, malformed: batch.malformed, heldMalformed: held }));
        held = [];
      }
      for (const item of batch.malformed) byReason.set(item.reason, (byReason.get(item.reason) ?? 0) + 1);
      progress.update(batch.bytesRead, totals.events);
    }
    checkLogFormat(log, format, { events: totals.events, malformed: byReason });
    // A log without events that is not refused (blank lines, a sudo log of other programs' lines) keeps its counts.
    if (held.length > 0) addStats(totals, await ingestor.ingest(options.source, { events: [], malformed: [], heldMalformed: held }));
  } finally {
    progress.clear();
    if (!io.store) await store.close();
  }
  return ingestSummary({ file, source: options.source, format: log.format, stats: totals, byReason, elapsedMs: clock.now().getTime() - started });
}

/** While the service holds the embedded database, the file can still reach it over /ingest. */
function refuseWhileIngestingBeside(config: VouchConfig, file: string): void {
  refuseWhileServiceRuns(config.database.dataDir, (running) => {
    const upload = `curl --fail -H 'Authorization: Bearer <token of an HTTP source>' -H 'Content-Type: text/plain' --data-binary @${file} ${running.url}/ingest`;
    return `Stop the service and run this again, or post the file to the running service instead (bodies up to 10 MiB; split larger files):\n  ${upload}`;
  });
}

/** The final report of an ingest run. */
export function ingestSummary(result: {
  file: string;
  source: string;
  format: string;
  stats: IngestStats;
  byReason: ReadonlyMap<string, number>;
  elapsedMs: number;
}): string {
  const { stats } = result;
  const rows: Array<[string, number]> = [
    ['command events', stats.events],
    ['rule hits', stats.matched],
    ['alerts created', stats.alertsCreated],
    ['folded into open alerts', stats.alertsFolded],
    ['suppressed (nobody asked)', stats.alertsSuppressed],
    ['duplicates skipped', stats.duplicates],
    ['malformed lines', stats.malformed],
  ];
  const width = Math.max(...rows.map(([, count]) => String(count).length));
  const lines = [
    `ingested ${terminalText(result.file)} as source "${result.source}" (${describeFormat(result.format)}) in ${(result.elapsedMs / 1000).toFixed(1)} s`,
    ...rows.map(([label, count]) => `  ${String(count).padStart(width)}  ${label}`),
  ];
  if (result.byReason.size > 0) lines.push('malformed lines by reason:', ...countLines(result.byReason));
  if (stats.matched > 0 && stats.duplicates === stats.matched) {
    lines.push(`every rule hit was already stored under source "${result.source}": nothing new`);
  }
  return lines.join('\n') + '\n';
}

/**
 * One line redrawn in place on a terminal: `[#####-----]  45%  63.1/140.0 MB  52,000 events/s`.
 * Does nothing when the stream is not a TTY, so logs and pipes get only the summary.
 */
export class ProgressBar {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly started: number;

  constructor(
    private readonly out: ProgressStream,
    private readonly totalBytes: number | null,
    private readonly clock: Clock,
  ) {
    this.started = clock.now().getTime();
  }

  update(bytesRead: number, events: number): void {
    if (!this.out.isTTY) return;
    const now = this.clock.now().getTime();
    if (now - this.lastDraw < PROGRESS_INTERVAL_MS) return;
    this.lastDraw = now;
    const line = renderProgress({ bytesRead, totalBytes: this.totalBytes, events, elapsedMs: now - this.started, columns: this.out.columns ?? 80 });
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the bar so the summary starts on a clean line. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** The progress line's text (without terminal control), fitted to `columns`. */
export function renderProgress(state: { bytesRead: number; totalBytes: number | null; events: number; elapsedMs: number; columns: number }): string {
  const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
  const rate = state.elapsedMs > 0 ? Math.round((state.events * 1000) / state.elapsedMs) : 0;
  const counts = `${state.events.toLocaleString('en-US')} events  ${rate.toLocaleString('en-US')} events/s`;
  if (state.totalBytes === null || state.totalBytes === 0) return `${mb(state.bytesRead)} MB read  ${counts}`.slice(0, state.columns - 1);
  const fraction = Math.min(1, state.bytesRead / state.totalBytes);
  const text = `${String(Math.floor(fraction * 100)).padStart(3)}%  ${mb(state.bytesRead)}/${mb(state.totalBytes)} MB  ${counts}`;
  const barWidth = Math.max(0, Math.min(40, state.columns - text.length - 4));
  if (barWidth < 10) return text.slice(0, state.columns - 1);
  const filled = Math.round(fraction * barWidth);
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text}`;
}
