import { describe, expect, it } from 'vitest';
import { replaceEvery } from '../src/replace-every.js';

describe('replaceEvery', () => {
  it('replaces every occurrence, as a global replace does', () => {
    for (const text of ['', 'plain', '`', '``a`b``', 'a`', '`a']) {
      expect(replaceEvery(text, '`', '\u02cb')).toBe(text.replace(/`/g, '\u02cb'));
    }
    expect(replaceEvery('a\u0000b\u0000', '\u0000', '\ufffd')).toBe('a\ufffdb\ufffd');
    expect(replaceEvery("it's", "'", "'\\''")).toBe("it'\\''s");
  });

  it('returns text without the search string as it is', () => {
    const text = 'nothing to do here';
    expect(replaceEvery(text, '`', 'x')).toBe(text);
  });

  it('costs the same per KiB on a 1 MiB run of matches as on a 64 KiB one', () => {
    const perKiB = (kib: number) => {
      const text = '`'.repeat(kib * 1024);
      replaceEvery(text, '`', '\u02cb');
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        replaceEvery(text, '`', '\u02cb');
        best = Math.min(best, performance.now() - started);
      }
      return best / kib;
    };
    const small = perKiB(64);
    const large = perKiB(1024);
    // Linear means about 1; generous for a busy machine (quadratic would be 16).
    expect(large / Math.max(small, 1e-4)).toBeLessThan(6);
  });
});
