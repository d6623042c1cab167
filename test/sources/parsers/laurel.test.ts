import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLaurelParser, decodePercent } from '../../../src/sources/parsers/laurel.js';

/** A laurel event line shaped as laurel writes it (see its json-format documentation). */
function laurelLine(overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    ID: '1626611363.720:348501',
    NODE: 'web-1',
    SYSCALL: {
      arch: '0xc000003e',
      syscall: 59,
      success: 'yes',
      exit: 0,
      items: 3,
      ppid: 722076,
      pid: 724395,
      auid: 1000,
      uid: 0,
      gid: 0,
      euid: 0,
      tty: 'pts3',
      ses: 3,
      comm: 'perl',
      exe: '/usr/bin/perl',
      key: null,
      ARCH: 'x86_64',
      SYSCALL: 'execve',
      AUID: 'alice',
      UID: 'root',
      EUID: 'root',
      PPID: { EVENT_ID: '1626611323.973:348120', exe: '/bin/bash', comm: 'bash', ppid: 3190631 },
    },
    EXECVE: { argc: 3, ARGV: ['perl', '-e', 'use Socket;$i="10.0.0.1";exec("/bin/sh -i");'] },
    CWD: { cwd: '/root' },
    PATH: [{ item: 0, name: '/usr/bin/perl', inode: 401923, mode: '0o100755' }],
    PROCTITLE: { ARGV: ['perl', '-e', 'use Socket;'] },
    ...overrides,
  });
}

describe('laurel parser', () => {
  it('reads an exec event with enriched names', () => {
    const parser = createLaurelParser({ defaultHost: 'fallback' });
    const out = parser.push(laurelLine(), 0, new Date(0));
    expect(out.malformed).toEqual([]);
    expect(out.events[0]).toMatchObject({
      argv: ['perl', '-e', 'use Socket;$i="10.0.0.1";exec("/bin/sh -i");'],
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      cwd: '/root',
      exe: '/usr/bin/perl',
      pid: 724395,
      ppid: 722076,
      host: 'web-1',
      success: true,
      sourceFormat: 'laurel',
      eventKey: 'web-1:1626611363.720:348501',
      extra: { tty: 'pts3', ses: '3' },
    });
    expect(out.events[0].time.toISOString()).toBe('2021-07-18T12:29:23.720Z');
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('keeps an exec whose NODE is not a string, under the source host, and counts it as bad_field', () => {
    const out = createLaurelParser({ defaultHost: 'fallback' }).push(laurelLine({ NODE: { name: 'web-1' } }), 0, new Date(0));
    expect(out.events.map((event) => event.host)).toEqual(['fallback']);
    expect(out.malformed).toEqual([expect.objectContaining({ reason: 'bad_field', detail: expect.stringContaining('NODE must be a string') })]);
  });

  it('decodes percent-encoded bytes, control characters, % and +', () => {
    const parser = createLaurelParser({ defaultHost: 'h' });
    const line = laurelLine({
      NODE: undefined,
      EXECVE: { argc: 4, ARGV: ['printf', 'a%2Bb%25c', 'line%0Abreak%09tab', 'bad%FFbyte caf\u00e9'] },
      CWD: { cwd: '/tmp/%2Bdir' },
    });
    const [event] = parser.push(line, 0, new Date(0)).events;
    expect(event.host).toBe('h');
    expect(event.argv).toEqual(['printf', 'a+b%c', 'line\nbreak\ttab', 'bad\ufffdbyte café']);
    expect(event.cwd).toBe('/tmp/+dir');
    expect(decodePercent('%E2%98%83 snow')).toBe('☃ snow');
    expect(decodePercent('100%')).toBe('100%');
  });

  it('replaces lone surrogates in every text field, as the other JSON formats do', () => {
    const parser = createLaurelParser({ defaultHost: 'h' });
    const line = laurelLine({ EXECVE: { argc: 2, ARGV: ['cat', 'x\ud800y'] }, CWD: { cwd: '/tmp/\udc00' } }).replace('"/usr/bin/perl"', '"/usr/bin/\\ud800"');
    const [event] = parser.push(line, 0, new Date(0)).events;
    expect(event.argv).toEqual(['cat', 'x\ufffdy']);
    expect(event.cwd).toBe('/tmp/\ufffd');
    expect(event.exe).toBe('/usr/bin/\ufffd');
  });

  it('unset auid is a system actor; uids without names use resolveUid', () => {
    const parser = createLaurelParser({ defaultHost: 'h', resolveUid: (uid) => (uid === 33 ? 'www-data' : null) });
    const line = laurelLine({
      SYSCALL: { arch: '0xc000003e', syscall: 59, success: 'no', pid: 5, ppid: 4, auid: 4294967295, uid: 33, euid: 33, ses: 4294967295, exe: '/bin/sh', key: 'webshell' },
    });
    const [event] = parser.push(line, 0, new Date(0)).events;
    expect(event).toMatchObject({ user: null, loginUid: null, runAs: 'www-data', success: false, extra: { key: 'webshell' } });
  });

  it('uses PATH or PROCTITLE when there is no EXECVE, and skips non-exec events', () => {
    const parser = createLaurelParser({ defaultHost: 'h' });
    const failed = laurelLine({ EXECVE: undefined });
    expect(parser.push(failed, 0, new Date(0)).events[0].argv).toEqual(['/usr/bin/perl']);
    const aarch = laurelLine({ EXECVE: undefined, PATH: undefined, SYSCALL: { arch: '0xc00000b7', syscall: 221, auid: 1 } });
    expect(parser.push(aarch, 0, new Date(0)).events[0].argv).toEqual(['perl', '-e', 'use Socket;']);
    const openat = laurelLine({ EXECVE: undefined, SYSCALL: { arch: '0xc000003e', syscall: 257, SYSCALL: 'openat' } });
    expect(parser.push(openat, 0, new Date(0))).toEqual({ events: [], malformed: [] });
  });

  describe("sudo's USER_CMD", () => {
    const userCmd = (id: string, pid: number, cmd: string, res: string) =>
      JSON.stringify({
        ID: id,
        NODE: 'web-1',
        USER_CMD: { pid, uid: 1001, auid: 1001, ses: 7, msg: `cwd="/tmp" cmd="${cmd}" exe="/usr/bin/sudo" terminal=pts/0 res=${res}`, UID: 'alice', AUID: 'alice' },
      });
    const exec = (id: string, ppid: number, argv: string[]) =>
      laurelLine({ ID: id, SYSCALL: { arch: '0xc000003e', syscall: 59, success: 'yes', ppid, pid: ppid + 1, auid: 1001, uid: 0, euid: 0, ses: 7, exe: `/usr/bin/${argv[0]}`, AUID: 'alice', UID: 'root', EUID: 'root' }, EXECVE: { argc: argv.length, ARGV: argv } });

    it('gives a denial at once, and ties an allowed one to the execve it caused', () => {
      const parser = createLaurelParser({ defaultHost: 'fallback' });
      const denied = parser.push(userCmd('1700000000.000:10', 500, 'cat /etc/shadow', 'failed'), 0, new Date(0));
      expect(denied.events.map((e) => [e.user, e.command, e.sudoDenied, e.host])).toEqual([['alice', 'cat /etc/shadow', true, 'web-1']]);
      expect(parser.push(userCmd('1700000001.000:20', 600, 'id', 'success'), 100, new Date(0)).events).toEqual([]);
      expect(parser.lowWaterMark()).toBe(100);
      const ran = parser.push(exec('1700000001.010:21', 600, ['id']), 200, new Date(0)).events;
      expect(ran.map((e) => [e.command, e.runAs, e.extra?.via])).toEqual([['id', 'root', 'sudo']]);
      expect(parser.lowWaterMark()).toBeNull();
      expect(parser.flush().events).toEqual([]);
    });

    it('emits an allowed one no execve claims once it goes stale, or at the end', () => {
      const parser = createLaurelParser({ defaultHost: 'fallback' });
      parser.push(userCmd('1700000001.000:20', 600, '/usr/bin/whoami %25', 'success'), 0, new Date(0));
      expect(parser.flush().events.map((e) => [e.argv, e.extra?.via])).toEqual([[['/usr/bin/whoami', '%'], 'sudo']]);
    });

    it('counts a USER_CMD it cannot read', () => {
      const bad = JSON.stringify({ ID: '1700000001.000:20', USER_CMD: { pid: 1, msg: 'cwd="/" cmd=ZZ res=success' } });
      const noMsg = JSON.stringify({ ID: '1700000001.000:21', USER_CMD: { pid: 1 } });
      const parser = createLaurelParser({ defaultHost: 'fallback' });
      expect([bad, noMsg].flatMap((line, i) => parser.push(line, i, new Date(0)).malformed.map((m) => m.reason))).toEqual(['bad_hex', 'unrecognized']);
    });
  });

  it('reports bad lines', () => {
    const parser = createLaurelParser({ defaultHost: 'h' });
    expect(parser.push('{"ID":', 9, new Date(0)).malformed).toEqual([{ reason: 'bad_json', sample: '{"ID":', offset: 9 }]);
    expect(parser.push('{"ID":"nope"}', 0, new Date(0)).malformed[0].reason).toBe('unrecognized');
    expect(parser.push('"just a string"', 0, new Date(0)).malformed[0].reason).toBe('unrecognized');
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.record({ ID: fc.constant('1.000:1'), SYSCALL: fc.jsonValue(), EXECVE: fc.jsonValue(), CWD: fc.jsonValue() }).map((o) => JSON.stringify(o)),
        ),
        (line) => {
          const parser = createLaurelParser({ defaultHost: 'h' });
          parser.push(line, 0, new Date(0));
          expect(parser.flush()).toEqual({ events: [], malformed: [] });
        },
      ),
      { numRuns: 300 },
    );
  });

  /** One event of the real laurel samples (test/fixtures/real/auditd/PROVENANCE.md), by its ID. */
  function realEvent(file: string, id: string): Record<string, unknown> {
    const url = new URL(`../../fixtures/real/auditd/${file}`, import.meta.url);
    const line = readFileSync(url, 'utf8').split('\n').find((l) => l.startsWith(`{"ID":"${id}"`));
    return JSON.parse(line!) as Record<string, unknown>;
  }
  const parseEvent = (event: Record<string, unknown>) =>
    createLaurelParser({ defaultHost: 'vm' }).push(JSON.stringify(event), 0, new Date(0));

  it('reads the arguments of execve-argv = ["string"] (EXECVE.ARGV_STR only)', () => {
    const out = parseEvent(realEvent('laurel-string.jsonl', '1796157393.185:487'));
    expect(out.malformed).toEqual([]);
    expect(out.events[0]).toMatchObject({ argv: ['tr', 'a-z', 'A-Z'], command: 'tr a-z A-Z', exe: '/usr/bin/tr' });
    expect(out.events[0]!.extra?.argv_inexact).toBeUndefined();
  });

  it('takes arguments holding spaces from the process title when it has them all', () => {
    const event = realEvent('laurel-string.jsonl', '1796157393.185:487');
    event.EXECVE = { argc: 3, ARGV_STR: 'sh -c echo "$HOME" | tr' };
    event.PROCTITLE = { ARGV: ['sh', '-c', 'echo "$HOME" | tr'] };
    expect(parseEvent(event).events[0]!.argv).toEqual(['sh', '-c', 'echo "$HOME" | tr']);
  });

  it('keeps the exact command line and says so when ARGV_STR cannot be split back exactly', () => {
    const event = realEvent('laurel-string.jsonl', '1796157393.185:487');
    event.EXECVE = { argc: 3, ARGV_STR: 'sh -c echo "$HOME" | tr' };
    event.PROCTITLE = { ARGV: ['sh', '-c', 'echo "$HO'] };
    const command = parseEvent(event).events[0]!;
    expect(command.command).toBe('sh -c echo "$HOME" | tr');
    expect(command.extra).toMatchObject({ argv_inexact: 'true' });
    expect(command.extra?.truncated).toBeUndefined();
  });

  it('names a failed execve after the PATH record with item 0, wherever it is in the list', () => {
    // A script whose interpreter does not exist: PATH item 0 is the script, item 1 the interpreter.
    const event = realEvent('laurel-array.jsonl', '1796157393.537:537');
    expect(parseEvent(event).events[0]!.argv).toEqual(['/tmp/vouch-broken-script.sh']);
    event.PATH = [...(event.PATH as unknown[])].reverse();
    expect(parseEvent(event).events[0]!.argv).toEqual(['/tmp/vouch-broken-script.sh']);
  });

  it('drops the marker laurel leaves where execve-argv-limit-bytes cut arguments out, and counts them', () => {
    const event = realEvent('laurel-string.jsonl', '1796157393.185:487');
    event.EXECVE = { argc: 6, ARGV: ['echo', 'a', { skipped_args: 3, skipped_bytes: 6 }, 'f'] };
    const command = parseEvent(event).events[0]!;
    expect(command.argv).toEqual(['echo', 'a', 'f']);
    expect(command.extra).toMatchObject({ truncated: 'true', skipped_args: '3' });
    event.EXECVE = { argc: 6, ARGV_STR: 'echo a <<< Skipped: args=3, bytes=6 >>> f' };
    expect(parseEvent(event).events[0]!).toMatchObject({ argv: ['echo', 'a', 'f'], extra: { skipped_args: '3' } });
  });

  it('keeps marker-like text an argument holds when the counts show laurel cut nothing', () => {
    const event = realEvent('laurel-string.jsonl', '1796157393.185:487');
    event.EXECVE = { argc: 7, ARGV_STR: 'echo <<< Skipped: args=9, bytes=1 >>> x' };
    const command = parseEvent(event).events[0]!;
    expect(command.argv).toEqual(['echo', '<<<', 'Skipped:', 'args=9,', 'bytes=1', '>>>', 'x']);
    expect(command.extra?.skipped_args).toBeUndefined();
  });
});
