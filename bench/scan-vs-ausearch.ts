/**
 * `vouch scan FILE --all --json` against `ausearch --raw -m EXECVE -if FILE` on the same generated
 * log, timed in the same run (alternating, median of several runs, page cache warm for both), plus
 * the scan's peak memory at several log sizes. The scan's output is then checked event by event:
 * every execve the generator wrote must come out once, with every argument decoded exactly.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { redactCommand } from '../src/alerts/redact.js';
import { writeAuditLog, type GenerateStats } from './generate-auditd.js';
import type { HeapSample } from './live-heap.js';
import { measureProcess, type ProcessMeasurement } from './measure-process.js';

/** What to run. */
export interface ScanBenchOptions {
  /** Directory for generated logs and outputs (deleted by the caller). */
  outDir: string;
  /** The vouch launcher (bin/vouch). */
  vouchBin: string;
  /** Commands in the main log. */
  commands: number;
  /** Log sizes (in commands) at which peak memory is measured, besides the main one. */
  memoryCommands: readonly number[];
  /** Timed runs of each program. */
  repeats: number;
  seed: number;
  log: (message: string) => void;
}

/** One program's timed runs on the main log. */
export interface TimedRuns {
  runs: ProcessMeasurement[];
  medianMs: number;
  /** Median of the runs' peak memory, KiB. */
  maxRssKb: number | null;
  /** Median user + system CPU time, when measured: steadier than wall time on a busy machine. */
  medianCpuMs: number | null;
}

/** The scan's output compared with what the generator wrote. */
export interface ScanCheck {
  events: number;
  expected: number;
  /** Events whose argv differs from the one written (a decoding error). */
  argvMismatches: number;
  /** Executions written but not in the output. */
  missing: number;
  /** Output lines that match no written execution, or repeat one. */
  unexpected: number;
  hits: number;
}

/** Peak memory (max RSS, KiB) of the scans of one log size: median, and the range over the runs. */
export interface MemoryPoint {
  commands: number;
  bytes: number;
  records: number;
  maxRssKb: number | null;
  lowestKb: number | null;
  highestKb: number | null;
  wallMs: number;
  /** Live heap after full collections while the pipeline reads this log (larger sizes only). */
  liveHeap?: HeapSample[];
}

export interface ScanBenchResult {
  file: GenerateStats;
  /** Null with a reason when ausearch is not installed. */
  ausearch: (TimedRuns & { program: string; events: number }) | { missing: string };
  /** `ausearch -i`: interprets (decodes) the records, as the scan does; null without ausearch. */
  ausearchInterpreted: TimedRuns | null;
  scan: TimedRuns & { check: ScanCheck };
  /** The scan on a 100-line log: start-up cost (module loading, rule compilation). */
  startup: ProcessMeasurement;
  /** ausearch time / scan time: at least 1 means the scan is at least as fast. */
  ratio: number | null;
  memory: MemoryPoint[];
  rssMethod: string;
}

/** Runs the whole comparison. */
export async function runScanBenchmark(options: ScanBenchOptions): Promise<ScanBenchResult> {
  const { outDir, log } = options;
  const logFile = path.join(outDir, `audit-${options.commands}.log`);
  log(`generating ${options.commands.toLocaleString('en-US')} commands into ${logFile}`);
  const expected = new Map<number, string>();
  const file = await writeAuditLog(logFile, { commands: options.commands, seed: options.seed }, (exec) => {
    // The scan redacts secrets by default: what it prints is the redacted form of what was run.
    expected.set(exec.pid, redactCommand(exec.argv).argv.join('\0'));
  });
  log(`  ${file.records.toLocaleString('en-US')} records, ${(file.bytes / 1e6).toFixed(1)} MB, ${file.execEvents.toLocaleString('en-US')} execve events`);
  await warmCache(logFile);

  const ausearch = findProgram('ausearch');
  const scanArgs = [options.vouchBin, 'scan', logFile, '--all', '--json'];
  const scanOut = path.join(outDir, 'scan.jsonl');
  const ausearchOut = path.join(outDir, 'ausearch.out');
  const scanRuns: ProcessMeasurement[] = [];
  const ausearchRuns: ProcessMeasurement[] = [];
  const runScan = async () => {
    const m = await measureProcess(process.execPath, scanArgs, { stdoutFile: scanOut, stderrFile: `${scanOut}.err` });
    if (m.exitCode !== 0) throw new Error(`vouch scan exited with ${m.exitCode}: ${await tail(`${scanOut}.err`)}`);
    scanRuns.push(m);
    log(`  vouch scan   ${(m.wallMs / 1000).toFixed(2)} s, peak ${kb(m.maxRssKb)}`);
  };
  const runAusearch = async (program: string) => {
    const m = await measureProcess(program, ['--raw', '-m', 'EXECVE', '-if', logFile], { stdoutFile: ausearchOut, stderrFile: `${ausearchOut}.err` });
    // ausearch exits 1 when nothing matched, which would be a failure here too.
    if (m.exitCode !== 0) throw new Error(`ausearch exited with ${m.exitCode}: ${await tail(`${ausearchOut}.err`)}`);
    ausearchRuns.push(m);
    log(`  ausearch     ${(m.wallMs / 1000).toFixed(2)} s, peak ${kb(m.maxRssKb)}`);
  };
  for (let i = 0; i < options.repeats; i++) {
    // Alternate who goes first, so neither always gets the quieter moment.
    if (ausearch && i % 2 === 0) await runAusearch(ausearch);
    await runScan();
    if (ausearch && i % 2 === 1) await runAusearch(ausearch);
  }
  const ausearchEvents = ausearch ? await countLines(ausearchOut, ' type=SYSCALL ') : 0;
  const interpretedRuns: ProcessMeasurement[] = [];
  for (let i = 0; ausearch && i < options.repeats; i++) {
    const m = await measureProcess(ausearch, ['-i', '-m', 'EXECVE', '-if', logFile], { stdoutFile: ausearchOut, stderrFile: `${ausearchOut}.err` });
    if (m.exitCode !== 0) throw new Error(`ausearch -i exited with ${m.exitCode}: ${await tail(`${ausearchOut}.err`)}`);
    interpretedRuns.push(m);
    log(`  ausearch -i  ${(m.wallMs / 1000).toFixed(2)} s, peak ${kb(m.maxRssKb)}`);
  }
  const check = await checkScanOutput(scanOut, expected);
  log(`  scan output: ${check.events} events, ${check.argvMismatches} argv mismatches, ${check.missing} missing, ${check.hits} rule hits`);

  const tiny = path.join(outDir, 'tiny.log');
  await writeAuditLog(tiny, { commands: 10, seed: options.seed });
  const startup = await measureProcess(process.execPath, [options.vouchBin, 'scan', tiny, '--all', '--json'], {
    stdoutFile: path.join(outDir, 'tiny.out'),
    stderrFile: path.join(outDir, 'tiny.err'),
  });
  log(`  scan of a 10-command log: ${(startup.wallMs / 1000).toFixed(2)} s, peak ${kb(startup.maxRssKb)}`);

  const scan = { ...timed(scanRuns), check };
  const memory: MemoryPoint[] = [memoryOf(options.commands, file, scanRuns)];
  await rm(scanOut, { force: true });
  await rm(ausearchOut, { force: true });
  await rm(logFile, { force: true });
  for (const commands of options.memoryCommands) memory.push(await memoryPoint(options, commands));
  memory.sort((a, b) => a.commands - b.commands);

  const ausearchResult = ausearch
    ? { program: ausearch, events: ausearchEvents, ...timed(ausearchRuns) }
    : { missing: 'ausearch not found on PATH, /usr/sbin or /sbin (Debian: apt-get install auditd)' };
  return {
    file,
    ausearch: ausearchResult,
    ausearchInterpreted: interpretedRuns.length > 0 ? timed(interpretedRuns) : null,
    scan,
    startup,
    ratio: 'medianMs' in ausearchResult ? ausearchResult.medianMs / scan.medianMs : null,
    memory,
    rssMethod: scanRuns[0]?.rssMethod ?? 'n/a',
  };
}

/** Peak memory of scans of a log of `commands` commands (generated, scanned `repeats` times, deleted). */
async function memoryPoint(options: ScanBenchOptions, commands: number): Promise<MemoryPoint> {
  const logFile = path.join(options.outDir, `audit-${commands}.log`);
  options.log(`generating ${commands.toLocaleString('en-US')} commands for the memory curve`);
  const stats = await writeAuditLog(logFile, { commands, seed: options.seed + commands });
  await warmCache(logFile);
  const out = path.join(options.outDir, `scan-${commands}.jsonl`);
  const runs: ProcessMeasurement[] = [];
  for (let i = 0; i < options.repeats; i++) {
    const m = await measureProcess(process.execPath, [options.vouchBin, 'scan', logFile, '--all', '--json'], { stdoutFile: out, stderrFile: `${out}.err` });
    if (m.exitCode !== 0) throw new Error(`vouch scan exited with ${m.exitCode}: ${await tail(`${out}.err`)}`);
    options.log(`  ${(stats.bytes / 1e6).toFixed(0)} MB: vouch scan ${(m.wallMs / 1000).toFixed(2)} s, peak ${kb(m.maxRssKb)}`);
    runs.push(m);
  }
  await rm(out, { force: true });
  const heap = await liveHeapOf(logFile, options.outDir);
  await rm(logFile, { force: true });
  return { ...memoryOf(commands, stats, runs), liveHeap: heap };
}

/** The live-heap samples of the scan pipeline over `logFile` (see bench/live-heap.ts). */
async function liveHeapOf(logFile: string, outDir: string): Promise<HeapSample[]> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'live-heap.js');
  const out = path.join(outDir, 'live-heap.json');
  const m = await measureProcess(process.execPath, ['--expose-gc', script, logFile], { stdoutFile: out, stderrFile: `${out}.err` });
  if (m.exitCode !== 0) throw new Error(`live-heap exited with ${m.exitCode}: ${await tail(`${out}.err`)}`);
  const { samples } = JSON.parse(await readFile(out, 'utf8')) as { samples: HeapSample[] };
  await rm(out, { force: true });
  return samples;
}

function memoryOf(commands: number, stats: GenerateStats, runs: readonly ProcessMeasurement[]): MemoryPoint {
  const peaks = runs.map((r) => r.maxRssKb).filter((v): v is number => v !== null);
  return {
    commands,
    bytes: stats.bytes,
    records: stats.records,
    maxRssKb: peaks.length > 0 ? median(peaks) : null,
    lowestKb: peaks.length > 0 ? Math.min(...peaks) : null,
    highestKb: peaks.length > 0 ? Math.max(...peaks) : null,
    wallMs: median(runs.map((r) => r.wallMs)),
  };
}

/** Reads every `scan --json` line and compares it with the executions written. */
export async function checkScanOutput(file: string, expected: ReadonlyMap<number, string>): Promise<ScanCheck> {
  const check: ScanCheck = { events: 0, expected: expected.size, argvMismatches: 0, missing: 0, unexpected: 0, hits: 0 };
  const seen = new Set<number>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    const event = JSON.parse(line) as { pid: number | null; argv: string[]; rule: string | null };
    check.events += 1;
    if (event.rule !== null) check.hits += 1;
    const want = event.pid === null ? undefined : expected.get(event.pid);
    if (want === undefined || seen.has(event.pid as number)) {
      check.unexpected += 1;
      continue;
    }
    seen.add(event.pid as number);
    if (event.argv.join('\0') !== want) check.argvMismatches += 1;
  }
  check.missing = expected.size - seen.size;
  return check;
}

function timed(runs: ProcessMeasurement[]): TimedRuns {
  const rss = runs.map((r) => r.maxRssKb).filter((v): v is number => v !== null);
  const cpu = runs.map((r) => r.cpuMs).filter((v): v is number => v !== null);
  return {
    runs,
    medianMs: median(runs.map((r) => r.wallMs)),
    maxRssKb: rss.length > 0 ? median(rss) : null,
    medianCpuMs: cpu.length > 0 ? median(cpu) : null,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The program's path on PATH or in the sbin directories (not always on a user's PATH). */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Reads the file once so both programs find it in the page cache. */
async function warmCache(file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) void chunk;
}

async function countLines(file: string, containing: string): Promise<number> {
  let count = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.includes(containing)) count += 1;
  return count;
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(-2000);
}

function kb(value: number | null): string {
  return value === null ? 'n/a' : `${(value / 1024).toFixed(0)} MiB`;
}
