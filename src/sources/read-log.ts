/**
 * Reads a whole log once, start to end, in batches of parsed events: what `vouch scan`,
 * `vouch rules test` and `vouch ingest` share. Files and standard input (`-`) go through the same
 * splitter (byte offsets, bounded line length, lines kept as bytes until a parser wants them), so
 * memory stays at about one batch no matter how large the log is.
 */
import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { access, constants, open, stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../clock.js';
import { NotFoundError, VouchError } from '../errors.js';
import type { CommandEvent } from './command-event.js';
import { forEachLine, lineBlock, splitBlocks, withoutByteOrderMark, type BlockChunk, type LineBlock } from './line-block.js';
import { emptyOutput, parseBlock, type LogParser, type Malformed, type ParserOptions } from './parser.js';
import { AutoParser, formatAutoWouldChoose } from './parsers/auto-parser.js';
import { AUTO_FORMAT, PARSER_FORMATS, isParserFormat, loadParserFactory, type ParserFactory } from './parsers/formats.js';
import { SYSLOG_PROGRAM_FORMATS, isSyslogProgramFormat } from './parsers/syslog-programs.js';
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
  /**
   * Non-blank lines (too long ones included) read before the first event came out: every line
   * of the log when none did. Counting stops at the first event, so only a log that yields
   * nothing pays for it; it tells "every line was malformed" from "some lines had no command".
   */
  readonly linesUntilFirstEvent: number;
  /** The first lines of the log (up to SAMPLE_LINES, from its first SAMPLE_BYTES), decoded. */
  readonly sampleLines: readonly string[];
}

/** Most lines kept in LogReader.sampleLines. */
export const SAMPLE_LINES = 200;
/** Most bytes of the log's start looked at for LogReader.sampleLines. */
export const SAMPLE_BYTES = 64 * 1024;

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
  const clock = options.clock ?? systemClock;
  const batchBytes = Math.max(1, options.batchBytes ?? DEFAULT_READ_BATCH_BYTES);
  const maxLineBytes = Math.max(1, options.maxLineBytes ?? MAX_LINE_CHARS);
  if (file === STDIN_PATH) {
    const stdin = options.stdin ?? process.stdin;
    const parser = await parserFor(format, options.parser, null, maxLineBytes);
    return reader(file, null, parser, clock, splitBlocks(stdin as AsyncIterable<Buffer | string>, maxLineBytes));
  }
  const { size, stream } = await checkReadable(file);
  // A pipe (`<(zcat audit.log.gz)`, /dev/stdin) is read as a stream, as standard input is.
  if (stream) {
    const parser = await parserFor(format, options.parser, null, maxLineBytes);
    return reader(file, null, parser, clock, splitBlocks(createReadStream(file, { highWaterMark: batchBytes }), maxLineBytes));
  }
  const parser = await parserFor(format, options.parser, file, maxLineBytes);
  return reader(file, size, parser, clock, splitBlocks(fileReads(file, batchBytes), maxLineBytes));
}

/**
 * The parser for `format` (a name in PARSER_FORMATS, or `auto`), with only the modules it needs
 * imported: a named format's own; for `auto` on a regular `file`, the one its first lines decide
 * (formatAutoWouldChoose), else every format's (a stream cannot be read twice, and lines that do
 * not decide it leave the detector free to ask for any).
 */
async function parserFor(format: string, options: ParserOptions, file: string | null, maxLineBytes: number): Promise<LogParser> {
  if (format !== AUTO_FORMAT && isParserFormat(format)) return (await loadParserFactory(format))(options);
  const predicted = file === null ? null : formatAutoWouldChoose(await firstLines(file, maxLineBytes));
  if (predicted === null || !isParserFormat(predicted)) return (await import('./parsers/index.js')).createAutoParser(options);
  const factories = new Map<string, ParserFactory>([[predicted, await loadParserFactory(predicted)]]);
  // A syslog file is read for sudo's lines, in either format, and go-audit's together (see SyslogProgramsParser).
  if (isSyslogProgramFormat(predicted)) for (const format of SYSLOG_PROGRAM_FORMATS) factories.set(format, await loadParserFactory(format));
  return new AutoParser((chosen) => {
    // The detector reads the same lines the probe did, so it chooses the same; a file rewritten
    // from its start in between is the only way it could not.
    const factory = factories.get(chosen);
    if (factory === undefined) throw new VouchError('request_invalid', `${file}: the log changed while it was opened; run the command again`);
    return factory(options);
  });
}

/**
 * The whole lines within the first SAMPLE_BYTES of `file`, decoded as the splitter hands them to a
 * parser (as Latin-1 when every byte is ASCII, else as UTF-8), less those over `maxLineBytes`,
 * which it never hands on.
 */
async function firstLines(file: string, maxLineBytes: number): Promise<string[]> {
  const handle = await open(file, 'r');
  let bytes: Buffer;
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(SAMPLE_BYTES), 0, SAMPLE_BYTES, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  // A last line cut by the sample's end is not one the detector will see as it is.
  const whole = bytes.length < SAMPLE_BYTES ? bytes.length : bytes.lastIndexOf(10) + 1;
  const start = withoutByteOrderMark(lineBlock(bytes, 0, whole, 0)).start;
  const decoding = isAscii(bytes.subarray(start, whole)) ? 'latin1' : 'utf8';
  const lines: string[] = [];
  for (let pos = start; pos < whole; ) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0 || nl > whole) nl = whole;
    if (nl - pos <= maxLineBytes) lines.push(bytes.toString(decoding, pos, nl));
    pos = nl + 1;
  }
  return lines;
}

/** A regular file (its size known), or a pipe or character device read as a stream. */
async function checkReadable(file: string): Promise<{ size: number | null; stream: boolean }> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${file}: no such file`);
    throw new VouchError('request_invalid', `${file}: cannot read it (${code ?? (error as Error).message})`);
  }
  const stream = info.isFIFO() || info.isCharacterDevice();
  if (!info.isFile() && !stream) {
    throw new VouchError('request_invalid', `${file}: ${info.isDirectory() ? 'a directory, not a log file: name the file' : 'not a regular file or a pipe'}`);
  }
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new VouchError('request_invalid', `${file}: permission denied (audit logs are usually readable by root only)`);
  }
  return { size: stream ? null : info.size, stream };
}

/** What a pass learns about the lines themselves, besides the events (see LogReader). */
interface LineFacts {
  linesUntilFirstEvent: number;
  sawEvent: boolean;
  sampleLines: string[];
  sampleBytes: number;
}

function reader(name: string, totalBytes: number | null, parser: LogParser, clock: Clock, chunks: AsyncIterable<BlockChunk>): LogReader {
  const facts: LineFacts = { linesUntilFirstEvent: 0, sawEvent: false, sampleLines: [], sampleBytes: 0 };
  return {
    name,
    totalBytes,
    get format() {
      return parser.format;
    },
    get linesUntilFirstEvent() {
      return facts.linesUntilFirstEvent;
    },
    get sampleLines() {
      return facts.sampleLines;
    },
    [Symbol.asyncIterator]: () => parseChunks(parser, clock, chunks, facts)[Symbol.asyncIterator](),
  };
}

async function* parseChunks(parser: LogParser, clock: Clock, chunks: AsyncIterable<BlockChunk>, facts: LineFacts): AsyncGenerator<LogBatch> {
  let bytesRead = 0;
  for await (const chunk of chunks) {
    const out = emptyOutput();
    const now = clock.now();
    for (const block of chunk.blocks) {
      // Before parsing: the chunk's buffer may be reused by the next read.
      if (facts.sampleBytes < SAMPLE_BYTES) keepSample(block, facts);
      parseBlock(parser, block, now, out);
    }
    noteLines(chunk, out.events.length, facts);
    const malformed = out.malformed.map(printableSample);
    for (const long of chunk.tooLong) malformed.push({ reason: 'too_long', sample: `(${long.bytes} bytes)`, offset: long.offset });
    bytesRead = chunk.bytesRead;
    yield { events: out.events, malformed, bytesRead };
  }
  const rest = parser.flush();
  yield { events: rest.events, malformed: rest.malformed.map(printableSample), bytesRead };
}

/** Counts the chunk's non-blank lines while no event has come out of the log. */
function noteLines(chunk: BlockChunk, events: number, facts: LineFacts): void {
  if (facts.sawEvent) return;
  if (events > 0) {
    facts.sawEvent = true;
    return;
  }
  facts.linesUntilFirstEvent += chunk.tooLong.length;
  for (const block of chunk.blocks) facts.linesUntilFirstEvent += nonBlankLines(block);
}

/** Lines holding anything but spaces, tabs and carriage returns; most are decided by their first byte. */
export function nonBlankLines(block: LineBlock): number {
  const { bytes, end } = block;
  let count = 0;
  let pos = block.start;
  while (pos < end) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0 || nl > end) nl = end;
    let i = pos;
    while (i < nl && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d)) i++;
    if (i < nl) count++;
    pos = nl + 1;
  }
  return count;
}

/** Adds the block's first lines to the sample, up to SAMPLE_LINES lines and SAMPLE_BYTES bytes. */
function keepSample(whole: LineBlock, facts: LineFacts): void {
  const block = withoutByteOrderMark(whole);
  const limited = { ...block, end: Math.min(block.end, block.start + (SAMPLE_BYTES - facts.sampleBytes)) };
  facts.sampleBytes += limited.end - limited.start;
  forEachLine(limited, (line) => {
    facts.sampleLines.push(line);
    return facts.sampleLines.length < SAMPLE_LINES;
  });
  if (facts.sampleLines.length >= SAMPLE_LINES) facts.sampleBytes = SAMPLE_BYTES;
}

/**
 * The file's bytes, `readBytes` at a time, read synchronously into one buffer that each read
 * reuses (fresh buffers per read would cost a page fault per page: measured, ten times the cost
 * of the reads). The buffer is only read into again once the consumer asks for the next piece,
 * which is when splitBlocks is done with it. Synchronous on purpose: a read handed to libuv's
 * thread pool waits for a core, and on a small machine both are busy with the parse, the
 * optimiser and the collector, so every read cost a wait of its own (measured: 8 % of a scan);
 * a sequential read is kept ahead by the kernel's own read-ahead instead.
 */
function* fileReads(file: string, readBytes: number): Generator<Buffer> {
  const fd = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(readBytes);
  try {
    for (;;) {
      const bytesRead = readSync(fd, buffer, 0, readBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
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
