import { describe, expect, it } from 'vitest';
import { createSudoJsonParser } from '../../../src/sources/parsers/sudo-json.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const parser = () => createSudoJsonParser(baseOptions);

const accept = {
  uuid: '9c3b9ec4-7bb1-4e3e-9a45-2a4f2c7a1f10',
  server_time: { seconds: 1795530300, nanoseconds: 0, iso8601: '20261124142500Z', localtime: 'Nov 24 14:25:00' },
  submit_time: { seconds: 1795530208, nanoseconds: 123456789, iso8601: '20261124142328Z', localtime: 'Nov 24 14:23:28' },
  submituser: 'alice',
  command: '/usr/bin/systemctl',
  runuser: 'root',
  runcwd: '/home/alice',
  ttyname: '/dev/pts/0',
  submithost: 'web-1',
  submitcwd: '/home/alice',
  runuid: 0,
  columns: 120,
  lines: 40,
  runargv: ['systemctl', 'restart', 'my service'],
  runenv: ['PATH=/usr/bin', 'TERM=xterm'],
};

describe('sudo JSON parser', () => {
  it('parses an accept record', () => {
    const { events, malformed } = run(parser(), [JSON.stringify({ accept })]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({
      time: new Date(1795530208123),
      host: 'web-1',
      user: 'alice',
      runAs: 'root',
      argv: ['systemctl', 'restart', 'my service'],
      command: 'systemctl restart my service',
      exe: '/usr/bin/systemctl',
      cwd: '/home/alice',
      sourceFormat: 'sudo-json',
      eventKey: `sudo-json:accept:${accept.uuid}`,
      extra: { sudo_event: 'accept', tty: '/dev/pts/0', submit_cwd: '/home/alice' },
    });
  });

  it('marks a reject as a denial and skips exit records', () => {
    const reject = { ...accept, uuid: 'r-1', reason: 'command not allowed' };
    const exit = { uuid: accept.uuid, exit_value: 0, run_time: { seconds: 1, nanoseconds: 0 }, submituser: 'alice' };
    const { events } = run(parser(), [JSON.stringify({ reject }), JSON.stringify({ exit })]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ sudoDenied: true, denialReason: 'command not allowed' });
  });

  it('keeps alerts that name a command and skips those that do not', () => {
    const withCommand = { ...accept, uuid: 'a-1', reason: 'problem with defaults entries' };
    const bare = { alert_time: accept.submit_time, reason: 'unable to open /etc/sudoers', submituser: 'alice' };
    const { events, malformed } = run(parser(), [JSON.stringify({ alert: withCommand }), JSON.stringify({ alert: bare })]);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.extra?.sudo_alert)).toEqual(['problem with defaults entries']);
  });

  it('accepts the @cee form sent over syslog', () => {
    const line = `Nov 24 14:23:28 web-1 sudo[4211]: @cee:${JSON.stringify({ sudo: { accept } })}`;
    const { events } = run(parser(), [line]);
    expect(events[0]).toMatchObject({ user: 'alice', pid: 4211, argv: accept.runargv });
  });

  it('reads sudo\'s own pretty-printed JSON log file, event by event', () => {
    const pretty = JSON.stringify({ accept }, null, 4).split('\n').slice(1, -1);
    const reject = JSON.stringify({ reject: { ...accept, uuid: 'r-2', reason: 'user NOT in sudoers' } }, null, 4)
      .split('\n')
      .slice(1, -1);
    pretty[pretty.length - 1] += ',';
    const file = ['{', ...pretty, ...reject, '}'];
    const p = parser();
    let offset = 0;
    const events = [];
    for (const [i, line] of file.entries()) {
      const out = p.push(line, offset, NOW);
      expect(out.malformed).toEqual([]);
      events.push(...out.events);
      if (i === 2) expect(p.lowWaterMark()).toBe(2);
      offset += line.length + 1;
    }
    expect(p.lowWaterMark()).toBeNull();
    expect(events.map((e) => [e.user, e.sudoDenied ?? false])).toEqual([
      ['alice', false],
      ['alice', true],
    ]);
  });

  it('reports an event left open at the end of the file as truncated', () => {
    const { malformed } = run(parser(), ['{', '    "accept": {', '        "submituser": "alice",']);
    expect(malformed.map((m) => m.reason)).toEqual(['truncated']);
  });

  it('reports records whose command, user, time or host cannot be read, and broken JSON, without throwing', () => {
    const { command: _command, ...withoutCommand } = accept;
    const lines = [
      JSON.stringify({ accept: { ...withoutCommand, runargv: 'rm -rf /' } }),
      JSON.stringify({ accept: { ...accept, submituser: 7 } }),
      JSON.stringify({ accept: { ...accept, submit_time: 'now' } }),
      JSON.stringify({ hello: 'world' }),
      '{"accept": {"submituser": "al',
      JSON.stringify({ accept: { ...accept, submithost: 7 } }),
      // An alert whose command is unreadable is never taken for one without a command.
      JSON.stringify({ alert: { ...withoutCommand, runargv: [1], alert_time: accept.submit_time } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['bad_json', 'bad_json', 'bad_json', 'unrecognized', 'truncated', 'bad_json', 'bad_json']);
    expect((malformed[0] as { detail?: string }).detail).toBe('accept record has neither runargv nor command (runargv must be an array of strings)');
  });

  it('keeps a record with an optional field of the wrong type, left out, and counts it as bad_field', () => {
    const lines = [
      JSON.stringify({ accept: { ...accept, runargv: 'systemctl restart x', runcwd: 5, ttyname: ['pts/0'] } }),
      JSON.stringify({ reject: { ...accept, uuid: 1, runuser: {}, reason: false } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events.map((e) => [e.argv, e.runAs, e.cwd, e.extra?.tty, e.sudoDenied, e.denialReason])).toEqual([
      [['/usr/bin/systemctl'], 'root', '/home/alice', undefined, undefined, undefined],
      [['systemctl', 'restart', 'my service'], null, '/home/alice', '/dev/pts/0', true, 'rejected'],
    ]);
    expect(malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['bad_field', 'kept without: runargv must be an array of strings; runcwd must be a string; ttyname must be a string'],
      ['bad_field', 'kept without: uuid must be a string; reason must be a string; runuser must be a string'],
    ]);
  });

  it('uses the compact iso8601 time when seconds are missing', () => {
    const rec = { ...accept, submit_time: { iso8601: '20261124142328Z' } };
    expect(run(parser(), [JSON.stringify({ accept: rec })]).events[0]!.time.toISOString()).toBe('2026-11-24T14:23:28.000Z');
  });

  it("skips other programs' syslog lines and sudo's PAM messages in the same file, silently", () => {
    // su and sudo PAM lines as Debian's rsyslog wrote them beside sudo's @cee messages (from an
    // earlier run of test/fixtures/real/sudo/make-samples.sh); the sshd line is made up.
    const lines = [
      '2026-12-01T20:35:12.662949+00:00 vm su[16844]: (to alice) root on none',
      '2026-12-01T20:35:12.667909+00:00 vm su[16844]: pam_unix(su-l:session): session opened for user alice(uid=1001) by (uid=0)',
      "2026-12-01T20:35:12.720725+00:00 vm sudo: pam_limits(sudo:session): Could not set limit for 'core' to soft=0, hard=-1: Operation not permitted; uid=1001,euid=0",
      'Dec  1 20:35:12 vm sshd[812]: Accepted publickey for alice from 10.0.0.5 port 52144 ssh2',
      `2026-12-01T20:35:12.720784+00:00 vm sudo: @cee:${JSON.stringify({ sudo: { accept } })}`,
    ];
    const { events, malformed } = run(parser(), lines);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.argv)).toEqual([accept.runargv]);
  });

  it("does not take another program's @cee message for sudo's", () => {
    const forged = `2026-12-01T20:35:12.720784+00:00 vm logger[900]: @cee:${JSON.stringify({ sudo: { accept } })}`;
    expect(run(parser(), [forged])).toEqual({ events: [], malformed: [] });
  });

  it("reports sudo's text format in a sudo-json source with a hint, instead of a JSON error", () => {
    const line = '2026-12-01T20:35:12.720784+00:00 vm sudo:    alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id';
    const { events, malformed } = run(parser(), [line]);
    expect(events).toEqual([]);
    expect(malformed).toMatchObject([{ reason: 'unrecognized', detail: expect.stringContaining('--format sudo') }]);
  });

  it('reads a @cee message a syslog daemon cut short as far as it goes, marked truncated', () => {
    const rec = { ...accept, runargv: ['/bin/echo', 'z'.repeat(9000)] };
    const full = `2026-12-01T20:35:12.720784+00:00 vm sudo: @cee:${JSON.stringify({ sudo: { accept: rec } })}`;
    const { events, malformed } = run(parser(), [full.slice(0, 8112)]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({ user: 'alice', runAs: 'root', extra: { truncated: 'true' } });
    expect(events[0]!.argv[0]).toBe('/bin/echo');
    expect(events[0]!.argv[1]).toMatch(/^z{7000,8999}$/);
  });

  it('still reports a cut message that lost the fields an event needs', () => {
    const cut = `2026-12-01T20:35:12.720784+00:00 vm sudo: @cee:{"sudo":{"accept":{"uuid":"9c3b9ec4","server_time":{"sec`;
    expect(run(parser(), [cut]).malformed).toMatchObject([{ reason: 'truncated', detail: expect.stringContaining('cut short') }]);
  });
});
