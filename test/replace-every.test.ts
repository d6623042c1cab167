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
});
