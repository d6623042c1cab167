/**
 * Reads a whole log once, start to end, in batches of parsed events: what `vouch scan`,
 * `vouch rules test` and `vouch ingest` share. Files and standard input (`-`) go through the same
 * splitter (byte offsets, bounded line length, lines kept as bytes until a parser wants them), so
 * memory stays at about one batch no matter how large the log is.
 */
import { access, constants, open, stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../clock.js';
import { NotFoundError, VouchError } from '../errors.js';
import type { CommandEvent } from './command-event.js';
import { splitBlocks, type BlockChunk } from './line-block.js';
import { emptyOutput, parseBlock, type LogParser, type Malformed, type ParserOptions } from './parser.js';
import { AUTO_FORMAT, PARSER_FORMATS, createParser, isParserFormat } from './parsers/index.js';
import { MAX_LINE_CHARS, sampleOf } from './parsers/parse-support.js';

/** The file name that means standard input. */
export const STDIN_PATH = '-';

/**
 * Default bytes of log per batch. Large enough to amortise per-batch work; small enough that a
 * batch's events are gone by the next young-generation collection (larger batches cost memory
 * and collector time, and gain no speed).
 */
export const DEFAULT_READ_BATCH_BYTES = 256 * 1024;

export interface ReadLogOptions {
  /** `auto` (default: detect from the first lines) or a name in PARSER_FORMATS. */
  format?: string;
  /** Passed to the parser (default host, uid names). */
  parser: ParserOptions;
  /** The `now` given to the parser, read once per batch. Default the system clock. */
  clock?: Clock;
  /** Read instead of process.stdin when the file is `-`. */
  stdin?: NodeJS.ReadableStream;
  /** Bytes of log per batch (per read of a file). Default DEFAULT_READ_BATCH_BYTES. */
  batchBytes?: number;
  /**
   * Longer lines are skipped and reported as `too_long`. Default MAX_LINE_CHARS (4 MiB), the most
   * a parser accepts, so a JSON record carrying a 1 MB argument is still read.
   */
  maxLineBytes?: number;
}

/** One batch of a log: the events and malformed lines of about `batchBytes` of input. */
export interface LogBatch {
  events: CommandEvent[];
  malformed: Malformed[];
  /** Bytes consumed from the start of the log so far. */
  bytesRead: number;
}

/** A log opened for one pass. Iterate it once; the parser is flushed at the end. */
export interface LogReader extends AsyncIterable<LogBatch> {
  /** The path as given, or `-`. */
  readonly name: string;
  /** Size of the file when opened; null for standard input. */
  readonly totalBytes: number | null;
  /** The parser's format: `auto` until detected, then the real one. */
  readonly format: string;
}

/**
 * Checks the file and the format, then returns a reader. Throws NotFoundError when the file does
 * not exist and VouchError (`request_invalid`) when it cannot be read or the format is unknown, so
 * nothing is printed before a usage error.
 */
export async function openLog(file: string, options: ReadLogOptions): Promise<LogReader> {
  const format = options.format ?? AUTO_FORMAT;
  if (format !== AUTO_FORMAT && !isParserFormat(format)) {
    throw new VouchError('request_invalid', `--format: unknown log format "${format}"; use one of: ${[AUTO_FORMAT, ...PARSER_FORMATS].join(', ')}`);
  }
  const parser = createParser(format, options.parser);
  const clock = options.clock ?? systemClock;
  const batchBytes = Math.max(1, options.batchBytes ?? DEFAULT_READ_BATCH_BYTES);
  const maxLineBytes = Math.max(1, options.maxLineBytes ?? MAX_LINE_CHARS);
  if (file === STDIN_PATH) {
    const stdin = options.stdin ?? process.stdin;
    return reader(file, null, parser, clock, splitBlocks(stdin as AsyncIterable<Buffer | string>, maxLineBytes));
  }
  const size = await checkReadable(file);
  return reader(file, size, parser, clock, splitBlocks(fileReads(file, batchBytes), maxLineBytes));
}

async function checkReadable(file: string): Promise<number> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${file}: no such file`);
    throw new VouchError('request_invalid', `${file}: cannot read it (${code ?? (error as Error).message})`);
  }
  if (!info.isFile()) throw new VouchError('request_invalid', `${file}: not a regular file`);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new VouchError('request_invalid', `${file}: permission denied (audit logs are usually readable by root only)`);
  }
  return info.size;
}

function reader(name: string, totalBytes: number | null, parser: LogParser, clock: Clock, chunks: AsyncIterable<BlockChunk>): LogReader {
  return {
    name,
    totalBytes,
    get format() {
      return parser.format;
    },
    [Symbol.asyncIterator]: () => parseChunks(parser, clock, chunks)[Symbol.asyncIterator](),
  };
}

async function* parseChunks(parser: LogParser, clock: Clock, chunks: AsyncIterable<BlockChunk>): AsyncGenerator<LogBatch> {
  let bytesRead = 0;
  for await (const chunk of chunks) {
    const out = emptyOutput();
    const now = clock.now();
    for (const block of chunk.blocks) parseBlock(parser, block, now, out);
    const malformed = out.malformed.map(printableSample);
    for (const long of chunk.tooLong) malformed.push({ reason: 'too_long', sample: `(${long.bytes} bytes)`, offset: long.offset });
    bytesRead = chunk.bytesRead;
    yield { events: out.events, malformed, bytesRead };
  }
  const rest = parser.flush();
  yield { events: rest.events, malformed: rest.malformed.map(printableSample), bytesRead };
}

/**
 * The file's bytes, `readBytes` at a time, read into one buffer used again for every read: fresh
 * buffers would cost a page fault per page read (measured: ten times the cost of the reads).
 */
async function* fileReads(file: string, readBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(readBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, readBytes, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A malformed record whose sample is safe to store and show: some parsers keep the raw start of
 * the line, and a NUL byte there is refused by Postgres (it would fail the whole batch) while
 * escape sequences would reach whoever reads the sample.
 */
export function printableSample(item: Malformed): Malformed {
  const sample = sampleOf(item.sample);
  return sample === item.sample ? item : { ...item, sample };
}
