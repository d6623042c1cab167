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

/** Writes a control character, space or DEL the way sudo and rsyslog do: `#ooo`. */
const octal = (ch: string): string => `#${ch.charCodeAt(0).toString(8).padStart(3, '0')}`;
const escapeControls = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, octal);

/** sudo 1.9.13's COMMAND= text: spaces in the path as #040, arguments with spaces quoted. */
function formatSudoCommand(argv: readonly string[]): string {
  const [path, ...args] = argv;
  const words = [escapeControls(path!).replace(/ /g, '#040')];
  for (const arg of args) {
    const escaped = escapeControls(arg);
    words.push(escaped.includes(' ') ? `'${escaped.replace(/[\\']/g, (c) => `\\${c}`)}'` : escaped);
  }
  return words.join(' ');
}

/**
 * sudo's syslog splitting (do_syslog_sudo): cut at the last space within maxlen, skip the spaces,
 * continue with "(command continued)".
 */
function sudoSyslogMessages(user: string, logline: string, maxlen: number): string[] {
  const messages: string[] = [];
  let rest = logline;
  let prefix = `${user.padStart(8)} : `;
  while (rest.length > 0) {
    let part = rest;
    if (rest.length > maxlen) {
      const cut = rest.lastIndexOf(' ', maxlen - 1);
      const at = cut > 0 ? cut : maxlen;
      part = rest.slice(0, at);
      rest = rest.slice(at).replace(/^ +/, '');
    } else {
      rest = '';
    }
    messages.push(prefix + part);
    prefix = `${user.padStart(8)} : (command continued) `;
  }
  return messages;
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

/** Arguments whose sudo encoding is unambiguous: a bare word never starts with a quote. */
const unambiguousArg = word(0, 12).filter(
  (a) => (a.includes(' ') || !a.startsWith("'")) && !/EXIT=|SIGNAL=/.test(a),
);
const path = word(1, 16);

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
        commandText: '/bin/kill -9 1',
        exitStatus: '1',
        signal: 'TERM',
      },
    });
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
    const arg = fc.stringMatching(/^[a-z0-9/'\\.-]{1,30}( [a-z0-9.-]{1,8})?$/).filter((a) => !a.startsWith("'") || a.includes(' '));
    fc.assert(
      fc.property(ident, host, fc.array(arg, { minLength: 1, maxLength: 20 }), (user, hostName, args) => {
        const argv = ['/usr/bin/tool', ...args];
        const logline = `TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=${formatSudoCommand(argv)}`;
        const lines = sudoSyslogMessages(user, logline, 100).map((m) => `Nov 24 14:23:28 ${hostName} sudo[99]: ${m}`);
        const { events, malformed } = run(createSudoSyslogParser(baseOptions), lines);
        expect(malformed).toEqual([]);
        expect(events.map((e) => e.argv)).toEqual([argv]);
        expect(events[0]).toMatchObject({ user, host: hostName, cwd: '/srv' });
      }),
      { numRuns: 200 },
    );
  });
});
