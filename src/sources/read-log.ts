/**
 * Reads a whole log once, start to end, in batches of parsed events: what `vouch scan`,
 * `vouch rules test` and `vouch ingest` share. Files are read through the FileTailer (byte offsets,
 * bounded line length, chunked reads), standard input (`-`) through a stream splitter with the same
 * rules, so memory stays at about one batch no matter how large the log is.
 */
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { NotFoundError, VouchError } from '../errors.js';
import type { CommandEvent } from './command-event.js';
import { FileTailer, type Checkpoint, type TailLine, type TooLongLine } from './file-tail.js';
import type { LogParser, Malformed, ParserOptions } from './parser.js';
import { AUTO_FORMAT, PARSER_FORMATS, createParser, isParserFormat } from './parsers/index.js';
import { MAX_LINE_CHARS, sampleOf } from './parsers/parse-support.js';

/** The file name that means standard input. */
export const STDIN_PATH = '-';

/**
 * Default bytes of log per batch. Large enough to amortise per-batch work; small enough that a
 * batch's lines die young (a 4 MiB batch costs about a third more peak memory and no speed).
 */
export const DEFAULT_READ_BATCH_BYTES = 1024 * 1024;

export interface ReadLogOptions {
  /** `auto` (default: detect from the first lines) or a name in PARSER_FORMATS. */
  format?: string;
  /** Passed to the parser (default host, uid names). */
  parser: ParserOptions;
  /** The `now` given to the parser, read once per batch. Default the system clock. */
  clock?: Clock;
  /** Read instead of process.stdin when the file is `-`. */
  stdin?: NodeJS.ReadableStream;
  /** Bytes of log per batch. Default DEFAULT_READ_BATCH_BYTES. */
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

/** Raw lines of one read, before parsing. */
interface LineChunk {
  lines: TailLine[];
  tooLong: TooLongLine[];
  bytesRead: number;
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
    return reader(file, null, parser, clock, streamLines(stdin, batchBytes, maxLineBytes));
  }
  const size = await checkReadable(file);
  // The tailer reads a `*` or `?` in the last path segment as a glob; such a name is read as a stream.
  const chunks = /[*?]/.test(path.basename(file))
    ? streamLines(createReadStream(file), batchBytes, maxLineBytes)
    : tailLines(file, batchBytes, maxLineBytes);
  return reader(file, size, parser, clock, chunks);
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

function reader(name: string, totalBytes: number | null, parser: LogParser, clock: Clock, chunks: AsyncIterable<LineChunk>): LogReader {
  return {
    name,
    totalBytes,
    get format() {
      return parser.format;
    },
    [Symbol.asyncIterator]: () => parseChunks(parser, clock, chunks)[Symbol.asyncIterator](),
  };
}

async function* parseChunks(parser: LogParser, clock: Clock, chunks: AsyncIterable<LineChunk>): AsyncGenerator<LogBatch> {
  let bytesRead = 0;
  for await (const chunk of chunks) {
    const now = clock.now();
    const events: CommandEvent[] = [];
    const malformed: Malformed[] = [];
    for (const line of chunk.lines) {
      const out = parser.push(line.text, line.offset, now);
      for (const event of out.events) events.push(event);
      for (const bad of out.malformed) malformed.push(printableSample(bad));
    }
    for (const long of chunk.tooLong) malformed.push({ reason: 'too_long', sample: `(${long.bytes} bytes)`, offset: long.offset });
    bytesRead = chunk.bytesRead;
    yield { events, malformed, bytesRead };
  }
  const rest = parser.flush();
  yield { events: rest.events, malformed: rest.malformed.map(printableSample), bytesRead };
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

/**
 * A file through the FileTailer, to its end. The tailer holds back a last line without a newline
 * (it may still be being written); a whole-file read takes it as the final line.
 */
async function* tailLines(file: string, batchBytes: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  const tailer = new FileTailer({ path: file, maxBatchBytes: batchBytes, maxLineBytes });
  try {
    let checkpoint: Checkpoint | null = null;
    for (;;) {
      const batches = await tailer.poll(new Map(checkpoint ? [[file, checkpoint]] : []));
      const batch = batches[batches.length - 1];
      if (!batch) break;
      checkpoint = { fileId: batch.fileId, offset: batch.endOffset };
      const [only] = batches;
      const lines = batches.length === 1 && only ? only.lines : batches.flatMap((b) => b.lines);
      const tooLong = batches.length === 1 && only ? only.tooLong : batches.flatMap((b) => b.tooLong);
      yield { lines, tooLong, bytesRead: batch.endOffset };
      if (!batch.more) break;
    }
    const from = checkpoint?.offset ?? 0;
    const last = await lastLine(file, from, maxLineBytes);
    if (last) yield last;
  } finally {
    await tailer.close();
  }
}

/** The bytes after the last newline, as one final line. */
async function lastLine(file: string, from: number, maxLineBytes: number): Promise<LineChunk | null> {
  const size = (await stat(file)).size;
  if (size <= from) return null;
  if (size - from > maxLineBytes) return { lines: [], tooLong: [{ offset: from, bytes: size - from }], bytesRead: size };
  const parts: Buffer[] = [];
  for await (const part of createReadStream(file, { start: from, end: size - 1 })) parts.push(part as Buffer);
  return { lines: [{ text: Buffer.concat(parts).toString('utf8'), offset: from }], tooLong: [], bytesRead: size };
}

/**
 * Splits a byte stream into lines with their byte offsets, yielding about `batchBytes` at a time.
 * A line longer than `maxLineBytes` is skipped as it streams past; only its length is kept.
 */
export async function* streamLines(stream: NodeJS.ReadableStream, batchBytes: number, maxLineBytes: number): AsyncGenerator<LineChunk> {
  let chunk: LineChunk = { lines: [], tooLong: [], bytesRead: 0 };
  let chunkStart = 0;
  let pos = 0;
  let lineStart = 0;
  /** The current line's bytes before this read: kept in `carry` unless it is already too long. */
  let lineBytes = 0;
  let carry: Buffer[] = [];
  const endLine = (buf: Buffer, from: number, to: number) => {
    const length = lineBytes + (to - from);
    if (length > maxLineBytes) {
      chunk.tooLong.push({ offset: lineStart, bytes: length });
    } else {
      const text = lineBytes > 0 ? Buffer.concat([...carry, buf.subarray(from, to)]).toString('utf8') : buf.toString('utf8', from, to);
      chunk.lines.push({ text, offset: lineStart });
    }
    carry = [];
    lineBytes = 0;
  };
  for await (const data of stream) {
    const buf = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
    let i = 0;
    for (let nl = buf.indexOf(10, i); nl >= 0; nl = buf.indexOf(10, i)) {
      endLine(buf, i, nl);
      i = nl + 1;
      lineStart = pos + i;
    }
    if (i < buf.length) {
      lineBytes += buf.length - i;
      // A line past the limit is only counted from here on, never held.
      if (lineBytes <= maxLineBytes) carry.push(buf.subarray(i));
      else carry = [];
    }
    pos += buf.length;
    if (lineStart - chunkStart >= batchBytes) {
      chunk.bytesRead = lineStart;
      yield chunk;
      chunk = { lines: [], tooLong: [], bytesRead: 0 };
      chunkStart = lineStart;
    }
  }
  if (pos > lineStart) endLine(Buffer.alloc(0), 0, 0);
  chunk.bytesRead = pos;
  yield chunk;
}
