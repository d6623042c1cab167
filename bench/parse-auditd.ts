/**
 * Parse-only benchmark of the auditd parser: the generated ENRICHED log (bench/generate-auditd.ts)
 * is read into memory and cut into blocks by the scan's block reader (splitBlocks), then only the
 * parser runs over the blocks, timed apart from reading, JSON writing and start-up. Prints the
 * parse CPU time per MB of the first pass (JIT warm-up included, every event kept) and of the best
 * later pass (each block's events dropped once parsed, as the scan does), and a digest of every
 * event and malformed record, so two builds of the parser can be compared for identical output.
 *
 *   node dist/bench/parse-auditd.js [LOG] [--commands N] [--passes N] [--events FILE]
 *
 * Without LOG a log of N commands (default 50,000, about 150 MB) is generated under bench/out/ and
 * deleted afterwards. `--events FILE` writes every event as one JSON line, for a diff.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitBlocks, type LineBlock } from '../src/sources/line-block.js';
import { emptyOutput, parseBlock, type ParseOutput } from '../src/sources/parser.js';
import { createAuditdParser } from '../src/sources/parsers/auditd.js';
import { MAX_LINE_CHARS } from '../src/sources/parsers/parse-support.js';
import { writeAuditLog } from './generate-auditd.js';

/** The scan's read size (read-log.ts DEFAULT_READ_BATCH_BYTES is 256 KiB; the scan helper may raise it). */
const READ_BYTES = 4 * 1024 * 1024;

interface Args {
  log: string | null;
  commands: number;
  passes: number;
  eventsFile: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { log: null, commands: 50_000, passes: 5, eventsFile: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--commands') args.commands = Number(argv[++i]);
    else if (arg === '--passes') args.passes = Math.max(1, Number(argv[++i]));
    else if (arg === '--events') args.eventsFile = argv[++i] ?? null;
    else args.log = arg;
  }
  return args;
}

/** The log's blocks, each over its own copy of the bytes (the reader's buffer is reused). */
async function readBlocks(file: string): Promise<LineBlock[]> {
  const bytes = await readFile(file);
  async function* reads(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += READ_BYTES) yield Buffer.from(bytes.subarray(at, at + READ_BYTES));
  }
  const blocks: LineBlock[] = [];
  for await (const chunk of splitBlocks(reads(), MAX_LINE_CHARS)) blocks.push(...chunk.blocks);
  return blocks;
}

/**
 * One pass of a fresh parser over every block, flushed at the end. With `keep` every event is kept
 * (for the digest); without, each block's output is dropped once counted, as the scan writes and
 * drops it, so the garbage collector is not timed carrying every event of the log.
 */
function parsePass(blocks: readonly LineBlock[], keep: boolean): { ms: number; out: ParseOutput } {
  const parser = createAuditdParser({ defaultHost: 'bench' });
  const out = emptyOutput();
  const now = new Date(0);
  // CPU time, not wall time: the machines this runs on are shared and noisy.
  const start = process.cpuUsage();
  for (const block of blocks) {
    parseBlock(parser, block, now, out);
    if (!keep) {
      out.events.length = 0;
      out.malformed.length = 0;
    }
  }
  const rest = parser.flush();
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  for (const event of rest.events) out.events.push(event);
  for (const bad of rest.malformed) out.malformed.push(bad);
  return { ms, out };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const generated = args.log === null ? path.join(here, '..', '..', 'bench', 'out', `parse-auditd-${process.pid}.log`) : null;
  try {
    if (generated) await writeAuditLog(generated, { commands: args.commands, seed: 42 });
    const file = generated ?? args.log!;
    const blocks = await readBlocks(file);
    const mb = blocks.reduce((sum, b) => sum + (b.end - b.start), 0) / 1e6;
    const times: number[] = [];
    let first: ParseOutput | null = null;
    for (let pass = 0; pass < args.passes; pass++) {
      const { ms, out } = parsePass(blocks, first === null);
      times.push(ms);
      first ??= out;
    }
    const lines = first!.events.map((event) => JSON.stringify(event));
    const digest = createHash('sha256');
    for (const line of lines) digest.update(line).update('\n');
    digest.update(JSON.stringify(first!.malformed));
    if (args.eventsFile) await writeFile(args.eventsFile, lines.join('\n') + '\n');
    const best = Math.min(...times.slice(1).concat(times.length === 1 ? times : []));
    console.log(`log ${mb.toFixed(1)} MB, ${blocks.length} blocks`);
    console.log(`events ${first!.events.length}, malformed ${first!.malformed.length}, digest ${digest.digest('hex').slice(0, 16)}`);
    console.log(`first pass ${times[0]!.toFixed(0)} ms (${(times[0]! / mb).toFixed(2)} ms/MB)`);
    console.log(`best later pass ${best.toFixed(0)} ms (${(best / mb).toFixed(2)} ms/MB); all: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  } finally {
    if (generated) await rm(generated, { force: true });
  }
}

await main();
