/**
 * Runs a program to completion and measures its wall time, CPU time and peak memory (maximum
 * resident set size). Peak memory comes from GNU time's `-v` report when /usr/bin/time exists;
 * otherwise /proc/<pid>/status VmHWM is sampled every 10 ms while the program runs (the kernel's
 * own high-water mark, so a short spike between samples is still caught unless the process exits
 * within the same 10 ms).
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** What one run cost. */
export interface ProcessMeasurement {
  wallMs: number;
  /** User plus system CPU time; null when GNU time is not available. */
  cpuMs: number | null;
  /** Peak resident set size in KiB; null when it could not be read. */
  maxRssKb: number | null;
  exitCode: number;
  /** How the peak was measured. */
  rssMethod: 'GNU time -v' | '/proc VmHWM sampling';
}

/** Where the program's standard output and error go (files, so output costs the same for all). */
export interface MeasureOptions {
  stdoutFile: string;
  stderrFile: string;
  cwd?: string;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `command args...` and measures it. Rejects only when the program cannot be started. */
export async function measureProcess(command: string, args: readonly string[], options: MeasureOptions): Promise<ProcessMeasurement> {
  return existsSync(GNU_TIME) ? withGnuTime(command, args, options) : withSampling(command, args, options);
}

async function withGnuTime(command: string, args: readonly string[], options: MeasureOptions): Promise<ProcessMeasurement> {
  const report = `${options.stderrFile}.time`;
  const { wallMs, exitCode } = await run(GNU_TIME, ['-v', '-o', report, command, ...args], options, () => undefined);
  const text = readFileSync(report, 'utf8');
  rmSync(report, { force: true });
  const seconds = (label: string) => Number(/: ([0-9.]+)$/m.exec(text.split('\n').find((line) => line.includes(label)) ?? '')?.[1] ?? NaN);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? NaN);
  const cpu = (seconds('User time (seconds)') + seconds('System time (seconds)')) * 1000;
  return {
    wallMs,
    cpuMs: Number.isFinite(cpu) ? cpu : null,
    maxRssKb: Number.isFinite(rss) ? rss : null,
    exitCode,
    rssMethod: 'GNU time -v',
  };
}

async function withSampling(command: string, args: readonly string[], options: MeasureOptions): Promise<ProcessMeasurement> {
  let peak: number | null = null;
  const { wallMs, exitCode } = await run(command, args, options, (pid) => {
    const timer = setInterval(() => {
      void readFile(`/proc/${pid}/status`, 'utf8')
        .then((status) => {
          const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
          if (Number.isFinite(kb) && (peak === null || kb > peak)) peak = kb;
        })
        .catch(() => undefined);
    }, 10);
    return () => clearInterval(timer);
  });
  return { wallMs, cpuMs: null, maxRssKb: peak, exitCode, rssMethod: '/proc VmHWM sampling' };
}

function run(
  command: string,
  args: readonly string[],
  options: MeasureOptions,
  watch: (pid: number) => (() => void) | undefined,
): Promise<{ wallMs: number; exitCode: number }> {
  const stdout = openSync(options.stdoutFile, 'w');
  const stderr = openSync(options.stderrFile, 'w');
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', stdout, stderr] });
  const stopWatching = child.pid === undefined ? undefined : watch(child.pid);
  return new Promise((resolve, reject) => {
    const done = () => {
      stopWatching?.();
      closeSync(stdout);
      closeSync(stderr);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      done();
      resolve({ wallMs, exitCode: code ?? (signal ? 128 : 1) });
    });
  });
}
