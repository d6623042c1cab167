import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUT_MARK, terminalPrefix, terminalText } from '../src/terminal-text.js';

describe('terminalText', () => {
  it('escapes soft hyphens, interlinear annotations and tag characters too', () => {
    expect(terminalText('a\u00adb\ufff9c\u{e0041}d')).toBe('a\\xadb\\ufff9c\\u{e0041}d');
  });

  it('escapes the invisible fillers and format controls, in and beyond the BMP', () => {
    expect(terminalText('a\u3164b\u115fc\u206ad\u034fe\u{1d173}f\u{1bca3}g')).toBe('a\\u3164b\\u115fc\\u206ad\\u034fe\\u{1d173}f\\u{1bca3}g');
    // Neighbours of those ranges are ordinary characters.
    expect(terminalText('\u{1d172}\u{1d17b}\u{e0080}')).toBe('\u{1d172}\u{1d17b}\u{e0080}');
  });

  it('keeps paired surrogates and returns clean text as is', () => {
    const text = 'emoji 😀 日本 é';
    expect(terminalText(text)).toBe(text);
  });
});

describe('terminalPrefix', () => {
  it('is terminalText when the result fits', () => {
    expect(terminalPrefix('a\u001bb', 10)).toBe('a\\x1bb');
    expect(terminalPrefix('abc', 3)).toBe('abc');
  });

  it('cuts before the piece that would overflow, mark included', () => {
    expect(terminalPrefix('abcd', 3)).toBe(`ab${CUT_MARK}`);
    expect(terminalPrefix('a\u001bbc', 5)).toBe(`a${CUT_MARK}`);
    expect(terminalPrefix('ab😀c', 3)).toBe(`ab${CUT_MARK}`);
    expect(terminalPrefix('abc', 1)).toBe(CUT_MARK);
    expect(() => terminalPrefix('abc', 0)).toThrow(RangeError);
  });

  it('agrees with terminalText on every input', () => {
    const unit = fc.constantFrom('a', '\u001b', '\u202e', '😀', '\ud800', '\udc00', '\u{e0041}', ' ');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (units, max) => {
        const text = units.join('');
        const full = terminalText(text);
        const prefix = terminalPrefix(text, max);
        expect(prefix.length).toBeLessThanOrEqual(max);
        if (full.length <= max) expect(prefix).toBe(full);
        else expect(full.startsWith(prefix.slice(0, -1)) && prefix.endsWith(CUT_MARK)).toBe(true);
      }),
    );
  });

  it('looks only at the part it keeps', () => {
    const huge = '\u001b'.repeat(4 * 1024 * 1024);
    const started = performance.now();
    for (let i = 0; i < 100; i++) terminalPrefix(huge, 120);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
