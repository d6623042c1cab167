import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKeepingBytes, holdsKeptBytes, keptByteLength, restoreUtf8 } from '../../../src/sources/parsers/kept-bytes.js';

/** Bytes with every kind of UTF-8 trouble: cut sequences, stray continuations, overlongs, surrogates, astral characters. */
const bytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.constantFrom(...['é', '日', '🙂', 'a', ' '].map((text) => Buffer.from(text))),
      fc.constantFrom(Buffer.of(0xc3), Buffer.of(0xa9), Buffer.of(0xf0, 0x9f), Buffer.of(0xed, 0xa0, 0x80), Buffer.of(0xc0, 0xaf), Buffer.of(0xf4, 0x90, 0x80, 0x80)),
    ),
    { maxLength: 20 },
  )
  .map((parts) => Buffer.concat(parts));

describe('kept bytes', () => {
  it('decodes valid UTF-8 as usual and keeps every other byte, so the text stands for exactly its bytes', () => {
    fc.assert(
      fc.property(bytes, (raw) => {
        const kept = decodeKeepingBytes(raw);
        expect(keptByteLength(kept)).toBe(raw.length);
        expect(restoreUtf8(kept)).toBe(raw.toString('utf8'));
        expect(holdsKeptBytes(kept)).toBe(!isUtf8(raw));
        if (isUtf8(raw)) expect(kept).toBe(raw.toString('utf8'));
      }),
      { numRuns: 3000 },
    );
  });

  it('joins the halves of a character cut between two parts', () => {
    const word = Buffer.from('aé🙂');
    for (let cut = 0; cut <= word.length; cut++) {
      const joined = decodeKeepingBytes(word.subarray(0, cut)) + decodeKeepingBytes(word.subarray(cut));
      expect(restoreUtf8(joined)).toBe('aé🙂');
    }
  });

  it('is linear on a megabyte of invalid bytes', () => {
    const raw = Buffer.alloc(1024 * 1024, 0xff);
    const started = performance.now();
    expect(restoreUtf8(decodeKeepingBytes(raw))).toBe('\ufffd'.repeat(raw.length));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
