/**
 * Plays auditd for the ingestion benchmark: appends generated records to a log file on a
 * schedule, in a process of its own so the writing keeps its pace whatever the reader does.
 * For every execve it notes when the write that completed the event (its EOE line) returned,
 * as an absolute high-resolution time, in a tab-separated file: `phase<TAB>event key<TAB>ms`.
 *
 *   node dist/bench/log-writer.js --out FILE --times FILE --seed N --plan JSON
 *
 * The plan is a JSON list of phases: `{"name":"steady","rate":250,"seconds":15,"tickMs":50}`
 * writes `rate` commands a second in `tickMs` slices; `{"name":"burst","commands":3000,"gapMs":3000}`
 * writes that many commands at once, then waits `gapMs`.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { AuditLogGenerator, type GeneratedLine } from './generate-auditd.js';

/** One phase of the writing schedule. */
export type WritePhase =
  | { name: string; kind: 'steady'; rate: number; seconds: number; tickMs: number }
  | { name: string; kind: 'burst'; commands: number; gapMs: number };

/** Absolute time in ms with sub-millisecond resolution, comparable across processes. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Commands needed by a whole plan. */
export function planCommands(plan: readonly WritePhase[]): number {
  return plan.reduce((sum, p) => sum + (p.kind === 'steady' ? Math.ceil(p.rate * p.seconds) : p.commands), 0);
}

/** Writes the plan into `out`; returns the times file's text. */
export async function writePlan(out: string, plan: readonly WritePhase[], seed: number, hitShare: number): Promise<string> {
  const generator = new AuditLogGenerator({ commands: planCommands(plan), seed, hitShare });
  const lines = generator.lines();
  let pending: GeneratedLine | null = null;
  const fd = openSync(out, 'a');
  const times: string[] = [];
  /** Writes lines until `commands` typed commands have been started. */
  const writeUpTo = (phase: string, commands: number) => {
    const text: string[] = [];
    const execs: string[] = [];
    for (;;) {
      const next: IteratorResult<GeneratedLine> = pending ? { value: pending, done: false } : lines.next();
      pending = null;
      if (next.done) break;
      if (generator.stats.commands > commands) {
        pending = next.value;
        break;
      }
      text.push(next.value.text, '\n');
      if (next.value.exec) execs.push(next.value.exec.key);
    }
    if (text.length === 0) return;
    writeSync(fd, text.join(''));
    const at = absoluteNow();
    for (const key of execs) times.push(`${phase}\t${key}\t${at.toFixed(3)}`);
  };
  try {
    let written = 0;
    for (const phase of plan) {
      if (phase.kind === 'burst') {
        written += phase.commands;
        writeUpTo(phase.name, written);
        await sleep(phase.gapMs);
        continue;
      }
      const start = absoluteNow();
      const base = written;
      const total = Math.ceil(phase.rate * phase.seconds);
      for (let tick = 1; ; tick++) {
        const due = Math.min(total, Math.floor(((absoluteNow() - start) / 1000) * phase.rate));
        writeUpTo(phase.name, base + due);
        if (due >= total) break;
        await sleep(Math.max(0, start + tick * phase.tickMs - absoluteNow()));
      }
      written = base + total;
    }
    // The last events' remaining records (the generator interleaves), so every event completes.
    writeUpTo('tail', Number.MAX_SAFE_INTEGER);
  } finally {
    closeSync(fd);
  }
  return times.join('\n') + '\n';
}

function argValue(args: string[], name: string): string {
  const at = args.indexOf(name);
  const value = at >= 0 ? args[at + 1] : undefined;
  if (value === undefined) throw new Error(`log-writer: ${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const plan = JSON.parse(argValue(args, '--plan')) as WritePhase[];
  const times = await writePlan(argValue(args, '--out'), plan, Number(argValue(args, '--seed')), Number(argValue(args, '--hit-share')));
  writeFileSync(argValue(args, '--times'), times);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
