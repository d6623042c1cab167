import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine, lineBlock, restOfBlock, splitBlocks, withoutByteOrderMark, type BlockChunk } from '../../src/sources/line-block.js';

/** Splits `parts` and decodes every chunk before the next is read (chunks may point into reused buffers). */
async function split(parts: Buffer[], maxLineBytes: number, source: AsyncIterable<Buffer> = Readable.from(parts)) {
  const chunks: Array<Omit<BlockChunk, 'blocks'>> = [];
  const lines: Array<{ text: string; offset: number }> = [];
  for await (const chunk of splitBlocks(source, maxLineBytes)) {
    for (const block of chunk.blocks) forEachLine(block, (text, offset) => void lines.push({ text, offset }));
    chunks.push({ tooLong: chunk.tooLong, bytesRead: chunk.bytesRead });
  }
  return { chunks, lines, tooLong: chunks.flatMap((c) => c.tooLong), bytesRead: chunks.at(-1)?.bytesRead };
}

/** Yields every part through one buffer, overwritten at each read, as the file reader does. */
async function* throughOneBuffer(parts: Buffer[]): AsyncGenerator<Buffer> {
  const buf = Buffer.alloc(Math.max(1, ...parts.map((p) => p.length)));
  for (const part of parts) {
    buf.fill(0x21);
    part.copy(buf);
    yield buf.subarray(0, part.length);
  }
}

/** The lines of `bytes` as a plain split would give them: the reference the splitter must match. */
function referenceLines(bytes: Buffer, maxLineBytes: number) {
  const lines: Array<{ text: string; offset: number }> = [];
  const tooLong: Array<{ offset: number; bytes: number }> = [];
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(10, start);
    if (nl < 0) nl = bytes.length;
    if (nl - start > maxLineBytes) tooLong.push({ offset: start, bytes: nl - start });
    else lines.push({ text: bytes.toString('utf8', start, nl), offset: start });
    start = nl + 1;
  }
  return { lines, tooLong };
}

describe('splitBlocks', () => {
  it('gives byte offsets of every line and skips over-long ones by length', async () => {
    const parts = ['ab\nc', 'd\u00e9\n', 'x'.repeat(50), 'y'.repeat(50), '\nlast'];
    const out = await split(parts.map((p) => Buffer.from(p)), 20);
    expect(out.lines).toEqual([
      { text: 'ab', offset: 0 },
      { text: 'cd\u00e9', offset: 3 },
      { text: 'last', offset: 109 },
    ]);
    expect(out.tooLong).toEqual([{ offset: 8, bytes: 100 }]);
    expect(out.bytesRead).toBe(Buffer.byteLength(parts.join('')));
  });

  it('cuts an over-long line out of the middle of one read, keeping the lines around it', async () => {
    const text = `one\n${'z'.repeat(30)}\ntwo\nthree\n`;
    const out = await split([Buffer.from(text)], 10);
    expect(out.lines.map((l) => l.text)).toEqual(['one', 'two', 'three']);
    expect(out.tooLong).toEqual([{ offset: 4, bytes: 30 }]);
  });

  it('marks blocks ASCII only when they are', async () => {
    const flags: boolean[] = [];
    for await (const chunk of splitBlocks(Readable.from([Buffer.from('plain\n'), Buffer.from('caf\u00e9\n')]), 100)) {
      flags.push(...chunk.blocks.map((b) => b.ascii));
    }
    expect(flags).toEqual([true, false]);
  });

  it('yields a chunk per read that ends a line, each ending on a line boundary', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const parts = Array.from({ length: Math.ceil(bytes.length / 37) }, (_, i) => bytes.subarray(i * 37, (i + 1) * 37));
    const out = await split(parts, 1000);
    expect(out.chunks.length).toBeGreaterThan(10);
    for (const chunk of out.chunks) expect(bytes[chunk.bytesRead - 1]).toBe(10);
    expect(out.lines.map((l) => l.text)).toEqual(lines);
  });

  it('splits any bytes, cut anywhere, read through fresh or reused buffers, exactly as a plain split does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(10, 10, 97, 0xc3, 0xa9), fc.integer({ min: 0, max: 255 })), { maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 30 }),
        fc.boolean(),
        async (byteList, cuts, maxLineBytes, reuse) => {
          const bytes = Buffer.from(byteList);
          const parts: Buffer[] = [];
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const size = cuts[i % cuts.length]!;
            parts.push(bytes.subarray(at, at + size));
            at += size;
          }
          const out = await split(parts, maxLineBytes, reuse ? throughOneBuffer(parts) : undefined);
          const expected = referenceLines(bytes, maxLineBytes);
          expect(out.lines).toEqual(expected.lines);
          expect(out.tooLong).toEqual(expected.tooLong);
          expect(out.bytesRead).toBe(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('withoutByteOrderMark', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  it('drops a byte order mark where a log starts, and only there', () => {
    const bytes = Buffer.concat([bom, Buffer.from('a\n'), bom, Buffer.from('b\n')]);
    const first = withoutByteOrderMark(lineBlock(bytes, 0, bytes.length, 0));
    expect(first).toMatchObject({ start: 3, offset: 3, ascii: false });
    // A mark later in the log is text of its line, and a block further on is left as it is.
    const lines: string[] = [];
    forEachLine(first, (line) => void lines.push(line));
    expect(lines).toEqual(['a', '\ufeffb']);
    const later = lineBlock(bytes, 5, bytes.length, 5);
    expect(withoutByteOrderMark(later)).toBe(later);
    const ascii = withoutByteOrderMark(lineBlock(Buffer.concat([bom, Buffer.from('x\n')]), 0, 5, 0));
    expect(ascii).toMatchObject({ start: 3, ascii: true });
    const short = lineBlock(Buffer.from([0xef, 0xbb]), 0, 2, 0);
    expect(withoutByteOrderMark(short)).toBe(short);
  });
});

describe('forEachLine', () => {
  it('stops when told and says where the next line starts', () => {
    const bytes = Buffer.from('a\nbb\nccc');
    const block = lineBlock(bytes, 0, bytes.length, 100);
    const seen: string[] = [];
    const stop = forEachLine(block, (text) => {
      seen.push(text);
      return text !== 'a';
    });
    expect(seen).toEqual(['a']);
    expect(stop).toBe(2);
    const rest: Array<[string, number]> = [];
    forEachLine(restOfBlock(block, stop), (text, offset) => void rest.push([text, offset]));
    expect(rest).toEqual([
      ['bb', 102],
      ['ccc', 105],
    ]);
  });
});
