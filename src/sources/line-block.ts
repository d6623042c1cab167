/**
 * Complete lines kept as the bytes they were read as. A parser that can tell from a few bytes
 * that a line does not concern it (most auditd records) then never turns that line into a string;
 * every other parser gets its lines decoded one by one (see parseBlock in parser.ts).
 */
import { isAscii } from 'node:buffer';

/** Lines `bytes[start, end)`, each ended by `\n` except possibly the last one. */
export interface LineBlock {
  bytes: Buffer;
  start: number;
  end: number;
  /** Byte offset in the file of `bytes[start]`. */
  offset: number;
  /** True when every byte of the range is ASCII, so character and byte positions agree. */
  ascii: boolean;
}

/** A block of `bytes[start, end)` starting at file offset `offset`. */
export function lineBlock(bytes: Buffer, start: number, end: number, offset: number): LineBlock {
  return { bytes, start, end, offset, ascii: isAscii(bytes.subarray(start, end)) };
}

/**
 * The block without the UTF-8 byte order mark a log may begin with (Windows tools write one): only
 * at offset 0, where a file or stream starts, and only there is it not part of the first record.
 */
export function withoutByteOrderMark(block: LineBlock): LineBlock {
  const { bytes, start } = block;
  if (block.offset !== 0 || block.end - start < 3 || bytes[start] !== 0xef || bytes[start + 1] !== 0xbb || bytes[start + 2] !== 0xbf) return block;
  return { ...block, start: start + 3, offset: 3, ascii: block.ascii || isAscii(bytes.subarray(start + 3, block.end)) };
}

/** End of the line starting at `from`: its `\n`, or the block end for a last line without one. */
export function lineEnd(block: LineBlock, from: number): number {
  const nl = block.bytes.indexOf(10, from);
  return nl < 0 || nl >= block.end ? block.end : nl;
}

/**
 * Calls `visit(text, offset)` for every line of the block, decoded as UTF-8 (invalid bytes become
 * U+FFFD), until it returns false. Returns where it stopped: the start of the next line, or the end.
 */
export function forEachLine(block: LineBlock, visit: (text: string, offset: number) => boolean | void): number {
  const { bytes, end } = block;
  const decoding = block.ascii ? 'latin1' : 'utf8';
  let pos = block.start;
  while (pos < end) {
    const stop = lineEnd(block, pos);
    const more = visit(bytes.toString(decoding, pos, stop), block.offset + (pos - block.start));
    pos = stop + 1;
    if (more === false) break;
  }
  return Math.min(pos, end);
}

/** The block from `from` (a line start inside it) to its end. */
export function restOfBlock(block: LineBlock, from: number): LineBlock {
  return { ...block, start: from, offset: block.offset + (from - block.start) };
}

/** The lines of one read: blocks of complete lines, and the lines too long to keep. */
export interface BlockChunk {
  blocks: LineBlock[];
  /** Lines longer than the limit: where they start and how long they are (without the `\n`). */
  tooLong: Array<{ offset: number; bytes: number }>;
  /** Bytes consumed from the start of the stream, after this chunk. */
  bytesRead: number;
}

/**
 * Splits a byte stream into blocks of complete lines, one chunk per read that ends a line. A line
 * longer than `maxLineBytes` is skipped as it streams past (only its length is kept); a last line
 * without a newline is returned as a line. Each read becomes one block (its lines are not copied),
 * plus a small one for the line that straddles two reads.
 *
 * The stream may reuse one buffer for every read: a chunk is only valid until the next one is
 * asked for, and the unfinished line a read ends with is copied.
 */
export async function* splitBlocks(stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<BlockChunk> {
  let chunk: BlockChunk = { blocks: [], tooLong: [], bytesRead: 0 };
  /** Stream offset of the first byte of `data`. */
  let pos = 0;
  /** Offset of the line being read when a read ends mid-line. */
  let lineStart = 0;
  /** Bytes of that line in earlier reads; held in `carry` unless it is already too long. */
  let carryBytes = 0;
  let carry: Buffer[] = [];

  /** Ends the straddling line at `data[0, to)`. */
  const endCarried = (data: Buffer, to: number) => {
    const length = carryBytes + to;
    if (length > maxLineBytes) {
      chunk.tooLong.push({ offset: lineStart, bytes: length });
    } else {
      const line = Buffer.concat([...carry, data.subarray(0, to)]);
      chunk.blocks.push(lineBlock(line, 0, line.length, lineStart));
    }
    carry = [];
    carryBytes = 0;
  };
  /** Keeps the unfinished line `data[from, end)`, copied: the reader may reuse `data`. */
  const keep = (data: Buffer, from: number) => {
    carryBytes += data.length - from;
    // A line past the limit is only counted from here on, never held.
    if (carryBytes <= maxLineBytes) carry.push(Buffer.from(data.subarray(from)));
    else carry = [];
  };

  for await (const piece of stream) {
    const data = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const first = data.indexOf(10);
    if (first < 0) {
      keep(data, 0);
      pos += data.length;
      continue;
    }
    let from = 0;
    if (carryBytes > 0) {
      endCarried(data, first);
      from = first + 1;
    }
    const last = data.lastIndexOf(10);
    if (from <= last) addLines(chunk, data, from, last + 1, pos, maxLineBytes);
    lineStart = pos + last + 1;
    if (last + 1 < data.length) keep(data, last + 1);
    pos += data.length;
    chunk.bytesRead = lineStart;
    yield chunk;
    chunk = { blocks: [], tooLong: [], bytesRead: 0 };
  }
  if (carryBytes > 0) endCarried(Buffer.alloc(0), 0);
  chunk.bytesRead = pos;
  yield chunk;
}

/**
 * Adds the complete lines `data[from, to)` (`to` just past a `\n`) as one block, or, when a line
 * among them is too long, as the blocks around it. `pos` is the stream offset of `data[0]`; the
 * blocks share `data` (nothing is copied).
 */
export function addLines(
  chunk: Pick<BlockChunk, 'blocks' | 'tooLong'>,
  data: Buffer,
  from: number,
  to: number,
  pos: number,
  maxLineBytes: number,
): void {
  // Every line is shorter than the range, so only a range longer than the limit needs looking at.
  if (to - from - 1 <= maxLineBytes) {
    chunk.blocks.push(lineBlock(data, from, to, pos + from));
    return;
  }
  let blockStart = from;
  for (let lineFrom = from; lineFrom < to; ) {
    const nl = data.indexOf(10, lineFrom);
    if (nl - lineFrom > maxLineBytes) {
      if (lineFrom > blockStart) chunk.blocks.push(lineBlock(data, blockStart, lineFrom, pos + blockStart));
      chunk.tooLong.push({ offset: pos + lineFrom, bytes: nl - lineFrom });
      blockStart = nl + 1;
    }
    lineFrom = nl + 1;
  }
  if (to > blockStart) chunk.blocks.push(lineBlock(data, blockStart, to, pos + blockStart));
}
