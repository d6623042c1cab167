/**
 * `npm run bench`: runs every benchmark, prints the results and writes them to bench/RESULTS.md.
 * Generated logs live under bench/out/ and are deleted at the end, whatever happens.
 *
 * Environment (all optional): BENCH_COMMANDS (commands in the main log, default 50000),
 * BENCH_MEMORY_COMMANDS (other log sizes for the memory curve, default "10000,150000"),
 * BENCH_REPEATS (timed runs of each program, default 5), BENCH_SEED (default 42),
 * BENCH_DATABASE_URL (default TEST_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_ONLY (`scan`, `ingest`, `hostile`, `conversations` or `replay`).
 */
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHostileTextBenchmark, type HostileTextBenchResult } from './hostile-text.js';
import { runIngestBenchmark, type IngestBenchResult } from './ingest-throughput.js';
import type { WritePhase } from './log-writer.js';
import { machineInfo, programVersion } from './machine-info.js';
import { renderResults } from './results-markdown.js';
import { findProgram, runScanBenchmark } from './scan-vs-ausearch.js';
import { runConversationBenchmark, type ConversationBenchResult } from './conversations.js';
import { runReplayBenchmark, type ReplayDayResult } from './replay-day.js';

/** The repository root: dist/bench/run.js is two levels below it. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Live ingestion schedule: a steady rate, then three bursts. */
const LIVE_PLAN: WritePhase[] = [
  { name: 'steady', kind: 'steady', rate: 400, seconds: 20, tickMs: 50 },
  { name: 'burst', kind: 'burst', commands: 3000, gapMs: 3000 },
  { name: 'burst', kind: 'burst', commands: 3000, gapMs: 3000 },
  { name: 'burst', kind: 'burst', commands: 3000, gapMs: 1000 },
];

function numberEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const machine = machineInfo(ROOT);
  const outDir = path.join(ROOT, 'bench', 'out', `run-${startedAt.getTime()}`);
  await mkdir(outDir, { recursive: true });
  const only = process.env.BENCH_ONLY;
  const seed = numberEnv('BENCH_SEED', 42);
  const log = (message: string) => process.stdout.write(`${message}\n`);
  log(`vouch benchmarks on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.toFixed(2)}`);
  try {
    const scan =
      only && only !== 'scan'
        ? { skipped: 'BENCH_ONLY excluded it' }
        : await runScanBenchmark({
            outDir,
            vouchBin: path.join(ROOT, 'bin', 'vouch'),
            commands: numberEnv('BENCH_COMMANDS', 50_000),
            memoryCommands: (process.env.BENCH_MEMORY_COMMANDS ?? '10000,150000').split(',').map(Number).filter((n) => n > 0),
            repeats: numberEnv('BENCH_REPEATS', 5),
            seed,
            log,
          });
    const ingest: IngestBenchResult =
      only && only !== 'ingest'
        ? { skipped: 'BENCH_ONLY excluded it' }
        : await runIngestBenchmark({
            databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
            outDir,
            // The scan benchmark's log size, so the two read the same 150 MB.
            backlogCommands: numberEnv('BENCH_COMMANDS', 50_000),
            repeats: Math.min(3, numberEnv('BENCH_REPEATS', 5)),
            vouchBin: path.join(ROOT, 'bin', 'vouch'),
            plan: LIVE_PLAN,
            liveHitShare: 0.1,
            seed,
            log,
          });
    const hostileText: HostileTextBenchResult | { skipped: string } =
      only && only !== 'hostile'
        ? { skipped: 'BENCH_ONLY excluded it' }
        : runHostileTextBenchmark({ smallChars: 64 * 1024, largeChars: 1024 * 1024, repeats: 3, log });
    const conversations: ConversationBenchResult | { skipped: string } =
      only && only !== 'conversations'
        ? { skipped: 'BENCH_ONLY excluded it' }
        : await runConversationBenchmark({
            databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
            vouchBin: path.join(ROOT, 'bin', 'vouch'),
            outDir,
            latencySamples: 10,
            burstPeople: 300,
            burstPerPerson: 1,
            log,
          });
    const replay: ReplayDayResult | { skipped: string } =
      only && only !== 'replay'
        ? { skipped: 'BENCH_ONLY excluded it' }
        : await runReplayBenchmark({
            databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
            seed,
            // The working day of the issue: about 50k commands, whatever BENCH_COMMANDS says.
            commands: 50_000,
            burstHits: 10_000,
            burstPeople: 100,
            log,
          });
    const ausearch = findProgram('ausearch');
    const page = renderResults({
      startedAt,
      seconds: (performance.now() - started) / 1000,
      machine,
      loadAverageAfter: os.loadavg()[0] ?? 0,
      ausearchVersion: ausearch ? programVersion(ausearch, ['-v']) : null,
      scan,
      ingest,
      hostileText,
      conversations,
      replay,
    });
    const resultsFile = path.join(ROOT, 'bench', 'RESULTS.md');
    await writeFile(resultsFile, page);
    log(`\n${page}\nwritten to ${path.relative(process.cwd(), resultsFile)}`);
  } finally {
    await rm(outDir, { recursive: true, force: true });
    // bench/out itself goes too when nothing else is in it.
    await rmdir(path.dirname(outDir)).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
