import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactArgumentText, redactCandidate, redactCommand } from '../../src/alerts/redact.js';
import { SECRET_HINTS, argumentMayHoldSecret, mayHoldSecret } from '../../src/alerts/secret-hints.js';

/** The screen's definition, spelled out slowly: some argument holds a hint once folded, quotes and backslashes left out. */
function holdsHintSlowly(argv: readonly string[]): boolean {
  const fold = (text: string) =>
    Array.from(text, (ch) => (ch === '\u212A' ? 'k' : ch === '\u017F' ? 's' : /^[A-Z]$/.test(ch) ? ch.toLowerCase() : ch))
      .filter((ch) => ch !== "'" && ch !== '"' && ch !== '\\')
      .join('');
  return argv.some((arg) => SECRET_HINTS.some((hint) => fold(arg).includes(hint)));
}

/** Pieces of hints, whole hints in other cases, the two folding letters, and near misses. */
const fragment = fc.oneof(
  fc.constantFrom(...SECRET_HINTS),
  fc.constantFrom(...SECRET_HINTS).map((hint) => hint.toUpperCase()),
  fc.constantFrom(...SECRET_HINTS).chain((hint) => fc.integer({ min: 1, max: hint.length }).map((cut) => hint.slice(0, cut))),
  fc.constantFrom(...SECRET_HINTS).chain((hint) => fc.integer({ min: 0, max: hint.length - 1 }).map((cut) => hint.slice(cut))),
  fc.constantFrom('\u212A', '\u017F', 'K', 'S', 's', 'k', 'pa', 'ss', ':/', '/', 'İ', 'ı', '\u00E9', '\uD83D\uDE00', ' ', '='),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const argument = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(''));
const argvs = fc.array(argument, { maxLength: 5 });

describe('mayHoldSecret', () => {
  it('is exactly "some argument holds a hint, case and the two folding letters aside"', () => {
    fc.assert(
      fc.property(argvs, (argv) => mayHoldSecret(argv) === holdsHintSlowly(argv)),
      { numRuns: 20_000 },
    );
  });

  it('finds hints that overlap, end the text or hide behind a false start', () => {
    for (const text of ['papass', 'ppwd', 'tokeKEY', 'x:://', 'hooks.slachooks.slack', 'github_pagithub_pat_', 'xaxox', 'mysqmysql', 'MY\u017FQL', '\u212Aey']) {
      expect(mayHoldSecret(['ls', text]), text).toBe(true);
    }
    for (const text of ['pas', 'pw', 'toke', 'hooks.slac', 'github_pa', 'xo', 'mysq', '', 'p\u00E1ss']) {
      expect(mayHoldSecret(['ls', text]), text).toBe(false);
    }
  });

  it('stays fast on a megabyte of near misses', () => {
    const text = 'pas pw toke ke :/ hooks.slac '.repeat(40_000);
    const started = performance.now();
    expect(mayHoldSecret([text])).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never skips a command the redactor would change', () => {
    const word = fc.oneof(
      argument,
      fc.constantFrom('mysql', '-pX', 'sshpass', '-p', 'curl', '-u', 'a:b', 'docker', 'login', 'PASSWORD=x', '--api-key', 'x', 'htpasswd', '-b', 'openssl', 'enc', '-k'),
      fc.string({ unit: fc.constantFrom(...'abcdeklmnoprstuwy-_=:/@ "\'\n|;<'.split('')), maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (argv) => mayHoldSecret(argv) || !redactCandidate(argv).redacted),
      { numRuns: 5000 },
    );
  });
});

describe('a hint split by quotes in a script', () => {
  it('is still redacted', () => {
    expect(redactCommand(['sh', '-c', "echo PA''SSWORD=hunter2"]).argv[2]).toBe("echo PA''SSWORD=[REDACTED]");
    expect(redactCommand(['sh', '-c', 'my""sql -phunter2']).argv[2]).toBe('my""sql -p[REDACTED]');
    expect(redactCommand(['sh', '-c', 'cu\\rl -u a:hunter2 h']).argv[2]).toBe('cu\\rl -u a:[REDACTED] h');
  });
});

describe('argumentMayHoldSecret', () => {
  it('sees hints through the quotes and backslashes a script word loses', () => {
    for (const arg of ["echo PA''SSWORD=x", 'my""sql -pX', 'cu\\rl -u a:b h', 'TO"KEN"=x', "'sshp'ass -p x h"]) {
      expect(argumentMayHoldSecret(arg), arg).toBe(true);
      expect(mayHoldSecret(['sh', '-c', arg]), arg).toBe(true);
    }
    for (const arg of ['-s', 'Accept: application/json', "it's", 'a\\b']) expect(argumentMayHoldSecret(arg), arg).toBe(false);
  });

  it('never passes over an argument the script and text layers would change', () => {
    const piece = fc.oneof(
      fragment,
      fc.constantFrom("'", '"', '\\', ' ', '\n', '|', ';', '&', '<<<', '<<', '=', ':', '@', '-', '--', '-p', '-u', 'echo ', 'chpasswd', 'sudo '),
    );
    const arg = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(arg, (text) => argumentMayHoldSecret(text) || redactArgumentText(text) === text),
      { numRuns: 20_000 },
    );
  });
});
