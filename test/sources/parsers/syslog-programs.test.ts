import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineBlock } from '../../../src/sources/line-block.js';
import { emptyOutput } from '../../../src/sources/parser.js';
import { formatAutoWouldChoose } from '../../../src/sources/parsers/auto-parser.js';
import { createAutoParser } from '../../../src/sources/parsers/index.js';
import { openLog } from '../../../src/sources/read-log.js';
import { run } from './parser-harness.js';

const NOW = new Date('2023-11-15T00:00:00Z');

/** A go-audit exec group as go-audit logs it through syslog. */
function goAuditLine(sequence: number, argv: readonly string[], program = 'go-audit'): string {
  const execve = `argc=${argv.length} ${argv.map((arg, i) => `a${i}="${arg}"`).join(' ')}`;
  const group = {
    sequence,
    timestamp: '1700000100.100',
    messages: [
      { type: 1300, data: `arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=${4000 + sequence} auid=1000 uid=1000 euid=1000 ses=3 tty=pts1 comm="x" exe="/usr/bin/x"` },
      { type: 1309, data: execve },
      { type: 1320, data: '' },
    ],
    uid_map: { '1000': 'alice' },
  };
  return `Nov 14 22:15:00 web-7 ${program}[11358]: ${JSON.stringify(group)}`;
}

const SUDO = 'Nov 14 22:15:02 web-7 sudo[4242]:    alice : TTY=pts/3 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/useradd -o -u 0 backdoor';
const SSHD = 'Nov 14 22:15:01 web-7 sshd[900]: Accepted publickey for alice from 10.0.0.9 port 50000 ssh2';
/** What any local user can write: `logger -t go-audit '{"sequence":1,...}'`. */
const FORGED_GO_AUDIT = `Nov 14 22:15:00 web-7 go-audit[31337]: ${JSON.stringify({ sequence: 1, timestamp: '1.0', messages: [] })}`;
/** What any local user can write: `logger -t sudo '   bob : TTY=...'`. */
const FORGED_SUDO = 'Nov 14 22:15:00 web-7 sudo[31337]:    bob : TTY=pts/9 ; PWD=/ ; USER=root ; COMMAND=/bin/true';

describe('auto on a syslog file reads every program it knows there, whichever line came first', () => {
  it('a go-audit line logged by anyone first does not turn the file away from sudo', () => {
    const { events, malformed } = run(createAutoParser({ defaultHost: 'h' }), [FORGED_GO_AUDIT, SSHD, SUDO], NOW);
    expect(events.map((e) => [e.sourceFormat, e.command])).toEqual([['sudo', '/usr/sbin/useradd -o -u 0 backdoor']]);
    expect(malformed).toEqual([]);
  });

  it('a sudo line logged by anyone first does not blind the file\'s go-audit events', () => {
    const parser = createAutoParser({ defaultHost: 'h' });
    const { events } = run(parser, [FORGED_SUDO, goAuditLine(7, ['curl', '-s']), SSHD, goAuditLine(8, ['id'])], NOW);
    expect(parser.format).toBe('sudo');
    // sudo's line is held for a `(command continued)` part, so it comes out last.
    expect(events.map((e) => [e.sourceFormat, e.command])).toEqual([
      ['go-audit', 'curl -s'],
      ['go-audit', 'id'],
      ['sudo', '/bin/true'],
    ]);
    expect(events.filter((e) => e.sourceFormat === 'go-audit').map((e) => e.attribution)).toEqual(['syslog-unverified', 'syslog-unverified']);
  });

  it('a syslog file without sudo lines yet still reads go-audit lines that come later', () => {
    const preamble = Array.from({ length: 50 }, (_, i) => SSHD.replace('[900]', `[${i}]`));
    const { events, malformed } = run(createAutoParser({ defaultHost: 'h' }), [...preamble, goAuditLine(9, ['whoami']), SUDO], NOW);
    expect(events.map((e) => e.command)).toEqual(['whoami', '/usr/sbin/useradd -o -u 0 backdoor']);
    // Other programs' lines are not damage in a syslog file, under either program's reading.
    expect(malformed).toEqual([]);
  });

  it('reads a block of bytes as it reads the lines one by one', () => {
    const lines = [goAuditLine(7, ['curl', '-s']), SSHD, SUDO, goAuditLine(8, ['id']), FORGED_SUDO, SSHD];
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const byLine = run(createAutoParser({ defaultHost: 'h' }), lines, NOW);
    const parser = createAutoParser({ defaultHost: 'h' });
    const out = emptyOutput();
    parser.pushBlock!(lineBlock(bytes, 0, bytes.length, 0), NOW, out);
    const rest = parser.flush();
    const commands = (events: typeof out.events) => events.map((e) => [e.sourceFormat, e.command, e.eventKey]);
    expect(commands([...out.events, ...rest.events])).toEqual(commands(byLine.events));
    expect(byLine.events).toHaveLength(4);
  });

  it('reads many small blocks of one large buffer in linear time (an HTTP body cut between wrappers)', () => {
    const lines = [SUDO, ...Array.from({ length: 60_000 }, (_, i) => `Nov 14 22:15:03 web-7 sshd[${i}]: session opened for user bob from 10.0.0.1`), goAuditLine(9, ['id'])];
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const parser = createAutoParser({ defaultHost: 'h' });
    const out = emptyOutput();
    // CPU time, not wall time: a loaded machine must not fail it.
    const started = process.cpuUsage();
    // One block per line, as /ingest hands the raw lines between shippers' wrapper lines.
    for (let pos = 0; pos < bytes.length; ) {
      const next = bytes.indexOf(10, pos) + 1;
      parser.pushBlock!(lineBlock(bytes, pos, next, pos), NOW, out);
      pos = next;
    }
    const rest = parser.flush();
    // Each block searched its markers to the end of the buffer: 60k blocks of a 4 MiB body took seconds.
    const spent = process.cpuUsage(started);
    expect((spent.user + spent.system) / 1000).toBeLessThan(2000);
    expect([...out.events, ...rest.events].map((e) => e.command).sort()).toEqual(['/usr/sbin/useradd -o -u 0 backdoor', 'id']);
  });

  it('a go-audit file read through syslog is still go-audit: genuine lines decide it', () => {
    const lines = [goAuditLine(7, ['curl', '-s']), SSHD];
    expect(formatAutoWouldChoose(lines)).toBe('go-audit');
    const parser = createAutoParser({ defaultHost: 'h' });
    const { events, malformed } = run(parser, lines, NOW);
    expect(parser.format).toBe('go-audit');
    expect(events.map((e) => e.command)).toEqual(['curl -s']);
    expect(malformed).toEqual([]);
  });
});

describe("auto on a syslog file that mixes sudo's two formats", () => {
  // Real rsyslog lines of sudo 1.9.13p3, one with `Defaults log_format=json`, one without.
  const json = "2026-12-08T05:03:56.765095+00:00 vm sudo: @cee:{\"sudo\":{\"accept\":{\"uuid\":\"b48a0fd2ee-d92c-479a-5202-e23affff8d\",\"server_time\":{\"seconds\":1796706236,\"nanoseconds\":765061802,\"iso8601\":\"20261208050356Z\",\"localtime\":\"Dec  8 05:03:56\"},\"submit_time\":{\"seconds\":1796706236,\"nanoseconds\":763988643,\"iso8601\":\"20261208050356Z\",\"localtime\":\"Dec  8 05:03:56\"},\"submituser\":\"pauser\",\"command\":\"/usr/bin/id\",\"runuser\":\"#12345\",\"runcwd\":\"/tmp\",\"ttyname\":\"/dev/pts/0\",\"submithost\":\"vm\",\"submitcwd\":\"/tmp\",\"runuid\":12345,\"columns\":80,\"lines\":24,\"runargv\":[\"/usr/bin/id\"],\"runenv\":[\"TERM=xterm\",\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"MAIL=/var/mail/#12345\",\"LOGNAME=#12345\",\"USER=#12345\",\"HOME=/\",\"SHELL=/bin/sh\",\"SUDO_COMMAND=/usr/bin/id\",\"SUDO_USER=pauser\",\"SUDO_UID=1001\",\"SUDO_GID=1001\"]}}}";
  const text = '2026-12-08T05:09:29.219983+00:00 vm sudo:  pauser2 : HOST=vm ; TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id -u';
  const sshd = '2026-12-08T05:09:30.000000+00:00 vm sshd[900]: Accepted publickey for alice from 10.0.0.9 port 50000 ssh2';

  it.each([
    ['JSON first', [json, sshd, text]],
    ['text first', [text, sshd, json]],
  ])('reads each line in its own format, %s', (_order, lines) => {
    const { events, malformed } = run(createAutoParser({ defaultHost: 'h' }), lines, NOW);
    expect(events.map((e) => [e.sourceFormat, e.user, e.command]).sort()).toEqual([
      ['sudo', 'pauser2', '/usr/bin/id -u'],
      ['sudo-json', 'pauser', '/usr/bin/id'],
    ]);
    expect(malformed).toEqual([]);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const parser = createAutoParser({ defaultHost: 'h' });
    const out = emptyOutput();
    parser.pushBlock!(lineBlock(bytes, 0, bytes.length, 0), NOW, out);
    const rest = parser.flush();
    expect([...out.events, ...rest.events].map((e) => e.eventKey).sort()).toEqual(events.map((e) => e.eventKey).sort());
  });
});

describe('a command reading a syslog file with --format auto', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-syslog-programs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads both programs from the file, whichever comes first', async () => {
    for (const [name, lines] of [
      ['go-audit-first.log', [FORGED_GO_AUDIT, SUDO, goAuditLine(8, ['id'])]],
      ['sudo-first.log', [FORGED_SUDO, goAuditLine(7, ['curl', '-s'])]],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, lines.join('\n') + '\n');
      const log = await openLog(file, { format: 'auto', parser: { defaultHost: 'h' }, clock: { now: () => NOW } });
      const commands: string[] = [];
      for await (const batch of log) for (const event of batch.events) commands.push(`${event.sourceFormat}: ${event.command}`);
      expect(commands.length, name).toBe(2);
      expect(commands.some((c) => c.startsWith('sudo: ')), name).toBe(true);
      expect(commands.some((c) => c.startsWith('go-audit: ')), name).toBe(true);
    }
  });
});
