import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeOctalEscapes,
  parseSudoEntry,
  splitSudoCommand,
  splitSudoMessage,
} from '../../../src/sources/parsers/sudo-message.js';
import { createSudoSyslogParser } from '../../../src/sources/parsers/sudo-syslog.js';
import { baseOptions, run } from './parser-harness.js';

/**
 * sudo 1.9.13's escape for a control character or blank (lib/util/lbuf.c): `#0` and the code in
 * octal without padding, `#01`, `#011`, `#040`, `#0177`.
 */
const escapeChar = (ch: string): string => `#0${ch.charCodeAt(0).toString(8)}`;
const escapeControls = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, escapeChar);
const escapeBlanks = (text: string): string => text.replace(/[ \t]/g, escapeChar);
const escapeQuotes = (text: string): string => text.replace(/[\\']/g, (c) => `\\${c}`);

/**
 * sudo 1.9.13's COMMAND= text (new_logline in lib/eventlog/eventlog.c): the path with control
 * characters and blanks escaped; an argument containing a space quoted, with control characters,
 * quotes and backslashes escaped inside; any other argument with blanks escaped as well.
 */
function formatSudoCommand(argv: readonly string[]): string {
  const [path, ...args] = argv;
  const words = [escapeBlanks(escapeControls(path!))];
  for (const arg of args) {
    const escaped = escapeQuotes(escapeControls(arg));
    words.push(arg.includes(' ') ? `'${escaped}'` : escapeBlanks(escaped));
  }
  return words.join(' ');
}

/**
 * sudo's syslog splitting (do_syslog_sudo, default syslog_maxlen 960): cut at the last space that
 * fits, dropping the spaces, or inside a word when none fits; continue with "(command
 * continued)". ASCII only, so characters are bytes. `ambiguous` is set when a cut inside a word
 * fell just before a space, which the log cannot tell from a word that goes on.
 */
function sudoSyslogMessages(user: string, logline: string): { messages: string[]; ambiguous: boolean } {
  const messages: string[] = [];
  let ambiguous = false;
  let rest = logline;
  let prefix = `${user.padStart(8)} : `;
  let maxlen = 960 - 3 - user.length;
  while (rest.length > 0) {
    let part = rest;
    if (rest.length > maxlen) {
      const cut = rest.lastIndexOf(' ', maxlen - 1);
      const at = cut >= 0 ? cut : maxlen;
      if (cut < 0 && rest[maxlen] === ' ') ambiguous = true;
      part = rest.slice(0, at);
      rest = rest.slice(at).replace(/^ +/, '');
    } else {
      rest = '';
    }
    messages.push(prefix + part);
    prefix = `${user.padStart(8)} : (command continued) `;
    maxlen = 960 - 23 - user.length;
  }
  return { messages, ambiguous };
}

const ALPHABET = [
  'a', 'b', 'z', 'A', '0', '9', '-', '_', '.', '/', '=', ';', ':', '"', '\\', "'", ' ', '\n', '\t', '\u0001',
  '\u007f', 'é', '日', '😀', '<', '>', '&', '!', '$', '*',
];
const word = (min: number, max: number) =>
  fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((a) => a.join(''));
const ident = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const cwd = fc.array(fc.stringMatching(/^[A-Za-z0-9_. -]{1,8}$/), { maxLength: 4 }).map((parts) => `/${parts.join('/')}`);

/**
 * Arguments whose sudo encoding is unambiguous: sudo's one-digit escape of 0x01 followed by an
 * octal digit reads as a two-digit escape (`#01` then `0` is `#010`, a backspace).
 */
const unambiguousArg = word(0, 12).filter((a) => !/\u0001[0-7]/.test(a) && !/EXIT=|SIGNAL=/.test(a));
const path = word(1, 16).filter((a) => !/\u0001[0-7]/.test(a));

describe('sudo message helpers', () => {
  it('splits the right-aligned user from the text', () => {
    expect(splitSudoMessage('   alice : TTY=pts/0 ; COMMAND=/bin/ls')).toEqual({
      kind: 'first',
      user: 'alice',
      text: 'TTY=pts/0 ; COMMAND=/bin/ls',
    });
    expect(splitSudoMessage('verylongusername : (command continued) rest')).toEqual({
      kind: 'continued',
      user: 'verylongusername',
      text: 'rest',
    });
    expect(splitSudoMessage('pam_unix(sudo:session): session closed for user root')).toEqual({ kind: 'other' });
  });

  it('decodes octal escapes, including runs of 8-bit bytes as UTF-8', () => {
    expect(decodeOctalEscapes('a#012b#040c#177')).toBe('a\nb c\u007f');
    expect(decodeOctalEscapes('caf#303#251')).toBe('café');
    expect(decodeOctalEscapes('issue #123 and #9')).toBe('issue #123 and #9');
    expect(decodeOctalEscapes('#377')).toBe('\ufffd');
  });

  it("decodes sudo 1.9.13's own escapes, #0 and the octal code without padding", () => {
    // As Debian's sudo 1.9.13p3 logged `echo $'\x01ctl\x7fdel' $'tab\there' $'esc\e[31m red'`.
    expect(splitSudoCommand("/bin/echo #01ctl#0177del tab#011here 'esc#033[31m red'")).toEqual([
      '/bin/echo',
      '\u0001ctl\u007fdel',
      'tab\there',
      'esc\u001b[31m red',
    ]);
  });

  it('reads #040 as a space only in the command path: an argument with a space is quoted instead', () => {
    // As Debian's sudo 1.9.13p3 logged `'/tmp/dir with space/prog' '#040' 'x#040y' '#040 a' $'t\tb'`.
    expect(splitSudoCommand("/tmp/dir#040with#040space/prog #040 x#040y '#040 a' t#011b")).toEqual([
      '/tmp/dir with space/prog',
      '#040',
      'x#040y',
      '#040 a',
      't\tb',
    ]);
  });

  it('undoes the backslash escapes sudo 1.9.13 writes outside quotes as well as inside', () => {
    // As logged for `echo "hello world" "it's" 'back\slash' -e 'x\\y' "\\" "''" '\'"'"`.
    const text = "/bin/echo 'hello world' it\\'s back\\\\slash -e x\\\\\\\\y \\\\ \\'\\' \\\\\\'";
    expect(splitSudoCommand(text)).toEqual(['/bin/echo', 'hello world', "it's", 'back\\slash', '-e', 'x\\\\y', '\\', "''", "\\'"]);
    // The command path is not quote-escaped: its backslashes are its own.
    expect(splitSudoCommand('/opt/odd\\dir/tool a')).toEqual(['/opt/odd\\dir/tool', 'a']);
  });

  it('undoes the escapes of long arguments, quoted or not, exactly as of short ones', () => {
    // Long words take another path (no rope of pieces); what it gives must not differ.
    const pieces = ["\\\\", "\\'", '\\x', 'ab', '\u00e9', '\ud83d\ude00', '\ud800', '#011'];
    const short = pieces.join('');
    const long = pieces.join('').repeat(1000);
    const argv = (word: string) => splitSudoCommand(`/bin/echo ${word} '${word.replace(/ /g, '')} q' tail`);
    const expected = (word: string): string[] => {
      const [, a, b] = argv(word);
      return [a!, b!];
    };
    const shortArgv = expected(short);
    const [longPlain, longQuoted] = expected(long);
    expect(longPlain).toBe(shortArgv[0]!.repeat(1000));
    expect(longQuoted).toBe(shortArgv[1]!.slice(0, -2).repeat(1000) + ' q');
    expect(argv(long).at(-1)).toBe('tail');
  });

  it('falls back to plain words when a quote is never closed', () => {
    expect(splitSudoCommand("/bin/echo 'unterminated arg")).toEqual(['/bin/echo', "'unterminated", 'arg']);
  });

  it('parses fields before COMMAND in order and keeps EXIT/SIGNAL apart', () => {
    const parsed = parseSudoEntry('TTY=pts/0 ; PWD=/a ; b ; USER=root ; COMMAND=/bin/kill -9 1 ; SIGNAL=TERM ; EXIT=1');
    expect(parsed).toEqual({
      kind: 'entry',
      entry: {
        reason: null,
        fields: { TTY: 'pts/0', PWD: '/a ; b', USER: 'root' },
        repeated: [],
        commandText: '/bin/kill -9 1',
        exitStatus: '1',
        signal: 'TERM',
      },
    });
  });

  it.each([
    ['a USER planted in a variable', 'TTY=pts/0 ; PWD=/tmp ; USER=root ; ENV=A=1 ; USER=nobody ; COMMAND=/bin/sh -c id'],
    ['a USER planted in the directory name', 'TTY=pts/0 ; PWD=/tmp/e ; USER=nobody ; USER=root ; COMMAND=/bin/sh -c id'],
  ])('reads a repeated USER as root when any value is root, and says it repeated (%s)', (_, text) => {
    const parsed = parseSudoEntry(text);
    expect(parsed.kind === 'entry' && [parsed.entry.fields.USER, parsed.entry.repeated]).toEqual(['root', ['USER']]);
  });

  it('marks the event of a line with a repeated field', () => {
    const line = 'Nov 24 09:00:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; ENV=A=1 ; USER=nobody ; COMMAND=/usr/bin/tee -a /etc/crontab';
    const { events } = run(createSudoSyslogParser(baseOptions), [line]);
    expect(events.map((event) => [event.runAs, event.extra?.sudo_fields_repeated])).toEqual([['root', 'USER']]);
  });

  it('round-trips generated commands through sudo 1.9.13 syslog lines', () => {
    fc.assert(
      fc.property(ident, host, cwd, path, fc.array(unambiguousArg, { maxLength: 6 }), (user, hostName, dir, exe, args) => {
        const argv = [exe, ...args];
        const line = `Nov 24 14:23:28 ${hostName} sudo[321]: ${user.padStart(8)} : TTY=pts/0 ; PWD=${dir} ; USER=root ; COMMAND=${formatSudoCommand(argv)}`;
        const { events, malformed } = run(createSudoSyslogParser(baseOptions), [line]);
        expect(malformed).toEqual([]);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ argv, user, host: hostName, cwd: dir, runAs: 'root' });
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips long commands that sudo split into (command continued) lines', () => {
    // sudo's own splitting collapses runs of spaces at a cut, so arguments here have no empty words.
    const shortArg = fc.stringMatching(/^[a-z0-9/'\\.-]{1,30}( [a-z0-9.-]{1,8})?$/);
    const longWord = fc.stringMatching(/^[a-z0-9.-]{900,2100}$/);
    const arg = fc.oneof({ arbitrary: shortArg, weight: 9 }, { arbitrary: longWord, weight: 1 });
    fc.assert(
      fc.property(ident, host, fc.array(arg, { minLength: 1, maxLength: 80 }), (user, hostName, args) => {
        const argv = ['/usr/bin/tool', ...args];
        const logline = `TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=${formatSudoCommand(argv)}`;
        const { messages, ambiguous } = sudoSyslogMessages(user, logline);
        fc.pre(!ambiguous);
        const lines = messages.map((m) => `Nov 24 14:23:28 ${hostName} sudo: ${m}`);
        const { events, malformed } = run(createSudoSyslogParser(baseOptions), lines);
        expect(malformed).toEqual([]);
        expect(events.map((e) => e.argv)).toEqual([argv]);
        expect(events[0]).toMatchObject({ user, host: hostName, cwd: '/srv' });
      }),
      { numRuns: 200 },
    );
  });

  it('joins a word sudo cut where no space fitted without adding a space', () => {
    // Debian's sudo 1.9.13p3 logging `echo start <1,500 x> end` for alice (real sample): the first
    // part was cut at a space, the second inside the word, at exactly 960 - 23 - 5 bytes.
    const url = new URL('../../fixtures/real/sudo/auth.log', import.meta.url);
    const log = readFileSync(url, 'utf8').split('\n');
    const first = log.findIndex((l) => l.endsWith('alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/echo start'));
    const lines = log.slice(first, first + 3);
    const word = 'x'.repeat(1500);
    expect(lines[1]).toMatch(/alice : \(command continued\) x{932}$/);
    const { events, malformed } = run(createSudoSyslogParser(baseOptions), lines);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.argv)).toEqual([['/bin/echo', 'start', word, 'end']]);
    // sudo also drops a space that falls exactly at its limit: the same parts could have been two words.
    expect(events[0]?.extra).toMatchObject({ argv_inexact: 'true' });
  });
});
