import { describe, expect, it } from 'vitest';
import { createSudoJournaldParser } from '../../../src/sources/parsers/sudo-journald.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const parser = () => createSudoJournaldParser(baseOptions);

function entry(fields: Record<string, unknown>): string {
  return JSON.stringify({
    __CURSOR: 's=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a8a3412b8fd8b8e9f5a1c0de;m=5f6d1a1c2;t=5e0f2b1c3d4e5;x=8b6e5c7d1a2b3c4d',
    __REALTIME_TIMESTAMP: '1795530208123456',
    _HOSTNAME: 'web-1',
    SYSLOG_IDENTIFIER: 'sudo',
    _PID: '4211',
    _AUDIT_LOGINUID: '1000',
    _COMM: 'sudo',
    ...fields,
  });
}

describe('sudo journald parser', () => {
  it('parses a sudo entry with the cursor as eventKey', () => {
    const line = entry({ MESSAGE: '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt upgrade' });
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events[0]).toMatchObject({
      time: new Date(1795530208123),
      host: 'web-1',
      user: 'alice',
      loginUid: 1000,
      runAs: 'root',
      cwd: '/home/alice',
      pid: 4211,
      argv: ['/usr/bin/apt', 'upgrade'],
      sourceFormat: 'sudo-journald',
    });
    expect(events[0]!.eventKey).toMatch(/^sudo-journald:s=739ad/);
  });

  it('decodes MESSAGE given as an array of bytes (not valid UTF-8)', () => {
    const text = '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo ';
    const bytes = [...Buffer.from(text), 0xff, 0x41, ...Buffer.from(' caf\u00e9')];
    const { events } = run(parser(), [entry({ MESSAGE: bytes })]);
    expect(events[0]!.argv).toEqual(['/bin/echo', '\ufffdA', 'caf\u00e9']);
  });

  it('marks denials and joins continued messages of the same pid', () => {
    const p = parser();
    const first = entry({ MESSAGE: '  mallory : command not allowed ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow' });
    const rest = entry({ MESSAGE: '  mallory : (command continued) /etc/gshadow', __CURSOR: 'next' });
    expect(p.push(first, 0, NOW).events).toEqual([]);
    expect(p.lowWaterMark()).toBe(0);
    expect(p.push(rest, 500, NOW).events).toEqual([]);
    const { events } = p.flush();
    expect(events[0]).toMatchObject({
      sudoDenied: true,
      denialReason: 'command not allowed',
      argv: ['/bin/cat', '/etc/shadow', '/etc/gshadow'],
    });
  });

  it('skips entries of other programs and sudo PAM messages', () => {
    const lines = [
      entry({ SYSLOG_IDENTIFIER: 'sshd', _COMM: 'sshd', MESSAGE: 'Accepted publickey for alice' }),
      entry({ MESSAGE: 'pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)' }),
    ];
    expect(run(parser(), lines)).toEqual({ events: [], malformed: [] });
  });

  it('treats an unset login uid as null and falls back to the default host', () => {
    const line = JSON.stringify({
      __REALTIME_TIMESTAMP: '1795530208000000',
      SYSLOG_IDENTIFIER: 'sudo',
      _AUDIT_LOGINUID: '4294967295',
      MESSAGE: '    root : TTY=console ; PWD=/ ; USER=root ; COMMAND=/bin/ls',
    });
    const event = run(parser(), [line]).events[0]!;
    expect(event).toMatchObject({ loginUid: null, host: 'default-host', user: 'root', pid: null });
    expect(event.eventKey).toMatch(/^sudo-journald:[0-9a-f]{40}$/);
  });

  it('reports malformed entries without throwing', () => {
    const lines = [
      '{"MESSAGE": "   alice : TTY',
      entry({ MESSAGE: 42 }),
      entry({ MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls', __REALTIME_TIMESTAMP: 'yesterday' }),
      entry({ MESSAGE: null }),
      '[1,2,3]',
    ];
    const { events, malformed } = run(parser(), lines);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['truncated', 'bad_json', 'bad_json', 'bad_json', 'bad_json']);
  });
});
