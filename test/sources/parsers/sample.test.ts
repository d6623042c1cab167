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

  it.each([
    ['sshpass -p', '{"time":1,"argv":["sshpass","-p","Hunter2pw","ssh","db"],"pid":1.5}'],
    ['redis-cli -a', '{"argv":["redis-cli","-a","Hunter2pw","ping"],"pid":1.5}'],
    ['curl -u', '{"argv":["curl","-u","bob:Hunter2pw","https://x"],"pid":1.5}'],
    ['docker login -p', '{"argv":["docker","login","-u","bob","-p","Hunter2pw","registry"],"pid":1.5}'],
    ['ldapsearch -w', '{"argv":["ldapsearch","-w","Hunter2pw","-b","dc=x"],"pid":1.5}'],
    ['an escaped JSON string', '{"argv":["sshpass","-p","Hun\\"ter2pw"],"pid":1.5}'],
    ['auditd quoted values', 'type=EXECVE msg=audit(1.2:3): argc=5 a0="sshpass" a1="-p" a2="Hunter2pw" a3="ssh" a4="db"'],
    ['auditd hex values', `type=EXECVE msg=audit(1.2:3): argc=4 a0="sshpass" a1="-p" a2=${Buffer.from('Hunter2pw').toString('hex').toUpperCase()} a3="db"`],
    ['a USER_CMD hex command', `type=USER_CMD msg=audit(1.2:3): pid=1 uid=0 msg='cwd="/" cmd=${Buffer.from('sshpass -p Hunter2pw ssh db').toString('hex').toUpperCase()} exe="/usr/bin/sudo" res=success'`],
  ])('redacts the words of an argument vector written in the line: %s', (_what, line) => {
    const sample = sampleOf(line);
    expect(sample).not.toContain('Hunter2pw');
    expect(sample).not.toContain('ter2pw');
    expect(sample).not.toContain(Buffer.from('Hunter2pw').toString('hex').toUpperCase());
    expect(sample).toContain(REDACTED);
  });

  it('leaves the words of a line without secrets as they were', () => {
    const line = 'type=EXECVE msg=audit(1.2:3): argc=3 a0="ls" a1="-la" a2=2F746D702F612062 a3="x"';
    expect(sampleOf(line)).toBe(line);
    expect(sampleOf('{"argv":["git","status"],"pid":1.5,"note":"a \\"quoted\\" word"}')).toBe('{"argv":["git","status"],"pid":1.5,"note":"a \\"quoted\\" word"}');
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
