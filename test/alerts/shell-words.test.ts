import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hereInputsOf, rewriteShellWords, shellCommands } from '../../src/alerts/shell-words.js';

const values = (script: string) => shellCommands(script).map(({ words }) => words.map((word) => word.value));

describe('shellCommands', () => {
  it('splits simple commands at operators and words at blanks, removing quotes and escapes', () => {
    expect(values(`cd /tmp && curl -u 'a b:c' "x\\"y" z\\ w; echo $HOME|wc >out`)).toEqual([
      ['cd', '/tmp'],
      ['curl', '-u', 'a b:c', 'x"y', 'z w'],
      ['echo', '$HOME'],
      ['wc'],
      ['out'],
    ]);
  });

  it('says which commands pipe into the next, telling | from ||', () => {
    expect(shellCommands('echo a | chpasswd; b || c | d').map(({ pipe }) => pipe)).toEqual([true, false, false, true, false]);
  });

  it('keeps a backslash inside double quotes before anything but " \\ $ ` and newline', () => {
    expect(values('"a\\nb" "c\\\\d"')).toEqual([['a\\nb', 'c\\d']]);
  });

  it('reads an unclosed quote to the end of the script', () => {
    expect(values("echo 'abc def")).toEqual([['echo', 'abc def']]);
  });

  it('gives words equal to a blank split when the script has no quotes, escapes or operators', () => {
    const plain = fc.string({ unit: fc.constantFrom(...'ab-=: '.split('')), maxLength: 60 });
    fc.assert(
      fc.property(plain, (script) => {
        const expected = script.split(' ').filter(Boolean);
        expect(values(script).flat()).toEqual(expected);
      }),
    );
  });
});

describe('hereInputsOf', () => {
  const fed = (script: string) => {
    const commands = shellCommands(script);
    return hereInputsOf(commands).map((line) => (line === null ? null : line.map(({ words }) => words[0]?.value)));
  };

  it('marks the word after <<< as the input of the commands on its line', () => {
    expect(fed("chpasswd <<< 'a:b' -e; ls")).toEqual([null, ['chpasswd', 'a:b', 'ls'], null]);
  });

  it('marks here-document lines up to the delimiter, with the line that reads them', () => {
    expect(fed("cat <<'EOF' | chpasswd\na:b\nc:d\nEOF\nls")).toEqual([null, null, null, ['cat', 'EOF', 'chpasswd'], ['cat', 'EOF', 'chpasswd'], null, null]);
    expect(fed('chpasswd <<-END\n\ta:b\n\tEND')).toEqual([null, null, ['chpasswd', '-END'], null]);
  });

  it('leaves plain redirections and unterminated here-documents bounded', () => {
    expect(fed('sort < in > out')).toEqual([null, null, null]);
    expect(fed('chpasswd <<EOF\na:b')).toEqual([null, null, ['chpasswd', 'EOF']]);
  });
});

describe('rewriteShellWords', () => {
  it('writes a changed word back inside its quotes and keeps the rest byte for byte', () => {
    const script = `sshpass -p 'S3cret' ssh "h" ; mysql -p'my pw' db`;
    const out = rewriteShellWords(script, (words) => words.map((w) => (w.value === 'S3cret' ? 'X' : w.value === '-pmy pw' ? '-pX' : w.value)));
    expect(out).toBe(`sshpass -p 'X' ssh "h" ; mysql -p'X' db`);
  });

  it('returns the script itself when nothing changes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (script) => {
        expect(rewriteShellWords(script, (words) => words.map((w) => w.value))).toBe(script);
      }),
    );
  });
});
