import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { createGoAuditParser } from '../../../src/sources/parsers/go-audit.js';

/** A go-audit group as slackhq/go-audit marshals it: numeric types, data after the header. */
function group(sequence: number, timestamp: string, messages: Array<[number, string]>, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    sequence,
    timestamp,
    messages: messages.map(([type, data]) => ({ type, data })),
    uid_map: { '0': 'root', '1000': 'alice', '4294967295': 'UNKNOWN_USER' },
    ...extra,
  });
}

const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();

const execGroup = (sequence: number, argvData: string, extra: Record<string, unknown> = {}, ppid = 900) =>
  group(
    sequence,
    '1700000100.250',
    [
      [1300, `arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=${ppid} pid=901 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts2 ses=12 comm="curl" exe="/usr/bin/curl" key="exec"`],
      [1309, argvData],
      [1307, `cwd=${hex('/home/alice/my dir')}`],
      [1302, 'item=0 name="/usr/bin/curl" inode=5 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL'],
      [1327, `proctitle=${hex('curl\0-s')}`],
    ],
    extra,
  );

describe('go-audit parser', () => {
  it('turns a group into a command named from uid_map', () => {
    const parser = createGoAuditParser({ defaultHost: 'fallback' });
    const line = execGroup(5151, `argc=3 a0="curl" a1="-s" a2=${hex('http://x.test/a b?c="d"')}`);
    const out = parser.push(line, 0, new Date(0));
    expect(out.malformed).toEqual([]);
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({
      argv: ['curl', '-s', 'http://x.test/a b?c="d"'],
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      cwd: '/home/alice/my dir',
      exe: '/usr/bin/curl',
      pid: 901,
      ppid: 900,
      host: 'fallback',
      sourceFormat: 'go-audit',
      eventKey: 'fallback:1700000100.250:5151',
      success: true,
      extra: { tty: 'pts2', ses: '12', key: 'exec' },
    });
    expect(out.events[0].time.toISOString()).toBe('2023-11-14T22:15:00.250Z');
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('uses the hostname field and split arguments', () => {
    const parser = createGoAuditParser({ defaultHost: 'fallback' });
    const arg = 'é'.repeat(30);
    const h = Buffer.from(arg).toString('hex');
    const data = `argc=2 a0="printf" a1_len=${h.length} a1[0]=${h.slice(0, 62)} a1[1]=${h.slice(62)}`;
    const [event] = parser.push(execGroup(7, data, { hostname: 'web-7' }), 0, new Date(0)).events;
    expect(event.host).toBe('web-7');
    expect(event.eventKey).toBe('web-7:1700000100.250:7');
    expect(event.argv).toEqual(['printf', arg]);
  });

  it('keeps an exec whose hostname is not a string, under the source host, and counts it as bad_field', () => {
    const parser = createGoAuditParser({ defaultHost: 'fallback' });
    const out = parser.push(execGroup(9, 'argc=2 a0="cat" a1="/etc/shadow"', { hostname: 42 }), 0, new Date(0));
    expect(out.events.map((event) => [event.host, event.argv])).toEqual([['fallback', ['cat', '/etc/shadow']]]);
    expect(out.malformed).toEqual([expect.objectContaining({ reason: 'bad_field', detail: expect.stringContaining('hostname must be a string') })]);
    const clean = createGoAuditParser({ defaultHost: 'fallback' }).push(execGroup(10, 'argc=2 a0="cat" a1="/etc/shadow"', { hostname: 'web-1' }), 0, new Date(0));
    expect(clean.malformed).toEqual([]);
  });

  it('keeps the first whole SYSCALL message of a group: a second one cut short is counted and ignored', () => {
    const parser = createGoAuditParser({ defaultHost: 'fallback' });
    const cut = 'arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=900 pid=7 au';
    const line = group(5152, '1700000100.250', [
      [1300, 'arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=900 pid=901 auid=1000 uid=0 euid=0 exe="/usr/bin/cat"'],
      [1309, 'argc=2 a0="cat" a1="/etc/shadow"'],
      [1300, cut],
    ]);
    const out = parser.push(line, 0, new Date(0));
    expect(out.events.map((e) => [e.user, e.runAs, e.pid])).toEqual([['alice', 'root', 901]]);
    expect(out.malformed.map((m) => m.reason)).toEqual(['duplicate_record']);
    const alone = parser.push(group(5153, '1700000100.250', [[1300, cut], [1309, 'argc=2 a0="cat" a1="/etc/shadow"']]), 1, new Date(0));
    expect(alone.events.map((e) => [e.user, e.pid])).toEqual([[null, 7]]);
    expect(alone.malformed.map((m) => m.reason)).toEqual(['bad_field']);
  });

  it('falls back to resolveUid when uid_map does not know a uid', () => {
    const parser = createGoAuditParser({ defaultHost: 'h', resolveUid: (uid) => (uid === 2000 ? 'carol' : null) });
    const line = group(8, '1700000100.300', [
      [1300, 'arch=c000003e syscall=59 success=no exit=-13 ppid=1 pid=2 auid=2000 uid=2000 euid=2000 ses=3 tty=(none) exe="/bin/sh" key=(null)'],
      [1309, 'argc=1 a0="/root/x"'],
    ]);
    const [event] = parser.push(line, 0, new Date(0)).events;
    expect(event).toMatchObject({ user: 'carol', runAs: 'carol', success: false, argv: ['/root/x'] });
    expect(event.extra).toEqual({ ses: '3' });
  });

  it('ignores groups that are not execs and reports bad lines', () => {
    const parser = createGoAuditParser({ defaultHost: 'h' });
    const now = new Date(0);
    const connect = group(9, '1700000100.400', [[1300, 'arch=c000003e syscall=42 success=yes exit=0 ppid=1 pid=2 auid=0 uid=0 euid=0 ses=1']]);
    expect(parser.push(connect, 0, now)).toEqual({ events: [], malformed: [] });
    expect(parser.push('{not json', 1, now).malformed[0]).toMatchObject({ reason: 'bad_json', offset: 1 });
    expect(parser.push('{"sequence":1}', 2, now).malformed[0].reason).toBe('unrecognized');
    expect(parser.push('[1,2]', 3, now).malformed[0].reason).toBe('unrecognized');
    const badHex = execGroup(10, 'argc=2 a0="ls" a1=ABC');
    expect(parser.push(badHex, 4, now).malformed[0].reason).toBe('bad_hex');
  });

  it('ties a sudo USER_CMD group to the execve it launched', () => {
    const parser = createGoAuditParser({ defaultHost: 'h' });
    const clock = new ManualClock(0);
    const userCmd = group(20, '1700000100.100', [
      [1123, `pid=900 uid=1000 auid=1000 ses=12 subj=unconfined msg='cwd="/home/alice" cmd=${hex('curl -s http://x')} exe="/usr/bin/sudo" terminal=pts/2 res=success'`],
    ]);
    expect(parser.push(userCmd, 0, clock.now()).events).toEqual([]);
    expect(parser.lowWaterMark()).toBe(0);
    const events = parser.push(execGroup(21, 'argc=3 a0="curl" a1="-s" a2="http://x"'), 500, clock.now()).events;
    expect(events).toHaveLength(1);
    expect(events[0].extra?.via).toBe('sudo');
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('reports a sudo denial and emits an unclaimed USER_CMD once the log moved eventTimeoutMs past it', () => {
    const parser = createGoAuditParser({ defaultHost: 'h', eventTimeoutMs: 1000 });
    const clock = new ManualClock(0);
    const cmd = (seq: number, res: string) =>
      group(seq, '1700000100.100', [[1123, `pid=900 uid=1000 auid=1000 ses=12 msg='cwd="/" cmd="reboot" terminal=pts/2 res=${res}'`]]);
    const login = (seq: number, timestamp: string) => group(seq, timestamp, [[1112, 'pid=1 uid=0 res=success']]);
    const denied = parser.push(cmd(30, 'failed'), 0, clock.now()).events;
    expect(denied[0]).toMatchObject({ sudoDenied: true, user: 'alice', argv: ['reboot'] });
    expect(parser.push(cmd(31, 'success'), 10, clock.now()).events).toEqual([]);
    // Read a minute later by the wall clock, 999 ms later in the log: still waiting.
    clock.advance(60_000);
    for (let i = 0; i < 50; i++) expect(parser.push(login(40 + i, '1700000101.099'), 20, clock.now()).events).toEqual([]);
    const later = Array.from({ length: 40 }, (_, i) => parser.push(login(100 + i, '1700000101.100'), 30, clock.now()).events).flat();
    expect(later.map((e) => e.eventKey)).toEqual(['h:1700000100.100:31']);
  });

  it('a backlog read slowly still ties a USER_CMD to its execve (the wall clock closes nothing)', () => {
    const parser = createGoAuditParser({ defaultHost: 'h', eventTimeoutMs: 1000 });
    const userCmd = group(20, '1700000100.200', [[1123, `pid=900 uid=1000 auid=1000 ses=12 msg='cwd="/" cmd=${hex('curl -s http://x')} terminal=pts/2 res=success'`]]);
    expect(parser.push(userCmd, 0, new Date(0)).events).toEqual([]);
    const events = parser.push(execGroup(21, 'argc=3 a0="curl" a1="-s" a2="http://x"'), 500, new Date(3_600_000)).events;
    expect(events.map((e) => e.extra?.via)).toEqual(['sudo']);
    expect(parser.flush().events).toEqual([]);
  });

  it('reads go-audit through syslog, on the syslog host, as syslog\'s word', async () => {
    const parser = createGoAuditParser({ defaultHost: 'fallback' });
    const now = new Date('2023-11-15T00:00:00Z');
    const exec = execGroup(5151, 'argc=2 a0="curl" a1="-s"');
    const denial = group(30, '1700000100.100', [[1123, `pid=900 uid=1000 auid=1000 ses=12 msg='cwd="/" cmd="reboot" terminal=pts/2 res=failed'`]]);
    const lines = [`Nov 14 22:15:00 web-7 go-audit[11358]: ${exec}`, `Nov 14 22:15:00 web-7 go-audit[11358]: ${denial}`, 'Nov 14 22:15:01 web-7 go-audit[11358]: starting up'];
    const outs = lines.map((line, i) => parser.push(line, i * 1000, now));
    expect(outs.flatMap((o) => o.events).map((e) => [e.host, e.user, e.command, e.attribution, e.sudoDenied ?? false])).toEqual([
      ['web-7', 'alice', 'curl -s', 'syslog-unverified', false],
      ['web-7', 'alice', 'reboot', 'syslog-unverified', true],
    ]);
    expect(outs.flatMap((o) => o.malformed).map((m) => m.reason)).toEqual(['unrecognized']);
    const { detectFormat } = await import('../../../src/sources/parsers/detect-format.js');
    expect(detectFormat([lines[0]!])).toBe('go-audit');
    // Any local user can log go-audit's JSON under their own name: that never decides a syslog file.
    const logged = `Nov 14 22:15:00 web-7 mallory: ${JSON.stringify({ sequence: 1, timestamp: '1.0', messages: [] })}`;
    const sudo = 'Nov 14 22:15:02 web-7 sudo[4242]:    alice : TTY=pts/3 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/useradd -o -u 0 backdoor';
    expect(detectFormat([logged, sudo])).toBe('sudo');
    const { createAutoParser } = await import('../../../src/sources/parsers/index.js');
    const auto = createAutoParser({ defaultHost: 'h' });
    const events = [logged, sudo].flatMap((line, i) => auto.push(line, i * 200, now).events);
    expect(auto.format).toBe('sudo');
    expect([...events, ...auto.flush().events].map((e) => e.command)).toEqual(['/usr/sbin/useradd -o -u 0 backdoor']);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ messages: [v], sequence: 1, timestamp: '1.000' }))), (line) => {
        const parser = createGoAuditParser({ defaultHost: 'h' });
        parser.push(line, 0, new Date(0));
        parser.flush();
      }),
      { numRuns: 300 },
    );
  });
});
