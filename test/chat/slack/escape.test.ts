import { terminalText } from '../../../src/terminal-text.js';
import { describe, expect, it } from 'vitest';
import {
  BACKTICK_REPLACEMENT,
  escapeMrkdwn,
  neutraliseBackticks,
  plainMrkdwn,
  replaceControlChars,
  sanitizeText,
  truncateEscaped,
  truncatePlain,
  untrustedMrkdwn,
} from '../../../src/chat/slack/escape.js';

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here>', '&lt;!here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<!subteam^S123>', '&lt;!subteam^S123&gt;'],
    ['<https://evil.example|safe.example>', '&lt;https://evil.example|safe.example&gt;'],
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['a && b > c', 'a &amp;&amp; b &gt; c'],
    ['&lt; already', '&amp;lt; already'],
    ['*bold* _it_ ~s~ `code`', '*bold* _it_ ~s~ `code`'],
  ])('escapes %j', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it('leaves no raw angle brackets for any input', () => {
    const hostile = '<<!channel>>&<@U1|x><#C1>';
    expect(escapeMrkdwn(hostile)).not.toMatch(/[<>]/);
  });
});

describe('replaceControlChars / sanitizeText', () => {
  it('shows control bytes instead of passing them through, keeping tabs and newlines', () => {
    expect(replaceControlChars('a\u0000b\u001b[31mred\u007f\r\tx\ny')).toBe('a\\x00b\\x1b[31mred\\x7f\\x0d\tx\ny');
  });

  it('shows C1 controls, bidi overrides and zero-width characters', () => {
    expect(replaceControlChars('\u0085\u009b')).toBe('\\x85\\x9b');
    expect(replaceControlChars('rm -rf /\u202egpj.exe')).toBe('rm -rf /\\u202egpj.exe');
    expect(replaceControlChars('su\u200bdo')).toBe('su\\u200bdo');
  });

  it('shows lone surrogates as escapes but keeps real emoji', () => {
    expect(replaceControlChars('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
    expect(replaceControlChars('ok 😀')).toBe('ok 😀');
  });

  it('neutralises backticks so a code span cannot be closed early', () => {
    expect(neutraliseBackticks('echo `id` ```')).not.toContain('`');
    expect(sanitizeText('```\n<!channel>')).toBe(`${BACKTICK_REPLACEMENT.repeat(3)}\n<!channel>`);
  });
});

describe('truncateEscaped', () => {
  it('returns text that fits unchanged', () => {
    expect(truncateEscaped('short', 5)).toBe('short');
  });

  it('cuts within the limit and says how much was cut', () => {
    const out = truncateEscaped('x'.repeat(100), 50);
    expect(out.length).toBeLessThanOrEqual(50);
    expect(out).toMatch(/^x+… \[\d+ more characters\]$/);
    const kept = out.indexOf('…');
    expect(out).toContain(`[${100 - kept} more characters]`);
  });

  it('never cuts through an entity, at every possible cut position', () => {
    const escaped = escapeMrkdwn('a<b>&c'.repeat(30));
    for (let max = 25; max < escaped.length; max++) {
      const out = truncateEscaped(escaped, max);
      expect(out.length).toBeLessThanOrEqual(max);
      const kept = out.slice(0, out.indexOf('…'));
      expect(kept).toMatch(/^(?:[a-z]|&lt;|&gt;|&amp;)*$/);
    }
  });

  it('never splits an emoji at the truncation boundary', () => {
    const text = '😀'.repeat(40);
    for (let max = 25; max < text.length; max++) {
      const out = truncateEscaped(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      expect(out).not.toMatch(/(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
  });

  it('counts removed entities and emoji as single characters', () => {
    const escaped = escapeMrkdwn(`${'a'.repeat(40)}${'<'.repeat(10)}${'😀'.repeat(10)}`);
    const out = truncateEscaped(escaped, 40);
    const kept = out.slice(0, out.indexOf('…'));
    expect(out).toContain(`[${60 - kept.length} more characters]`);
  });

  it('falls back to a bare ellipsis when the note does not fit', () => {
    expect(truncateEscaped('abcdefghij', 4)).toBe('abc…');
    expect(truncateEscaped('&amp;&amp;', 3)).toBe('…');
  });

  it('rejects a non-positive limit', () => {
    expect(() => truncateEscaped('abc', 0)).toThrow(RangeError);
  });

  it('handles a 1 MB hostile argument quickly and within the limit', () => {
    const huge = `curl https://x/?q=${'<!channel>&\u0000`'.repeat(80_000)}`;
    expect(huge.length).toBeGreaterThan(1_000_000);
    const out = untrustedMrkdwn(huge, 3000);
    expect(out.length).toBeLessThanOrEqual(3000);
    expect(out).not.toMatch(/[<>`\u0000]/);
    expect(out).toMatch(/more characters\]$/);
  });
});

describe('untrustedMrkdwn', () => {
  it('counts everything cut from a long input, not just the processed prefix', () => {
    const out = untrustedMrkdwn('a'.repeat(10_000), 100);
    const kept = out.indexOf('…');
    expect(out).toBe(`${'a'.repeat(kept)}… [${10_000 - kept} more characters]`);
    expect(out.length).toBeLessThanOrEqual(100);
  });

  it('leaves short input whole', () => {
    expect(untrustedMrkdwn('<@U1> `x`', 100)).toBe('&lt;@U1&gt; ˋxˋ');
  });
});

describe('truncatePlain', () => {
  it('treats & as an ordinary character', () => {
    const out = truncatePlain('&'.repeat(100), 40);
    expect(out.length).toBeLessThanOrEqual(40);
    expect(out.startsWith('&&&&')).toBe(true);
  });

  it('can cut with a bare ellipsis', () => {
    expect(truncatePlain('abcdef😀', 7, false)).toBe('abcdef…');
    expect(truncatePlain('abcde😀x', 7, false)).toBe('abcde…');
  });
});

describe('one character set for Slack and the terminal', () => {
  it('escapes every code point the terminal sanitiser escapes, apart from tab and newline', () => {
    const differences: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCharCode(code);
      if (char === '\n' || char === '\t') continue;
      if (replaceControlChars(char) !== terminalText(char)) differences.push(code.toString(16));
    }
    expect(differences).toEqual([]);
    expect(replaceControlChars('a\u061cb\u00adc\u2065d\u{e0041}')).toBe('a\\u061cb\\xadc\\u2065d\\u{e0041}');
  });
});

describe('plainMrkdwn (a message\'s top-level text)', () => {
  it('leaves no mention, link, formatting character or invisible character to act', () => {
    const text = plainMrkdwn('b1<!channel>\n*bold* _it_ ~gone~ ```x``` \u202e\u200b <https://evil|safe>');
    expect(text).toBe('b1&lt;!channel&gt;\\x0a\u2217bold\u2217 \u02cdit\u02cd \u223cgone\u223c \u02cb\u02cb\u02cbx\u02cb\u02cb\u02cb \\u202e\\u200b &lt;https://evil|safe&gt;');
    expect(text).not.toMatch(/[<>*_~`\n\u202e\u200b]/);
  });
});
