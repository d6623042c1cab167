import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import type { CommandEvent } from '../../../src/sources/command-event.js';
import { appendOutput, emptyOutput, parseBlock, type LogParser, type Malformed, type ParserOptions } from '../../../src/sources/parser.js';
import { lineBlock } from '../../../src/sources/line-block.js';
import { createAuditdParser, type AuditdParserOptions } from '../../../src/sources/parsers/auditd.js';
import { LOG_TIME_MIN_RECORD_GAP } from '../../../src/sources/parsers/log-clock.js';
import { execRecords } from './audit-writer.js';

// Real samples from elastic/go-libaudit (Apache-2.0); attribution in test/fixtures/go-libaudit/.
const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/go-libaudit/${name}`, import.meta.url)), 'utf8');

const SEP = '\x1d';

interface Run {
  events: CommandEvent[];
  malformed: Malformed[];
  parser: LogParser;
}

/** Feeds lines with byte offsets at a fixed time, then flushes. */
function parseAll(text: string, options: Partial<ParserOptions> = {}, flush = true): Run {
  const parser = createAuditdParser({ defaultHost: 'local', ...options });
  const run: Run = { events: [], malformed: [], parser };
  let offset = 0;
  const now = new Date(Date.UTC(2026, 0, 1));
  for (const line of text.split('\n')) {
    const out = parser.push(line, offset, now);
    run.events.push(...out.events);
    run.malformed.push(...out.malformed);
    offset += Buffer.byteLength(line) + 1;
  }
  if (flush) {
    const out = parser.flush();
    run.events.push(...out.events);
    run.malformed.push(...out.malformed);
  }
  return run;
}

const byKey = (events: CommandEvent[]) => new Map(events.map((e) => [e.eventKey, e]));

describe('auditd parser on real go-libaudit samples', () => {
  it('normal.log yields the two execs with argv, user, cwd and attribution', () => {
    const names: Record<number, string> = { 1000: 'andrew_kroh' };
    const { events, malformed } = parseAll(fixture('normal.log'), { resolveUid: (uid) => names[uid] ?? null });
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(2);
    const [grep, cat] = [...byKey(events).values()].sort((a, b) => a.eventKey.localeCompare(b.eventKey));
    expect(grep).toMatchObject({
      argv: ['grep', '--color=auto', 'mapping'],
      command: 'grep --color=auto mapping',
      user: 'andrew_kroh',
      loginUid: 1000,
      runAs: 'andrew_kroh',
      cwd: '/home/andrew_kroh',
      exe: '/usr/bin/grep',
      pid: 13393,
      ppid: 12041,
      success: true,
      host: 'local',
      eventKey: 'local:1492037291.036:59',
      sourceFormat: 'auditd',
      extra: { tty: 'pts1', ses: '802', key: 'user_commands' },
    });
    expect(grep.time.toISOString()).toBe('2017-04-12T22:48:11.036Z');
    expect(cat).toMatchObject({ argv: ['cat', 'securitybeat'], cwd: '/home/andrew_kroh', pid: 13392 });
  });

  it('out_of_order.log (interleaved records) gives the same commands as normal.log', () => {
    const normal = parseAll(fixture('normal.log')).events;
    const shuffled = parseAll(fixture('out_of_order.log')).events;
    const strip = (e: CommandEvent[]) => [...byKey(e).entries()].sort().map(([k, v]) => [k, v.argv, v.cwd, v.user]);
    expect(strip(shuffled)).toEqual(strip(normal));
  });

  it('without EOE records, events close by log order as later records arrive, never by the wall clock', () => {
    const lines = fixture('normal.log').split('\n');
    const read = (options: Partial<AuditdParserOptions>) => {
      const parser = createAuditdParser({ defaultHost: 'local', ...options });
      const clock = new ManualClock(0);
      const emitted: CommandEvent[] = [];
      let offset = 0;
      for (const line of lines) {
        emitted.push(...parser.push(line, offset, clock.now()).events);
        offset += line.length + 1;
        clock.advance(10_000);
      }
      return { emitted: emitted.map((e) => e.argv[0]), flushed: parser.flush().events.map((e) => e.argv[0]) };
    };
    // 18 lines read 10 s apart: the wall clock closes nothing; the end of the file closes both.
    expect(read({})).toEqual({ emitted: [], flushed: ['grep', 'cat'] });
    // With a gap of 3 records, each exec (lines 3-12) closes once 3 later records passed it.
    expect(read({ maxRecordGap: 3 })).toEqual({ emitted: ['grep', 'cat'], flushed: [] });
  });

  it('rhel7 sample: lone EXECVE records, hex args, sudo USER_CMD, and malformed lines', () => {
    const { events, malformed } = parseAll(fixture('audit-rhel7.log'));
    const commands = events.map((e) => e.command);
    expect(commands).toContain('auditctl -a exit,always -F arch=b32 -S execve');
    expect(commands).toContain('cat btest=test -f regex=8');
    expect(commands).toContain('grep --color=auto -e [:alpha:] /etc/passwd');
    const auditctl = events.find((e) => e.argv[0] === 'auditctl');
    // Its CWD record (same event id) sits earlier in the file.
    expect(auditctl?.cwd).toBe('/home/andrew_kroh');
    const jq = events.find((e) => e.argv[0] === 'jq');
    expect(jq?.argv[1]).toBe('.');
    expect(jq?.argv[2].startsWith('{\n        "dev": "08:01",')).toBe(true);
    const sudo = events.find((e) => e.extra?.via === 'sudo');
    expect(sudo).toMatchObject({
      argv: ['./metricbeat', '-c', 'mb.dev.yml'],
      user: '1000',
      loginUid: 1000,
      cwd: '/home/andrew_kroh',
      pid: 1382,
      eventKey: 'local:1481077231.363:475',
    });
    expect(events).toHaveLength(5);
    expect(malformed).toContainEqual(expect.objectContaining({ reason: 'unrecognized', sample: 'type=UNKNOWN[1329] msg=?' }));
    // A CWD whose SYSCALL never came is an incomplete event.
    expect(malformed).toContainEqual(expect.objectContaining({ reason: 'incomplete_event', sample: 'local:1500661699.656:1208725' }));
  });

  it('rhel6 sample: a hex USER_CMD from sudo becomes a command of the auid user', () => {
    const { events } = parseAll(fixture('audit-rhel6.log'), { resolveUid: (uid) => (uid === 700 ? 'nagios-admin' : null) });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      argv: ['/usr/lib64/nagios/plugins/check_asterisk_sip_peers', '-p', '107'],
      user: 'nagios-admin',
      cwd: '/',
      extra: { via: 'sudo', ses: '11988' },
    });
  });
});

describe('auditd parser on constructed records', () => {
  const base = { auid: 1000, uid: 1000, euid: 0, pid: 4242, ppid: 4000, cwd: Buffer.from('/home/alice') };

  it('ENRICHED lines with node= prefixes name users from the translated fields', () => {
    const lines = execRecords({
      ...base,
      node: 'web-1.example.com',
      id: '1700000000.123:77',
      argv: ['cat', '/etc/shadow'].map((s) => Buffer.from(s)),
      names: { auid: 'alice', uid: 'alice', euid: 'root' },
    });
    expect(lines[0]).toContain(`${SEP}ARCH=x86_64`);
    const { events, malformed } = parseAll(lines.join('\n'), { defaultHost: 'ignored' }, false);
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      host: 'web-1.example.com',
      user: 'alice',
      runAs: 'root',
      loginUid: 1000,
      argv: ['cat', '/etc/shadow'],
      eventKey: 'web-1.example.com:1700000000.123:77',
      extra: { key: 'exec', ses: '3', tty: 'pts0' },
    });
  });

  it('the same serial on two nodes is two events', () => {
    const a = execRecords({ ...base, node: 'a', id: '1700000000.000:5', argv: [Buffer.from('id')] });
    const b = execRecords({ ...base, node: 'b', id: '1700000000.000:5', argv: [Buffer.from('whoami')] });
    const interleaved = a.flatMap((line, i) => [line, b[i]]);
    const { events } = parseAll(interleaved.join('\n'));
    expect(events.map((e) => `${e.host} ${e.command}`).sort()).toEqual(['a id', 'b whoami']);
  });

  it('decodes hex arguments with spaces, quotes, control bytes and UTF-8', () => {
    const argv = ['sh', '-c', 'echo "hi there"; rm -rf ~', "it's", 'tab\there', 'naïve ☃', '<!channel>', ''];
    const lines = execRecords({ ...base, id: '1700000000.500:9', argv: argv.map((s) => Buffer.from(s)), cwd: Buffer.from('/tmp/a b') });
    expect(lines.find((l) => l.includes('type=EXECVE'))).toContain(`a3="it's"`);
    const { events } = parseAll(lines.join('\n'));
    expect(events[0].argv).toEqual(argv);
    expect(events[0].cwd).toBe('/tmp/a b');
  });

  it('reassembles an argument split over several EXECVE records exactly', () => {
    const long = Buffer.from('ä'.repeat(5000) + ' tail'); // 10005 bytes: split, and chunk edges cut UTF-8 characters
    const lines = execRecords({ ...base, id: '1700000000.600:10', argv: [Buffer.from('printf'), long, Buffer.from('x')], chunkChars: 6002 });
    const execve = lines.filter((l) => l.includes('type=EXECVE'));
    expect(execve.length).toBeGreaterThan(1);
    expect(execve.join('\n')).toContain('a1_len=20010 a1[0]=');
    expect(execve[1]).toMatch(/^type=EXECVE msg=audit\(1700000000\.600:10\): {2}a1\[/);
    const { events } = parseAll(lines.join('\n'));
    expect(events[0].argv).toEqual(['printf', long.toString('utf8'), 'x']);
  });

  it('joins quoted and hex chunks, each decoded on its own', () => {
    const id = '1700000000.650:11';
    const lines = [
      `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=1000 euid=1000 ses=1 tty=pts0 exe="/bin/echo" key=(null)`,
      `type=EXECVE msg=audit(${id}): argc=2 a0="echo" a1_len=11 a1[0]="abc"`,
      `type=EXECVE msg=audit(${id}):  a1[1]=20646566 a1[2]="ghi"`,
      `type=EOE msg=audit(${id}):`,
    ];
    const { events } = parseAll(lines.join('\n'));
    expect(events[0].argv).toEqual(['echo', 'abc defghi']);
    expect(events[0].extra?.key).toBeUndefined();
  });

  it('carries a 1 MB argument', () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 32 + ((i * 7919) % 95);
    const lines = execRecords({ ...base, id: '1700000000.700:12', argv: [Buffer.from('python3'), Buffer.from('-c'), big] });
    expect(lines.length).toBeGreaterThan(250);
    const { events, malformed } = parseAll(lines.join('\n'), {}, false);
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0].argv[2]).toBe(big.toString('latin1'));
  });

  it('recognises execve on aarch64', () => {
    const lines = execRecords({ ...base, arm: true, id: '1700000000.800:13', argv: [Buffer.from('uname'), Buffer.from('-a')] });
    expect(lines[0]).toContain('arch=c00000b7 syscall=221');
    expect(parseAll(lines.join('\n')).events[0].argv).toEqual(['uname', '-a']);
  });

  it('an unset auid is a system actor: user and loginUid null', () => {
    const lines = execRecords({ ...base, auid: 4294967295, ses: 4294967295, id: '1700000000.900:14', argv: [Buffer.from('logrotate')] });
    const [event] = parseAll(lines.join('\n'), { resolveUid: () => 'should-not-be-used' }).events;
    expect(event.user).toBeNull();
    expect(event.loginUid).toBeNull();
    expect(event.runAs).toBe('should-not-be-used');
    expect(event.extra?.ses).toBeUndefined();
  });

  it('names users by resolveUid, then uid 0 as root, then by the number; a throwing resolver is survived', () => {
    const lines = execRecords({ ...base, auid: 1234, euid: 0, id: '1700000001.000:15', argv: [Buffer.from('ls')] });
    const [named] = parseAll(lines.join('\n'), { resolveUid: (uid, host) => (uid === 1234 && host === 'local' ? 'bob' : null) }).events;
    expect(named.user).toBe('bob');
    // A RAW log names nobody: uid 0 is root everywhere, so rules written for root still match.
    expect(named.runAs).toBe('root');
    const [resolved] = parseAll(lines.join('\n'), { resolveUid: (uid) => (uid === 0 ? 'toor' : null) }).events;
    expect(resolved.runAs).toBe('toor');
    const [thrown] = parseAll(lines.join('\n'), {
      resolveUid: () => {
        throw new Error('nss down');
      },
    }).events;
    expect(thrown.user).toBe('1234');
  });

  it('a failed execve without EXECVE falls back to the PATH name', () => {
    const id = '1700000001.100:16';
    const lines = [
      `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=59 success=no exit=-2 items=1 ppid=1 pid=2 auid=1000 uid=1000 euid=1000 ses=1 tty=pts0 exe="/usr/bin/bash" key=(null)`,
      `type=CWD msg=audit(${id}): cwd="/tmp"`,
      `type=PATH msg=audit(${id}): item=0 name="/tmp/evil" nametype=UNKNOWN`,
      `type=PROCTITLE msg=audit(${id}): proctitle="bash"`,
      `type=EOE msg=audit(${id}):`,
    ];
    const [event] = parseAll(lines.join('\n')).events;
    expect(event).toMatchObject({ argv: ['/tmp/evil'], success: false, exe: '/usr/bin/bash', cwd: '/tmp' });
  });

  it("a failed execveat of a file descriptor (PATH without a name) is not shown as the caller's command", () => {
    // As the kernel logs os.execve(fd, ...) failing: the title and exe are the calling python's.
    const id = '1700000001.150:18';
    const lines = [
      `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=322 success=no exit=-2 items=1 ppid=1 pid=3 auid=1000 uid=1000 euid=1000 ses=1 tty=pts0 exe="/usr/bin/python3.11" key=(null)`,
      `type=CWD msg=audit(${id}): cwd="/tmp"`,
      `type=PATH msg=audit(${id}): item=0 name="" nametype=UNKNOWN`,
      `type=PROCTITLE msg=audit(${id}): proctitle=707974686F6E330072756E2E7079`,
      `type=EOE msg=audit(${id}):`,
    ];
    const [event] = parseAll(lines.join('\n')).events;
    expect(event).toMatchObject({ argv: [], command: '', success: false, exe: '/usr/bin/python3.11' });
  });

  it('skips records of other syscalls without holding them', () => {
    const id = '1700000001.200:17';
    const parser = createAuditdParser({ defaultHost: 'local' });
    const now = new Date(0);
    parser.push(`type=SYSCALL msg=audit(${id}): arch=c000003e syscall=2 success=yes exit=3 ppid=1 pid=2 auid=0 uid=0 euid=0 ses=1 exe="/bin/cat"`, 0, now);
    parser.push(`type=CWD msg=audit(${id}): cwd="/"`, 100, now);
    parser.push(`type=PATH msg=audit(${id}): item=0 name="/etc/passwd"`, 150, now);
    expect(parser.lowWaterMark()).toBeNull();
    expect(parser.push(`type=EOE msg=audit(${id}):`, 200, now)).toEqual({ events: [], malformed: [] });
    expect(parser.flush()).toEqual({ events: [], malformed: [] });
  });
});

describe('auditd parser: sudo', () => {
  const userCmd = (id: string, pid: number, cmdHex: string, res: string) =>
    `node=db1 type=USER_CMD msg=audit(${id}): pid=${pid} uid=1000 auid=1000 ses=7 subj=unconfined_u:unconfined_r:unconfined_t:s0 msg='cwd="/home/alice" cmd=${cmdHex} exe="/usr/bin/sudo" terminal=pts/0 res=${res}'${SEP}UID="alice" AUID="alice"`;
  const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();
  const child = (id: string, ppid: number, argv: string[]) =>
    execRecords({
      node: 'db1',
      id,
      argv: argv.map((a) => Buffer.from(a)),
      cwd: Buffer.from('/home/alice'),
      auid: 1000,
      uid: 0,
      euid: 0,
      pid: 5001,
      ppid,
      ses: 7,
      exe: '/usr/bin/rm',
      names: { auid: 'alice', uid: 'root', euid: 'root' },
    });

  function feed(parser: LogParser, lines: string[], clock: ManualClock) {
    const events: CommandEvent[] = [];
    lines.forEach((line, i) => events.push(...parser.push(line, i * 1000, clock.now()).events));
    return events;
  }

  it('USER_CMD and the execve it caused are one command, marked via sudo', () => {
    const parser = createAuditdParser({ defaultHost: 'local' });
    const clock = new ManualClock(0);
    const lines = [userCmd('1700000002.000:100', 5000, hex('rm -rf /srv/data'), 'success'), ...child('1700000002.010:101', 5000, ['rm', '-rf', '/srv/data'])];
    const events = feed(parser, lines, clock);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      argv: ['rm', '-rf', '/srv/data'],
      user: 'alice',
      runAs: 'root',
      host: 'db1',
      extra: { via: 'sudo', ses: '7' },
    });
    clock.advance(10_000);
    expect(parser.push('', 99_999, clock.now()).events).toEqual([]);
    expect(parser.flush().events).toEqual([]);
  });

  it('matches by command text when sudo runs the command under a pty monitor', () => {
    const parser = createAuditdParser({ defaultHost: 'local' });
    const clock = new ManualClock(0);
    const lines = [userCmd('1700000003.000:200', 6000, hex('rm -rf /srv/data'), 'success'), ...child('1700000003.010:201', 6001, ['rm', '-rf', '/srv/data'])];
    const events = feed(parser, lines, clock);
    expect(events).toHaveLength(1);
    expect(events[0].extra?.via).toBe('sudo');
  });

  it('a USER_CMD no execve claims is emitted on its own once later records pass it', () => {
    const parser = createAuditdParser({ defaultHost: 'local', maxRecordGap: 3 });
    const clock = new ManualClock(0);
    expect(feed(parser, [userCmd('1700000004.000:300', 7000, '"whoami"', 'success')], clock)).toEqual([]);
    expect(parser.lowWaterMark()).toBe(0);
    // The wall clock alone does nothing; three later records are within the gap.
    clock.advance(60_000);
    for (let i = 1; i <= 3; i++) expect(parser.push('', i, clock.now()).events).toEqual([]);
    const [event] = parser.push('', 4, clock.now()).events;
    expect(event).toMatchObject({ argv: ['whoami'], user: 'alice', success: true, cwd: '/home/alice', eventKey: 'db1:1700000004.000:300' });
    expect(event.sudoDenied).toBeUndefined();
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('a USER_CMD waits for the execve it caused when that event never gets its EOE (one command, not two)', () => {
    // A shipper that drops EOE records: the execve closes by the log alone, a few records after
    // the USER_CMD would go stale by the same rule.
    for (const gap of [{ maxRecordGap: 40 }, { eventTimeoutMs: 2000 }]) {
      const parser = createAuditdParser({ defaultHost: 'local', ...gap });
      const clock = new ManualClock(0);
      const records = child('1700000002.010:101', 5000, ['rm', '-rf', '/srv/data']).filter((l) => !l.includes('type=EOE'));
      const later = Array.from({ length: 200 }, (_, i) => `node=db2 type=EOE msg=audit(1700000060.000:${1000 + i}):`);
      const events = feed(parser, [userCmd('1700000002.000:100', 5000, hex('rm -rf /srv/data'), 'success'), ...records, ...later], clock);
      events.push(...parser.flush().events);
      expect(events.map((e) => [e.argv, e.extra?.via, e.runAs])).toEqual([[['rm', '-rf', '/srv/data'], 'sudo', 'root']]);
    }
  });

  it('a USER_CMD is not held by an unrelated exec of its host that opened long after it', () => {
    const parser = createAuditdParser({ defaultHost: 'local', maxRecordGap: 40 });
    const clock = new ManualClock(0);
    const other = execRecords({
      node: 'db1', id: '1700000002.500:150', argv: [Buffer.from('ls')], cwd: Buffer.from('/'), auid: 1001, uid: 1001, euid: 1001, pid: 7000, ppid: 1, ses: 9, noEoe: true,
    });
    const filler = (n: number, from: number) => Array.from({ length: n }, (_, i) => `node=db2 type=EOE msg=audit(1700000002.100:${from + i}):`);
    const lines = [userCmd('1700000002.000:100', 5000, '"whoami"', 'success'), ...filler(30, 1000), ...other, ...filler(60, 2000)];
    const events = feed(parser, lines, clock);
    events.push(...parser.flush().events);
    expect(events.map((e) => e.command).sort()).toEqual(['ls', 'whoami']);
    // The USER_CMD went out on its own at its usual time, before the other exec closed.
    expect(events[0]?.command).toBe('whoami');
  });

  it('an exec stamped before the USER_CMD is not its command, though its parent is the pid sudo runs in', () => {
    // `exec sudo /bin/echo $(python3 ...)`: python3 ran first, as a child of the shell that then
    // became sudo. The command sudo ran is a grandchild under its pty monitor.
    const parser = createAuditdParser({ defaultHost: 'local' });
    const clock = new ManualClock(0);
    const python = child('1700000002.000:99', 5000, ['python3', '-c', 'print(1)']);
    // Its event closes after the USER_CMD came (auditd writes the EOE once the process exits).
    const lines = [
      ...python.slice(0, -1),
      userCmd('1700000002.020:100', 5000, hex('rm -rf /srv/data'), 'success'),
      ...python.slice(-1),
      ...child('1700000002.030:103', 6001, ['rm', '-rf', '/srv/data']),
    ];
    const events = feed(parser, lines, clock);
    events.push(...parser.flush().events);
    expect(events.map((e) => [e.argv[0], e.extra?.via])).toEqual([
      ['python3', undefined],
      ['rm', 'sudo'],
    ]);
  });

  it('joins a USER_CMD whose command libaudit cut at 4,095 bytes to the execve, by its start', () => {
    const parser = createAuditdParser({ defaultHost: 'local' });
    const clock = new ManualClock(0);
    const long = `${'K'.repeat(5998)}é`;
    const cut = Buffer.from(`/bin/echo ${long}`).subarray(0, 4095);
    const lines = [userCmd('1700000002.000:100', 5000, cut.toString('hex').toUpperCase(), 'success'), ...child('1700000002.010:101', 6001, ['/bin/echo', long])];
    const events = feed(parser, lines, clock);
    events.push(...parser.flush().events);
    expect(events.map((e) => [e.argv[1]?.length, e.extra?.via])).toEqual([[5999, 'sudo']]);
  });

  it('says a USER_CMD on its own is split from text, and cut when libaudit cut it', () => {
    const parser = createAuditdParser({ defaultHost: 'local' });
    const clock = new ManualClock(0);
    const cut = `/bin/echo ${'K'.repeat(4085)}`;
    const events = feed(parser, [userCmd('1700000002.000:100', 5000, hex(cut), 'success'), userCmd('1700000003.000:200', 5001, hex('whoami'), 'success')], clock);
    events.push(...parser.flush().events);
    expect(events.map((e) => [e.argv.length, e.extra?.truncated, e.extra?.argv_inexact])).toEqual([
      [2, 'true', 'true'],
      [1, undefined, undefined],
    ]);
  });

  it('a denied sudo (res=failed) is emitted at once as a denial', () => {
    const parser = createAuditdParser({ defaultHost: 'local' });
    const out = parser.push(userCmd('1700000005.000:400', 8000, hex('cat /etc/shadow'), 'failed'), 0, new Date(0));
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({ sudoDenied: true, success: false, argv: ['cat', '/etc/shadow'], user: 'alice', extra: { via: 'sudo' } });
    expect(parser.lowWaterMark()).toBeNull();
  });

  it("takes sudo's two records of one denial (consecutive serials, same pid and text) as one denial", () => {
    // Debian's sudo 1.9.13p3 writes each refused command's USER_CMD twice.
    const parser = createAuditdParser({ defaultHost: 'local' });
    const denial = (id: string, pid: number, cmd: string) => parser.push(userCmd(id, pid, hex(cmd), 'failed'), 0, new Date(0)).events;
    expect(denial('1700000005.000:400', 8000, 'cat /etc/shadow')).toHaveLength(1);
    expect(denial('1700000005.000:401', 8000, 'cat /etc/shadow')).toEqual([]);
    // Another sudo process refusing the same command is another denial, and so is another command.
    expect(denial('1700000005.100:402', 8001, 'cat /etc/shadow')).toHaveLength(1);
    expect(denial('1700000005.100:403', 8001, 'cat /etc/gshadow')).toHaveLength(1);
  });
});

describe('auditd parser: timeouts, memory and checkpoints', () => {
  const spec = { auid: 1000, uid: 1000, euid: 1000, pid: 10, ppid: 1, cwd: Buffer.from('/') };

  /** EOE records of other events (each a record the parser reads) stamped `ms` after 1700000010. */
  const otherEoes = (count: number, ms: number, firstSerial: number) =>
    Array.from({ length: count }, (_, i) => `type=EOE msg=audit(${((1_700_000_010_000 + ms) / 1000).toFixed(3)}:${firstSerial + i}):`);

  it('closes an event whose EOE was lost once the log time moved eventTimeoutMs past it', () => {
    const parser = createAuditdParser({ defaultHost: 'h', eventTimeoutMs: 2000 });
    const lines = execRecords({ ...spec, id: '1700000010.000:1', argv: [Buffer.from('nc'), Buffer.from('-l')], noEoe: true });
    lines.forEach((l, i) => expect(parser.push(l, i * 100, new Date(0)).events).toEqual([]));
    // 1,999 ms later in log time, for many records: still held.
    for (const l of otherEoes(100, 1999, 10)) expect(parser.push(l, 900, new Date(0)).events).toEqual([]);
    const closing = otherEoes(LOG_TIME_MIN_RECORD_GAP + 2, 2000, 200).flatMap((l) => parser.push(l, 1000, new Date(0)).events);
    expect(closing.map((e) => e.command)).toEqual(['nc -l']);
    // A straggler of the closed event does not open a new one.
    parser.push('type=PROCTITLE msg=audit(1700000010.000:1): proctitle="nc"', 1100, new Date(0));
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('log time alone does not close an event within a few records of its last one', () => {
    const parser = createAuditdParser({ defaultHost: 'h', eventTimeoutMs: 2000 });
    const lines = execRecords({ ...spec, id: '1700000010.000:1', argv: [Buffer.from('nc')], noEoe: true });
    const [syscall, ...rest] = lines;
    parser.push(syscall!, 0, new Date(0));
    // A record stamped an hour later (another host's clock, a long syscall) sits in between.
    for (const l of otherEoes(LOG_TIME_MIN_RECORD_GAP - 2, 3_600_000, 10)) expect(parser.push(l, 1, new Date(0)).events).toEqual([]);
    rest.forEach((l) => parser.push(l, 2, new Date(0)));
    const [event] = parser.flush().events;
    expect(event).toMatchObject({ argv: ['nc'], cwd: '/' });
  });

  it('closes an event whose EOE was lost once maxRecordGap records followed its last one', () => {
    const parser = createAuditdParser({ defaultHost: 'h', maxRecordGap: 50 });
    const lines = execRecords({ ...spec, id: '1700000010.000:1', argv: [Buffer.from('nc'), Buffer.from('-l')], noEoe: true });
    lines.forEach((l, i) => parser.push(l, i, new Date(0)));
    // Records of the same second: only their number closes it.
    const others = otherEoes(51, 0, 10).map((l) => parser.push(l, 100, new Date(0)).events.map((e) => e.command));
    expect(others.slice(0, 50).flat()).toEqual([]);
    expect(others[50]).toEqual(['nc -l']);
  });

  it('lowWaterMark is the first line of the oldest event still held', () => {
    const parser = createAuditdParser({ defaultHost: 'h' });
    const now = new Date(0);
    const a = execRecords({ ...spec, id: '1700000020.000:1', argv: [Buffer.from('a')] });
    const b = execRecords({ ...spec, id: '1700000020.000:2', argv: [Buffer.from('b')] });
    expect(parser.lowWaterMark()).toBeNull();
    parser.push(a[0], 100, now);
    parser.push(b[0], 200, now);
    parser.push(a[1], 300, now);
    expect(parser.lowWaterMark()).toBe(100);
    parser.push(a[a.length - 1], 400, now); // EOE of a
    expect(parser.lowWaterMark()).toBe(200);
    parser.push(b[b.length - 1], 500, now);
    expect(parser.lowWaterMark()).toBeNull();
  });

  it('caps pending events: the oldest is closed early', () => {
    const parser = createAuditdParser({ defaultHost: 'h', maxPendingEvents: 2 });
    const now = new Date(0);
    parser.push('type=CWD msg=audit(1700000030.000:2): cwd="/"', 10, now);
    parser.push('type=CWD msg=audit(1700000030.000:3): cwd="/"', 20, now);
    const out = parser.push('type=CWD msg=audit(1700000030.000:4): cwd="/"', 30, now);
    expect(out.events.map((e) => e.command)).toEqual([]);
    expect(out.malformed).toEqual([{ reason: 'incomplete_event', sample: 'h:1700000030.000:2', offset: 10 }]);
  });

  it('evicts an exec event as a command, not a loss', () => {
    const parser = createAuditdParser({ defaultHost: 'h', maxPendingEvents: 1 });
    const now = new Date(0);
    execRecords({ ...spec, id: '1700000031.000:1', argv: [Buffer.from('kept')], noEoe: true }).forEach((l, i) => parser.push(l, i, now));
    const out = parser.push('type=CWD msg=audit(1700000031.000:2): cwd="/"', 10, now);
    expect(out.events.map((e) => e.command)).toEqual(['kept']);
  });
});

describe('auditd parser: malformed input', () => {
  const now = new Date(0);
  const reasonOf = (line: string) => createAuditdParser({ defaultHost: 'h' }).push(line, 7, now).malformed[0]?.reason;

  it('reports each kind of bad line and keeps going', () => {
    expect(reasonOf('hello world')).toBe('unrecognized');
    expect(reasonOf('\x00\x01\x02garbage\x7f')).toBe('binary');
    expect(reasonOf('type=SYSCALL arch=c000003e')).toBe('unrecognized');
    expect(reasonOf('type=EXECVE msg=audit(1700000000.000:1')).toBe('truncated');
    expect(reasonOf('type=EXECVE msg=audit(1700000000.000:1): argc=1 a0=414')).toBe('bad_hex');
    expect(reasonOf('type=EXECVE msg=audit(1700000000.000:1): argc=1 a0=4G')).toBe('bad_hex');
    expect(reasonOf('type=CWD msg=audit(1700000000.000:1): cwd="/tm\ufffdp"')).toBe('invalid_utf8');
    expect(reasonOf(`type=EXECVE msg=audit(1700000000.000:1): argc=1 a0="${'x'.repeat(1024 * 1024)}"`)).toBe('too_long');
    expect(reasonOf('type=EXECVE msg=audit(garbage:1): argc=1 a0="x"')).toBe('unrecognized');
    expect(reasonOf('type=USER_CMD msg=audit(1700000000.000:1): pid=1 uid=0 auid=0 ses=1 msg=\'cwd="/" cmd=ZZ res=success\'')).toBe('bad_hex');
    const m = createAuditdParser({ defaultHost: 'h' }).push('\x00\x01 binary', 7, now).malformed[0];
    expect(m.offset).toBe(7);
  });

  it('keeps an argument that is not hex as written, so the arguments after it still count', () => {
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1700000050.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0',
        'type=EXECVE msg=audit(1700000050.000:1): argc=3 a0="cat" a1=ZZ a2="/etc/shadow"',
        'type=EOE msg=audit(1700000050.000:1):',
      ].join('\n'),
    );
    expect(run.events.map((e) => e.argv)).toEqual([['cat', 'ZZ', '/etc/shadow']]);
    expect(run.malformed.map((m) => m.reason)).toEqual(['bad_hex']);
  });

  it('keeps a quoted argument cut with its line and counts the line as truncated', () => {
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1700000052.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0',
        'type=EXECVE msg=audit(1700000052.000:1): argc=2 a0="cat" a1="/etc/gs',
        'type=EOE msg=audit(1700000052.000:1):',
      ].join('\n'),
    );
    expect(run.events.map((e) => e.argv)).toEqual([['cat', '/etc/gs']]);
    expect(run.malformed.map((m) => m.reason)).toEqual(['truncated']);
  });

  it('counts an exec whose arguments are partly missing as incomplete: fewer than argc, or a hole in a split one', () => {
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1700000051.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0',
        'type=EXECVE msg=audit(1700000051.000:1): argc=3 a0="cat" a1="/etc/shadow"',
        'type=EOE msg=audit(1700000051.000:1):',
        'type=SYSCALL msg=audit(1700000051.000:2): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0',
        'type=EXECVE msg=audit(1700000051.000:2): argc=2 a0="cat" a1_len=22',
        'type=EXECVE msg=audit(1700000051.000:2): a1[1]=6861646F77',
        'type=EOE msg=audit(1700000051.000:2):',
      ].join('\n'),
    );
    expect(run.events.map((e) => [e.argv, e.extra?.truncated])).toEqual([
      [['cat', '/etc/shadow'], 'true'],
      [['cat', ''], 'true'],
    ]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['incomplete_event', 'an exec with some of its arguments missing'],
      ['incomplete_event', 'an exec with some of its arguments missing'],
    ]);
  });

  it('keeps the arguments past argc, so rules see them, and counts the record as bad_field', () => {
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1796157400.004:4): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=8 items=2 ppid=1 pid=4 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm="x" exe="/usr/bin/x" key=x',
        'type=EXECVE msg=audit(1796157400.004:4): argc=1 a0="cat" a1="/etc/shadow"',
        'type=EOE msg=audit(1796157400.004:4): ',
        // A continuation record ahead of the one with argc: the argument is past argc all the same.
        'type=SYSCALL msg=audit(1796157400.005:5): arch=c000003e syscall=59 success=yes exit=0 pid=5 auid=1001 uid=0 euid=0',
        'type=EXECVE msg=audit(1796157400.005:5):  a2="z"',
        'type=EXECVE msg=audit(1796157400.005:5): argc=2 a0="echo" a1="y"',
        'type=EOE msg=audit(1796157400.005:5): ',
      ].join('\n'),
    );
    expect(run.events.map((e) => [e.argv, e.extra?.truncated])).toEqual([
      [['cat', '/etc/shadow'], undefined],
      [['echo', 'y', 'z'], undefined],
    ]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['bad_field', 'argc=1, but the event has a1: kept, past argc'],
      ['bad_field', 'argc=2, but the event has a2: kept, past argc'],
    ]);
  });

  it('drops NUL bytes from an argument, quoted or hex, so a word cut by them still meets the rules, and counts the record', () => {
    const hexWithNul = `${Buffer.from('/etc/gsh').toString('hex')}00${Buffer.from('adow').toString('hex')}`.toUpperCase();
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1796157397.973:602): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=8 items=2 ppid=19817 pid=19818 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm="cat" exe="/usr/bin/cat" key="vouch-exec"',
        'type=EXECVE msg=audit(1796157397.973:602): argc=3 a0="cat" a1="/etc/sh\0\0\0\0\0adow" a2="x"',
        'type=CWD msg=audit(1796157397.973:602): cwd="/root"',
        'type=EOE msg=audit(1796157397.973:602): ',
        'type=SYSCALL msg=audit(1796157397.974:603): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1001 uid=0 euid=0',
        `type=EXECVE msg=audit(1796157397.974:603): argc=3 a0="cat" a1=${hexWithNul} a2_len=8 a2[0]="/roo\0" a2[1]=742F78`,
        'type=EOE msg=audit(1796157397.974:603): ',
      ].join('\n'),
    );
    expect(run.events.map((e) => e.argv)).toEqual([
      ['cat', '/etc/shadow', 'x'],
      ['cat', '/etc/gshadow', '/root/x'],
    ]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['binary', 'a1 held NUL bytes, which no argument can: kept without them'],
      ['binary', 'a1 held NUL bytes, which no argument can: kept without them'],
    ]);
  });

  it('lets a sound copy of an EXECVE record replace one that held a raw NUL byte, wherever the NUL was', () => {
    const syscall = 'type=SYSCALL msg=audit(1796157400.010:10): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1001 uid=0 euid=0';
    const sound = 'type=EXECVE msg=audit(1796157400.010:10): argc=2 a0="cat" a1="/etc/shadow"';
    const tail = ['type=CWD msg=audit(1796157400.010:10): cwd="/root"', 'type=EOE msg=audit(1796157400.010:10): '];
    for (const damaged of [
      'type=EXECVE msg=audit(1796157400.010:10): argc=2 a0="cat\0" a1="/tmp/x"',
      'type=EXECVE msg=audit(1796157400.010:10): argc=2 a0="cat" a1="/tmp/x"\0',
      'type=EXECVE msg=audit(1796157400.010:10): argc=3\0 a0="cat" a1="/tmp/x" a2="y"',
    ]) {
      const run = parseAll([syscall, damaged, sound, ...tail].join('\n'));
      expect(run.events.map((e) => e.argv), damaged).toEqual([['cat', '/etc/shadow']]);
      expect(run.malformed.map((m) => m.reason), damaged).toEqual(['binary', 'duplicate_record']);
    }
    // Without a sound copy, the damaged record's arguments still reach the rules (without the NUL).
    const alone = parseAll([syscall, 'type=EXECVE msg=audit(1796157400.010:10): argc=2 a0="cat" a1="/etc/shadow"\0', ...tail].join('\n'));
    expect(alone.events.map((e) => e.argv)).toEqual([['cat', '/etc/shadow']]);
    expect(alone.malformed.map((m) => [m.reason, m.detail])).toEqual([['binary', 'the record held NUL bytes, which the kernel never writes: its values are kept until a sound copy comes']]);
  });

  it('reads CR LF line endings as LF', () => {
    const records = [
      'type=SYSCALL msg=audit(1700000052.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0',
      `type=EXECVE msg=audit(1700000052.000:1): argc=2 a0="cat" a1=${Buffer.from('/etc/shadow').toString('hex').toUpperCase()}`,
      'type=CWD msg=audit(1700000052.000:1): cwd="/root"',
      'type=EOE msg=audit(1700000052.000:1):',
    ];
    const run = parseAll(records.join('\r\n'));
    expect(run.events.map((e) => [e.argv, e.cwd])).toEqual([[['cat', '/etc/shadow'], '/root']]);
    expect(run.malformed).toEqual([]);
    // The byte path the tailer and the scan use.
    const parser = createAuditdParser({ defaultHost: 'local' });
    const out = emptyOutput();
    const bytes = Buffer.from(records.join('\r\n') + '\r\n');
    parseBlock(parser, lineBlock(bytes, 0, bytes.length, 0), new Date(0), out);
    appendOutput(out, parser.flush());
    expect(out.events.map((e) => [e.argv, e.cwd])).toEqual([[['cat', '/etc/shadow'], '/root']]);
    expect(out.malformed).toEqual([]);
  });

  it('counts an exec whose SYSCALL record was lost: its user is unknown, not a system actor', () => {
    const run = parseAll(
      ['type=EXECVE msg=audit(1700000053.000:1): argc=2 a0="cat" a1="/etc/shadow"', 'type=CWD msg=audit(1700000053.000:1): cwd="/root"', 'type=EOE msg=audit(1700000053.000:1):'].join('\n'),
    );
    expect(run.events.map((e) => [e.argv, e.user])).toEqual([[['cat', '/etc/shadow'], null]]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([['incomplete_event', 'an exec without its SYSCALL record (who ran it is unknown)']]);
  });

  // A cat of /etc/shadow by auid 1001, and its SYSCALL record cut short (as a crash or a full disk leaves it).
  const SHADOW_SYSCALL =
    'type=SYSCALL msg=audit(1796157397.973:602): arch=c000003e syscall=59 success=yes exit=0 a0=55a0c8098f00 a1=55a0c80997d0 a2=55a0c8095c50 a3=8 items=2 ppid=19817 pid=19818 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=3 comm="cat" exe="/usr/bin/cat" key="vouch-exec"';
  const SHADOW_SYSCALL_CUT = 'type=SYSCALL msg=audit(1796157397.973:602): arch=c000003e syscall=59 success=yes exit=0 a0=55a0c8098f00 a1=55a0c80997d0 a2=55a0c8095c50 a3=8 items=2 ppid=19817 pid=19818 au';
  const SHADOW_REST = ['type=EXECVE msg=audit(1796157397.973:602): argc=2 a0="cat" a1="/etc/shadow"', 'type=CWD msg=audit(1796157397.973:602): cwd="/root"'];
  const SHADOW_EOE = 'type=EOE msg=audit(1796157397.973:602): ';
  const who = (e: CommandEvent) => [e.argv, e.user, e.runAs, e.pid, e.exe];

  it('counts an exec whose SYSCALL record was cut before its auid and uid as bad_field, and keeps it', () => {
    const run = parseAll([SHADOW_SYSCALL_CUT, ...SHADOW_REST, SHADOW_EOE].join('\n'));
    expect(run.events.map(who)).toEqual([[['cat', '/etc/shadow'], null, null, 19818, null]]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([['bad_field', "kept without: the SYSCALL record's auid, uid and euid (cut short?)"]]);
  });

  it('keeps the first whole SYSCALL record of an event: a later copy cut short is counted and ignored', () => {
    const run = parseAll([SHADOW_SYSCALL, ...SHADOW_REST, SHADOW_SYSCALL_CUT.replace('pid=19818 au', 'pid=1'), SHADOW_EOE].join('\n'));
    expect(run.events.map(who)).toEqual([[['cat', '/etc/shadow'], '1001', 'root', 19818, '/usr/bin/cat']]);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([['duplicate_record', 'a second SYSCALL record for the event: ignored, the first is kept']]);
    const twice = parseAll([SHADOW_SYSCALL, ...SHADOW_REST, SHADOW_SYSCALL.replace('pid=19818', 'pid=4'), SHADOW_EOE].join('\n'));
    expect(twice.events.map(who)).toEqual([[['cat', '/etc/shadow'], '1001', 'root', 19818, '/usr/bin/cat']]);
    expect(twice.malformed.map((m) => m.reason)).toEqual(['duplicate_record']);
  });

  it('lets a whole SYSCALL record stand in for a first one cut short', () => {
    const run = parseAll([SHADOW_SYSCALL_CUT, ...SHADOW_REST, SHADOW_SYSCALL, SHADOW_EOE].join('\n'));
    expect(run.events.map(who)).toEqual([[['cat', '/etc/shadow'], '1001', 'root', 19818, '/usr/bin/cat']]);
    expect(run.malformed.map((m) => m.reason)).toEqual(['bad_field', 'duplicate_record']);
  });

  it('keeps the first CWD record of an event: a later copy cut short is counted and ignored', () => {
    const cwd = 'type=CWD msg=audit(1796157393.057:461): cwd=2F746D702F6469722077697468207370616365';
    const run = parseAll(
      [
        'type=SYSCALL msg=audit(1796157393.057:461): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1001 uid=1001 euid=1001',
        'type=EXECVE msg=audit(1796157393.057:461): argc=1 a0="ls"',
        cwd,
        cwd.slice(0, cwd.length - 16),
        'type=EOE msg=audit(1796157393.057:461): ',
      ].join('\n'),
    );
    expect(run.events.map((e) => e.cwd)).toEqual(['/tmp/dir with space']);
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([['duplicate_record', 'a second CWD record for the event: ignored, the first is kept']]);
  });

  it('keeps the first value of each argument: a damaged copy of an EXECVE line later in the event is counted and ignored', () => {
    // Real records (test/fixtures/real/auditd/PROVENANCE.md); the event has no EOE, so it is still
    // open when the copy comes: the first half of its EXECVE line glued to the line after it.
    const lines = readFileSync(fileURLToPath(new URL('../../fixtures/real/auditd/audit-enriched.log', import.meta.url)), 'utf8').split('\n');
    const execve = lines[14]!;
    expect(execve).toMatch(/^type=EXECVE msg=audit\(1796157392\.957:435\): argc=4 .* a3=6364/);
    const damaged = [...lines.slice(0, 372), execve.slice(0, execve.length >> 1) + lines[15], ...lines.slice(372)];
    const key = 'local:1796157392.957:435';
    const good = byKey(parseAll(lines.join('\n')).events).get(key)!;
    const run = parseAll(damaged.join('\n'));
    expect(byKey(run.events).get(key)).toEqual(good);
    expect(good.argv[3]).toBe('cd /tmp && script -qec sudo\\ /usr/bin/id\\  /dev/null');
    expect(run.malformed.map((m) => [m.reason, m.detail])).toEqual([['duplicate_record', 'a second argc for the event: ignored, the first is kept']]);
  });

  it('a second value of an argument or chunk is ignored, unless the first was damaged and it is sound', () => {
    const head = 'type=SYSCALL msg=audit(1700000054.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=9 auid=1000 uid=0 euid=0';
    const execve = (body: string) => `type=EXECVE msg=audit(1700000054.000:1): ${body}`;
    const eoe = 'type=EOE msg=audit(1700000054.000:1):';
    const argvOf = (...bodies: string[]) => {
      const run = parseAll([head, ...bodies.map(execve), eoe].join('\n'));
      return [run.events.map((e) => e.argv), run.malformed.map((m) => [m.reason, m.detail])];
    };
    expect(argvOf('argc=2 a0="cat" a1="/etc/shadow"', 'a1=2F746D70')).toEqual([
      [['cat', '/etc/shadow']],
      [['duplicate_record', 'a second value for a1: ignored, the first is kept']],
    ]);
    expect(argvOf('argc=2 a0="cat" a1=2F6574632F73686164type=CWD', 'a1=2F6574632F736861646F77')).toEqual([
      [['cat', '/etc/shadow']],
      [['bad_hex', undefined], ['duplicate_record', 'a second value for a1: used in place of the first, which was damaged']],
    ]);
    expect(argvOf('argc=2 a0="cat" a1="/etc/sha', 'a1="/etc/shadow"', 'a1=5A5A')).toEqual([
      [['cat', '/etc/shadow']],
      [['truncated', undefined], ['duplicate_record', 'a second value for a1: used in place of the first, which was damaged'], ['duplicate_record', 'a second value for a1: ignored, the first is kept']],
    ]);
    expect(argvOf('argc=2 a0="cat" a1_len=22 a1[0]=2F6574632F', 'a1[1]=736861646F77', 'a1[1]=7A7A')).toEqual([
      [['cat', '/etc/shadow']],
      [['duplicate_record', 'a second value for a1[1]: ignored, the first is kept']],
    ]);
    expect(argvOf('argc=2 a0="cat" a1_len=22 a1[0]=2F6574632F', 'a1[1]=7368616ZZZ', 'a1[1]=736861646F77')).toEqual([
      [['cat', '/etc/shadow']],
      [['bad_hex', undefined], ['duplicate_record', 'a second value for a1[1]: used in place of the first, which was damaged']],
    ]);
  });

  it('accepts lower-case hex and ignores blank lines', () => {
    const parser = createAuditdParser({ defaultHost: 'h' });
    expect(parser.push('', 0, now)).toEqual({ events: [], malformed: [] });
    const id = '1700000040.000:1';
    parser.push(`type=SYSCALL msg=audit(${id}): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=5 uid=5 euid=5 ses=1 exe=2f62696e2f6c73`, 1, now);
    parser.push(`type=EXECVE msg=audit(${id}): argc=2 a0="ls" a1=2d6c2061`, 2, now);
    const [event] = parser.push(`type=EOE msg=audit(${id}):`, 3, now).events;
    expect(event.argv).toEqual(['ls', '-l a']);
    expect(event.exe).toBe('/bin/ls');
  });

  it('decodes multi-key rule keys', () => {
    const id = '1515708162.888:124507';
    const lines = [
      `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=5820 pid=5821 auid=1002 uid=0 gid=0 euid=0 tty=pts1 ses=194 comm="docker" exe="/usr/bin/docker" key=65786563013634626974`,
      `type=EXECVE msg=audit(${id}): argc=3 a0="docker" a1="inspect" a2="721df12151a7"'`,
      `type=EOE msg=audit(${id}):`,
    ];
    const { events } = parseAll(lines.join('\n'));
    expect(events[0].extra?.key).toBe('exec,64bit');
    expect(events[0].argv).toEqual(['docker', 'inspect', '721df12151a7']);
  });
});

describe('malformed samples', () => {
  it('are escaped, so a hostile line cannot carry NUL or terminal escapes into logs and the database', () => {
    const parser = createAuditdParser({ defaultHost: 'h' });
    const out = parser.push('type=\u0000\u001b[2J msg=garbage', 0, new Date(0));
    expect(out.malformed).toHaveLength(1);
    expect(out.malformed[0]?.sample).not.toMatch(/[\u0000-\u001f]/);
    expect(out.malformed[0]?.sample).toContain('\\x1b');
  });
});
