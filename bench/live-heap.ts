/**
 * Shows whether `vouch scan` holds memory per event: runs the scan's pipeline (read-log, the
 * rules, the JSON line of every event) over a log and, every `--every` batches, forces a full
 * garbage collection and notes the live heap. Flat numbers mean nothing is retained as the log
 * grows; the process's peak RSS, by contrast, also depends on when the collector happens to run.
 *
 *   node --expose-gc dist/bench/live-heap.js FILE [--every 40]
 *
 * Prints one JSON object: `{ "samples": [{ "bytesRead": n, "heapUsed": n }, ...] }`.
 */
import { pathToFileURL } from 'node:url';
import { OutputBuffer } from '../src/cli/output-buffer.js';
import { JsonLines } from '../src/cli/scan-command.js';
import { loadDefaultRules } from '../src/detect/load-rules.js';
import { openLog } from '../src/sources/read-log.js';

/** Live heap (bytes) after a full collection, at a point of the log. */
export interface HeapSample {
  bytesRead: number;
  heapUsed: number;
}

/** Runs the pipeline over `file`; `collect` must force a full garbage collection. */
export async function liveHeap(file: string, every: number, collect: () => void): Promise<HeapSample[]> {
  const rules = loadDefaultRules();
  const log = await openLog(file, { format: 'auto', parser: { defaultHost: 'bench' } });
  const lines = new JsonLines();
  const out = new OutputBuffer();
  const samples: HeapSample[] = [];
  let batches = 0;
  let written = 0;
  for await (const batch of log) {
    for (const event of batch.events) lines.write(out, event, rules.match(event));
    // The output is dropped as it is made, as a scan writing to a fast reader would.
    for (const part of out.take()) written += part.length;
    batches += 1;
    if (batches % every === 0) {
      collect();
      samples.push({ bytesRead: batch.bytesRead, heapUsed: process.memoryUsage().heapUsed });
    }
  }
  if (written === 0) throw new Error(`${file}: no events`);
  return samples;
}

async function main(): Promise<void> {
  const [file, flag, value] = process.argv.slice(2);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!file || !gc) throw new Error('usage: node --expose-gc dist/bench/live-heap.js FILE [--every N]');
  const samples = await liveHeap(file, flag === '--every' ? Math.max(1, Number(value)) : 40, gc);
  process.stdout.write(`${JSON.stringify({ samples })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
