import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputBuffer } from '../../src/cli/output-buffer.js';

/** Any UTF-16 text: lone surrogates, controls, quotes, backslashes and astral characters included. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '/', '\u2028', '\u2029', '\ud800', '\udbff', '\udc00', '\udfff', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', 'a', ' '),
    fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
  ),
  maxLength: 80,
});

/** Long text, so the native copy of plain text is taken too. */
const longText = fc.tuple(fc.string({ unit: 'grapheme-ascii', minLength: 256, maxLength: 600 }), anyText).map(([a, b]) => a + b);

/** Long text made of nothing but characters to escape or encode: JSON.stringify's path, at its worst. */
const longHostileText = fc.string({
  unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u00e9', '\u2713', '\ud800', '\udfff', '\u{1f600}', 'a'),
  minLength: 256,
  maxLength: 2000,
});

/** The bytes written, as one buffer. */
function bytesOf(out: OutputBuffer): Buffer {
  return Buffer.concat(out.take());
}

describe('OutputBuffer JSON encoder', () => {
  it('writes any string as JSON.stringify does, as UTF-8, and JSON.parse gives the string back', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, longText, longHostileText), fc.integer({ min: 1, max: 64 }), (text, size) => {
        // A tiny buffer makes every value cross buffer boundaries.
        const out = new OutputBuffer(size);
        out.jsonString(text);
        const bytes = bytesOf(out);
        expect(bytes.equals(Buffer.from(JSON.stringify(text), 'utf8'))).toBe(true);
        expect(JSON.parse(bytes.toString('utf8'))).toBe(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('escapes lone surrogates and control characters, and keeps pairs, U+2028 and DEL as they are', () => {
    const out = new OutputBuffer(16);
    out.jsonString('a"b\\c\n\t\b\f\r\u0000\u001f\u007f \ud83d\ude00 \ud83d x \ude00 \u2028');
    expect(bytesOf(out).toString('utf8')).toBe('"a\\"b\\\\c\\n\\t\\b\\f\\r\\u0000\\u001f\u007f \ud83d\ude00 \\ud83d x \\ude00 \u2028"');
  });

  it('writes a megabyte of hostile text exactly, in linear time', () => {
    const hostile = '\u0000"\\\ud800\u001b\u00e9\u{1f600}'.repeat(125_000);
    const started = performance.now();
    const out = new OutputBuffer();
    out.jsonString(hostile);
    out.jsonString('x'.repeat(1_000_000));
    expect(bytesOf(out).equals(Buffer.from(JSON.stringify(hostile) + JSON.stringify('x'.repeat(1_000_000)), 'utf8'))).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('writes arrays of strings, null and numbers as JSON.stringify does', () => {
    const anyNumber = fc.oneof(fc.integer(), fc.nat(), fc.maxSafeNat(), fc.double(), fc.constantFrom(0, -0, 1e21, 2 ** 53, Number.NaN, Infinity));
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 5 }), anyNumber, fc.option(anyText), (items, value, maybe) => {
        const out = new OutputBuffer(8);
        out.jsonStringArray(items);
        out.ascii(',');
        out.number(value);
        out.ascii(',');
        out.jsonStringOrNull(maybe);
        const expected = `${JSON.stringify(items)},${JSON.stringify(value)},${JSON.stringify(maybe)}`;
        expect(bytesOf(out).toString('utf8')).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes text lines as UTF-8 and hands out what it wrote in order, once', () => {
    const out = new OutputBuffer(4);
    out.text('caf\u00e9\n');
    out.ascii('{}');
    out.text('\u65e5\u672c\n');
    expect(bytesOf(out).toString('utf8')).toBe('caf\u00e9\n{}\u65e5\u672c\n');
    expect(out.size).toBe(0);
    expect(out.take()).toEqual([]);
  });
});
