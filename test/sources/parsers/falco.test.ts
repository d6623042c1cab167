import { describe, expect, it } from 'vitest';
import { createFalcoParser } from '../../../src/sources/parsers/falco.js';
import { baseOptions, run } from './parser-harness.js';

const parser = () => createFalcoParser({ ...baseOptions, resolveUid: (uid) => (uid === 1000 ? 'alice' : null) });

const alert = {
  hostname: 'k8s-node-1',
  output:
    '14:23:28.123456789: Notice A shell was spawned in a container with an attached terminal (user=root user_loginuid=1000 k8s.ns=default k8s.pod=web container=3ad7b26ded6d shell=bash parent=runc cmdline=bash -i terminal=34816)',
  priority: 'Notice',
  rule: 'Terminal shell in container',
  source: 'syscall',
  tags: ['container', 'shell', 'mitre_execution', 'T1059'],
  time: '2026-11-24T14:23:28.123456789Z',
  output_fields: {
    'container.id': '3ad7b26ded6d',
    'container.image.repository': 'nginx',
    'evt.time': 1795530208123456800,
    'k8s.ns.name': 'default',
    'k8s.pod.name': 'web',
    'proc.cmdline': 'bash -i',
    'proc.exepath': '/usr/bin/bash',
    'proc.name': 'bash',
    'proc.pid': 4242,
    'proc.ppid': 4200,
    'proc.cwd': '/root/',
    'proc.tty': 34816,
    'user.loginuid': 1000,
    'user.loginname': '<NA>',
    'user.name': 'root',
  },
};

describe('Falco parser', () => {
  it('drops the slash Falco ends proc.cwd with, names uid 0 root, and says argv was split from text', () => {
    const lines = [
      JSON.stringify({ ...alert, output_fields: { ...alert.output_fields, 'proc.cwd': '/var/backups/', 'user.loginuid': 0, 'user.loginname': '<NA>' } }),
      JSON.stringify({ ...alert, output_fields: { ...alert.output_fields, 'proc.cwd': '/', 'proc.cmdline': 'id' } }),
    ];
    const { events } = run(parser(), lines);
    expect(events.map((e) => [e.cwd, e.user, e.extra?.argv_inexact])).toEqual([
      ['/var/backups', 'root', 'true'],
      ['/', 'alice', undefined],
    ]);
  });

  it('parses a process alert, keeping rule and priority', () => {
    const { events, malformed } = run(parser(), [JSON.stringify(alert)]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({
      time: new Date('2026-11-24T14:23:28.123Z'),
      host: 'k8s-node-1',
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      argv: ['bash', '-i'],
      exe: '/usr/bin/bash',
      cwd: '/root',
      pid: 4242,
      ppid: 4200,
      sourceFormat: 'falco',
      extra: {
        falco_rule: 'Terminal shell in container',
        falco_priority: 'Notice',
        falco_source: 'syscall',
        falco_tags: 'container,shell,mitre_execution,T1059',
        container_id: '3ad7b26ded6d',
        k8s_pod: 'web',
      },
    });
    expect(events[0]!.eventKey).toMatch(/^falco:[0-9a-f]{40}$/);
    expect(run(parser(), [JSON.stringify(alert)]).events[0]!.eventKey).toBe(events[0]!.eventKey);
  });

  it('prefers user.loginname and treats an unset loginuid as no user', () => {
    const named = { ...alert, output_fields: { ...alert.output_fields, 'user.loginname': 'bob' } };
    const unset = { ...alert, output_fields: { ...alert.output_fields, 'user.loginuid': -1 } };
    const { events } = run(parser(), [JSON.stringify(named), JSON.stringify(unset)]);
    expect(events.map((e) => [e.user, e.loginUid])).toEqual([
      ['bob', 1000],
      [null, null],
    ]);
  });

  it('accepts the falcosidekick webhook payload', () => {
    const payload = {
      uuid: '6d2b7c2e-1111-4c53-9a0d-7a1c2b3d4e5f',
      output: alert.output,
      priority: 'Critical',
      rule: 'Read sensitive file untrusted',
      time: '2026-11-24T14:23:29.000000001Z',
      source: 'syscall',
      hostname: 'k8s-node-2',
      tags: ['filesystem'],
      output_fields: {
        'proc.name': 'cat',
        'proc.args': '/etc/shadow',
        'proc.exe': 'cat',
        'proc.pid': '999',
        'user.name': 'root',
        'user.loginuid': '4294967295',
        'container.id': 'host',
      },
    };
    const event = run(parser(), [JSON.stringify(payload)]).events[0]!;
    expect(event).toMatchObject({
      host: 'k8s-node-2',
      argv: ['cat', '/etc/shadow'],
      exe: 'cat',
      user: null,
      pid: 999,
      extra: { falco_rule: 'Read sensitive file untrusted', falco_priority: 'Critical', falco_uuid: payload.uuid },
    });
  });

  it('skips alerts about something other than a process', () => {
    const k8s = { ...alert, source: 'k8s_audit', output_fields: { 'ka.verb': 'create', 'ka.user.name': 'admin' } };
    expect(run(parser(), [JSON.stringify(k8s)])).toEqual({ events: [], malformed: [] });
  });

  it('reports alerts whose rule, command, time or host cannot be read as bad_json', () => {
    const { 'proc.name': _name, ...withoutName } = alert.output_fields;
    const lines = [
      JSON.stringify({ ...alert, output_fields: 'bash -i' }),
      JSON.stringify({ ...alert, time: 'yesterday' }),
      JSON.stringify({ ...alert, rule: undefined }),
      JSON.stringify({ ...alert, hostname: ['k8s-node-1'] }),
      // An unreadable command is never taken for an alert about no process.
      JSON.stringify({ ...alert, output_fields: { ...withoutName, 'proc.cmdline': ['bash'] } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['bad_json', 'bad_json', 'bad_json', 'bad_json', 'bad_json']);
    expect((malformed[4] as { detail?: string }).detail).toBe('proc.cmdline or proc.name is required (output_fields.proc.cmdline must be a string or number)');
  });

  it('keeps an alert with an optional field of the wrong type, left out, and counts it as bad_field', () => {
    const lines = [
      JSON.stringify({ ...alert, output_fields: { ...alert.output_fields, 'proc.pid': 'abc', 'user.loginuid': 1.5 } }),
      JSON.stringify({ ...alert, priority: 3, output_fields: { ...alert.output_fields, 'proc.cmdline': ['bash'], 'proc.cwd': {} } }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events.map((e) => [e.argv, e.pid, e.loginUid, e.user, e.cwd, e.extra?.falco_priority])).toEqual([
      [['bash', '-i'], null, null, null, '/root', 'Notice'],
      [['bash'], 4242, 1000, 'alice', null, undefined],
    ]);
    expect(malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['bad_field', 'kept without: output_fields.proc.pid must be an integer; output_fields.user.loginuid must be an integer'],
      ['bad_field', 'kept without: output_fields.proc.cmdline must be a string or number; output_fields.proc.cwd must be a string or number; priority must be a string'],
    ]);
  });
});
