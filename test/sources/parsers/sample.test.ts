import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../../src/alerts/redact.js';
import { malformed, SAMPLE_CHARS, sampleOf } from '../../../src/sources/parsers/parse-support.js';

describe('sampleOf: malformed-line samples', () => {
  it.each([
    ['a password flag', 'sudo: alice : TTY=pts/0 ; COMMAND=/usr/bin/mysql --password=hunter2 db', 'hunter2'],
    ['an environment assignment', 'type=EXECVE msg=audit(1.2:3): argc=2 a0="env" a1="PGPASSWORD=hunter2" a2=ZZ', 'hunter2'],
    ['a token', `{"cmd": "gh auth ghp_${'a1B2'.repeat(9)}", "broken": `, 'a1B2a1B2'],
    ['URL credentials with @ in the password', 'garbage https://deploy:p@ss@registry.example/v2 more', 'p@ss'],
  ])('redacts %s', (_what, line, secret) => {
    const sample = sampleOf(line);
    expect(sample).toContain(REDACTED);
    expect(sample).not.toContain(secret);
  });

  it('is what malformed() stores', () => {
    const entry = malformed('bad_json', '{"argv": ["mysql", "-pS3cret"', 12);
    expect(entry).toEqual({ reason: 'bad_json', sample: `{"argv": ["mysql", "-p${REDACTED}"`, offset: 12 });
  });

  it('neutralises control, bidirectional and zero-width characters', () => {
    expect(sampleOf('a\u001b[2Jb\u202ec\u200bd\u2066e\u0085f\ud800g')).toBe('a\\x1b[2Jb\\u202ec\\u200bd\\u2066e\\x85f\\ud800g');
  });

  it('stays within SAMPLE_CHARS, cut mark included, and never splits an escape or a surrogate pair', () => {
    const escapes = sampleOf('\u001b'.repeat(500));
    expect(escapes.length).toBeLessThanOrEqual(SAMPLE_CHARS);
    expect(escapes).toMatch(/^(\\x1b)+…$/);
    const emoji = sampleOf(`${'a'.repeat(SAMPLE_CHARS - 2)}😀😀`);
    expect(emoji).toBe(`${'a'.repeat(SAMPLE_CHARS - 2)}…`);
    expect(sampleOf('x'.repeat(SAMPLE_CHARS))).toBe('x'.repeat(SAMPLE_CHARS));
  });

  it('costs no more for a 4 MiB line than for a short one, and marks the cut', () => {
    const line = `PGPASSWORD=${'x'.repeat(4 * 1024 * 1024)}`;
    const started = performance.now();
    const sample = sampleOf(line);
    expect(performance.now() - started).toBeLessThan(500);
    expect(sample).toBe(`PGPASSWORD=${REDACTED}…`);
  });

  it('keeps every property on arbitrary text', () => {
    const piece = fc.constantFrom('a', ' ', '=', '\u001b', '\u202e', '😀', '\ud800', '\udc00', 'password=', 'x', '…', '\\');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 200 }), (pieces) => {
        const sample = sampleOf(pieces.join(''));
        expect(sample.length).toBeLessThanOrEqual(SAMPLE_CHARS);
        expect(sample).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
        expect(sample).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        expect(sampleOf(sample)).toBe(sample);
      }),
    );
  });
});
