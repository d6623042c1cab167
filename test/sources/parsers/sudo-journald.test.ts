import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sudoPartLimit } from '../../../src/sources/parsers/sudo-message.js';
import { createSudoJournaldParser } from '../../../src/sources/parsers/sudo-journald.js';
import { NOW, baseOptions, run } from './parser-harness.js';

const parser = () => createSudoJournaldParser(baseOptions);

/**
 * An entry as `journalctl -o json` prints sudo's own message: every value a string, journald's
 * trusted fields (leading underscore) taken from the sender's credentials.
 */
function entry(fields: Record<string, unknown>): string {
  return JSON.stringify({
    __CURSOR: 's=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a8a3412b8fd8b8e9f5a1c0de;m=5f6d1a1c2;t=5e0f2b1c3d4e5;x=8b6e5c7d1a2b3c4d',
    __REALTIME_TIMESTAMP: '1795530208123456',
    __MONOTONIC_TIMESTAMP: '25613378498',
    _BOOT_ID: '6c7c6013a8a3412b8fd8b8e9f5a1c0de',
    _MACHINE_ID: '2f3a9c1e8b7d4e6f9a0b1c2d3e4f5a6b',
    _HOSTNAME: 'web-1',
    PRIORITY: '5',
    SYSLOG_FACILITY: '10',
    SYSLOG_IDENTIFIER: 'sudo',
    _TRANSPORT: 'syslog',
    _PID: '4211',
    _UID: '0',
    _GID: '1000',
    _COMM: 'sudo',
    _EXE: '/usr/bin/sudo',
    _CMDLINE: 'sudo apt upgrade',
    _CAP_EFFECTIVE: '1ffffffffff',
    _AUDIT_SESSION: '3',
    _AUDIT_LOGINUID: '1000',
    _SYSTEMD_CGROUP: '/user.slice/user-1000.slice/session-3.scope',
    _SYSTEMD_SESSION: '3',
    _SYSTEMD_OWNER_UID: '1000',
    _SYSTEMD_UNIT: 'session-3.scope',
    _SYSTEMD_SLICE: 'user-1000.slice',
    _SYSTEMD_USER_SLICE: '-.slice',
    _SOURCE_REALTIME_TIMESTAMP: '1795530208123400',
    ...fields,
  });
}

/**
 * What `logger -t sudo "   alice : ... COMMAND=/usr/bin/cat /etc/shadow"` run by mallory (uid
 * 1001) leaves: the identifier and the text are hers to choose, the trusted fields are not.
 */
function loggerForgery(fields: Record<string, unknown> = {}): string {
  return entry({
    __CURSOR: 's=739ad463348b4ceca5a9e69c95a3c93f;i=4ece9;b=6c7c6013a8a3412b8fd8b8e9f5a1c0de;m=5f6d1a1d0;t=5e0f2b1c3d4f0;x=1b2c',
    MESSAGE: '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
    _PID: '5120',
    _UID: '1001',
    _GID: '1001',
    _COMM: 'logger',
    _EXE: '/usr/bin/logger',
    _CMDLINE: 'logger -t sudo "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow"',
    _CAP_EFFECTIVE: '0',
    _AUDIT_SESSION: '7',
    _AUDIT_LOGINUID: '1001',
    _SYSTEMD_OWNER_UID: '1001',
    ...fields,
  });
}

/**
 * What journald stored when uid 65534 ran `systemd-cat -t sudo /usr/bin/sudo -S -p $'alice :
 * TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow\n' true` (exported
 * with `journalctl -o json`): set-uid sudo wrote its prompt into the stream, so journald saw
 * sudo's executable with root's capabilities.
 */
const SYSTEMD_CAT_FORGERY = JSON.stringify({
  _HOSTNAME: 'vm',
  SYSLOG_IDENTIFIER: 'sudo',
  _UID: '65534',
  __MONOTONIC_TIMESTAMP: '3766474275',
  MESSAGE: 'alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
  _BOOT_ID: '3c1c018537e645c487a11e428bbecb48',
  __REALTIME_TIMESTAMP: '1796309246593777',
  _TRANSPORT: 'stdout',
  _STREAM_ID: '55e4349353a44b95b3c34c2d6ef83ab9',
  __CURSOR: 's=7ba5d1580be649a0b8722efbe8399017;i=158;b=3c1c018537e645c487a11e428bbecb48;m=e07fd623;t=661bbd68ccaf1;x=9cf231d37bae3b8a',
  PRIORITY: '6',
  _CAP_EFFECTIVE: '1fffeffffff',
  _COMM: 'sudo',
  _MACHINE_ID: '3d1219c7c4c5404aaa1f6d2a48adfda4',
  _PID: '13172',
  _EXE: '/usr/bin/sudo',
  _RUNTIME_SCOPE: 'system',
  _CMDLINE: '/usr/bin/sudo -S -p "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow\\n" true',
  _GID: '65534',
});

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

  it('joins a character sudo cut in two between continued messages whole (MESSAGE as bytes)', () => {
    // journald exports a MESSAGE that is not valid UTF-8 as its bytes: here the halves of an emoji.
    const word = Buffer.from(`a${'🙂'.repeat(400)}`);
    const limit = sudoPartLimit('alice', true);
    const bytesOf = (text: string, tail: Buffer = Buffer.alloc(0)) => [...Buffer.concat([Buffer.from(text), tail])];
    const p = parser();
    const lines = [
      entry({ MESSAGE: '   alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/echo big' }),
      entry({ MESSAGE: bytesOf('   alice : (command continued) ', word.subarray(0, limit)), __CURSOR: 'second' }),
      entry({ MESSAGE: bytesOf('   alice : (command continued) ', Buffer.concat([word.subarray(limit), Buffer.from(' end')])), __CURSOR: 'third' }),
    ];
    expect(word.subarray(0, limit).toString('utf8').endsWith('\ufffd')).toBe(true);
    const out = lines.map((line, i) => p.push(line, i * 1000, NOW));
    expect(out.flatMap((o) => o.malformed)).toEqual([]);
    expect(p.flush().events.map((e) => e.argv)).toEqual([['/bin/echo', 'big', `a${'🙂'.repeat(400)}`, 'end']]);
  });

  it('skips entries of other programs and sudo PAM messages', () => {
    const lines = [
      entry({ SYSLOG_IDENTIFIER: 'sshd', _COMM: 'sshd', MESSAGE: 'Accepted publickey for alice' }),
      entry({ MESSAGE: 'pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)' }),
    ];
    expect(run(parser(), lines)).toEqual({ events: [], malformed: [] });
  });

  it('refuses a `logger -t sudo` forgery and counts it as untrusted_source', () => {
    const { events, malformed } = run(parser(), [loggerForgery()]);
    expect(events).toEqual([]);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ reason: 'untrusted_source', offset: 0 });
    expect(malformed[0]!.detail).toMatch(/_EXE, _UID=0 or _CAP_EFFECTIVE/);
  });

  it('refuses a forgery that names itself sudo but runs as a user, or lacks the trusted fields', () => {
    const renamedCopy = loggerForgery({ _COMM: 'sudo', _EXE: '/home/mallory/sudo' });
    const noTrustedFields = JSON.stringify({
      __REALTIME_TIMESTAMP: '1795530208000000',
      SYSLOG_IDENTIFIER: 'sudo',
      MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls',
    });
    const { events, malformed } = run(parser(), [renamedCopy, noTrustedFields]);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source', 'untrusted_source']);
  });

  it("accepts sudo's own record by _EXE when _COMM is cut short", () => {
    const line = entry({ _COMM: 'sudo-rs', _EXE: '/usr/local/bin/sudo', MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' });
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events).toHaveLength(1);
  });

  it("accepts set-uid sudo as Debian's sudo logs it: the invoking user's _UID with root's capabilities", () => {
    const line = entry({ _UID: '1001', _GID: '1001', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' });
    const { events, malformed } = run(parser(), [line]);
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.user)).toEqual(['alice']);
  });

  it('refuses a copy named sudo outside the system paths even with capabilities (a user namespace)', () => {
    const inNamespace = loggerForgery({ _COMM: 'sudo', _EXE: '/tmp/sudo', _CAP_EFFECTIVE: '1ffffffffff' });
    const unprivileged = loggerForgery({ _COMM: 'sudo', _EXE: '/usr/bin/sudo', _CAP_EFFECTIVE: '0' });
    const { events, malformed } = run(parser(), [inNamespace, unprivileged]);
    expect(events).toEqual([]);
    expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source', 'untrusted_source']);
  });

  it('refuses set-uid sudo made to print a forged line into a systemd-cat stream (_TRANSPORT=stdout)', () => {
    const { events, malformed } = run(parser(), [SYSTEMD_CAT_FORGERY]);
    expect(events).toEqual([]);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ reason: 'untrusted_source', offset: 0 });
    expect(malformed[0]!.detail).toMatch(/_TRANSPORT=syslog/);
  });

  it('believes only the syslog transport, for @cee: JSON messages too', () => {
    const message = '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    const cee = '@cee:{"sudo":{"accept":{"submituser":"alice","runuser":"root","runargv":["ls"],"submit_time":{"seconds":1795530208,"nanoseconds":0}}}}';
    const lines = [
      entry({ _TRANSPORT: 'stdout', MESSAGE: cee }),
      entry({ _TRANSPORT: 'journal', MESSAGE: message }),
      entry({ _TRANSPORT: undefined, MESSAGE: message }),
      entry({ MESSAGE: cee }),
    ];
    const { events, malformed } = run(parser(), lines);
    expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source', 'untrusted_source', 'untrusted_source']);
    expect(events.map((e) => [e.user, e.argv])).toEqual([['alice', ['ls']]]);
  });

  it('keeps reading after a forgery: the real record beside it is stored', () => {
    const real = entry({ MESSAGE: '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt upgrade' });
    const { events, malformed } = run(parser(), [loggerForgery(), real]);
    expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source']);
    expect(events.map((e) => e.command)).toEqual(['/usr/bin/apt upgrade']);
  });

  it('treats an unset login uid as null and falls back to the default host', () => {
    const line = JSON.stringify({
      __REALTIME_TIMESTAMP: '1795530208000000',
      SYSLOG_IDENTIFIER: 'sudo',
      _TRANSPORT: 'syslog',
      _COMM: 'sudo',
      _UID: '0',
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

  describe('a line sudo itself was made to print (its prompt, over /dev/log)', () => {
    // Recorded here: uid 65534 ran the real sudo -S with a forged prompt and its standard error a
    // socket connected to /dev/log (test/fixtures/real/sudo/make-samples.sh). The forged line has
    // sudo's _EXE, root's capabilities and _TRANSPORT=syslog; only _UID is the forger's. The same
    // process then logged its own, true denial.
    const recorded = readFileSync('test/fixtures/real/sudo/journal-prompt-forgery.json', 'utf8').trimEnd().split('\n');
    const uids: Record<number, string> = { 65534: 'nobody', 1001: 'alice' };
    const naming = () => createSudoJournaldParser({ ...baseOptions, resolveUid: (uid) => uids[uid] ?? null });

    it('is refused when identity.uids names the sender, and the sender\'s own line is kept', () => {
      const { events, malformed } = run(naming(), recorded);
      expect(events.map((e) => [e.user, e.command, e.sudoDenied])).toEqual([['nobody', '/usr/bin/true', true]]);
      const refused = malformed.filter((m) => m.reason === 'untrusted_source');
      expect(refused).toHaveLength(1);
      expect(refused[0]!.offset).toBe(0);
      expect(refused[0]!.detail).toMatch(/uid 65534 \(nobody\), but the line names alice/);
    });

    it("is kept when nothing names the sender's uid (the README says to configure identity.uids)", () => {
      const { events } = run(parser(), recorded);
      expect(events.map((e) => e.user)).toEqual(['alice', 'nobody']);
    });

    it("keeps sudo's own lines: the sender's uid names the user the line names, or is root's or unknown", () => {
      const own = entry({ _UID: '1001', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' });
      const byRoot = entry({ _UID: '0', MESSAGE: '   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' });
      const unknown = entry({ _UID: '2002', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: '   carol : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls' });
      const { events, malformed } = run(naming(), [own, byRoot, unknown]);
      expect(malformed).toEqual([]);
      expect(events.map((e) => e.user)).toEqual(['alice', 'alice', 'carol']);
    });

    it('is refused in the @cee: JSON form too', () => {
      const cee = '@cee:{"sudo":{"accept":{"submituser":"alice","runuser":"root","runargv":["cat","/etc/shadow"],"submit_time":{"seconds":1795530208,"nanoseconds":0}}}}';
      const forged = entry({ _UID: '65534', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: cee });
      const { events, malformed } = run(naming(), [forged]);
      expect(events).toEqual([]);
      expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source']);
    });

    it('judges the @cee: form by the user of the event it gives: unwrapped, reordered or cut short', () => {
      const accept = '"accept":{"submituser":"alice","runuser":"root","runargv":["cat","/etc/shadow"],"submit_time":{"seconds":1795530208,"nanoseconds":0}}';
      const messages = [
        `@cee:{${accept}}`,
        `@cee:{"sudo":{"reject":{"submituser":"nobody"},${accept}}}`,
        `@cee:{"sudo":{${accept}}}`.slice(0, -3),
      ];
      const forged = messages.map((MESSAGE) => entry({ _UID: '65534', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE }));
      const { events, malformed } = run(naming(), forged);
      expect(events).toEqual([]);
      expect(malformed.map((m) => m.reason)).toEqual(['untrusted_source', 'untrusted_source', 'untrusted_source']);
      expect(malformed[1]!.detail).toMatch(/uid 65534 \(nobody\), but the line names alice/);
    });

    it('names the sender as the user of an @cee: alert that names nobody', () => {
      const alert = '@cee:{"sudo":{"alert":{"reason":"pattern match","command":"/bin/cat","runargv":["cat","/etc/shadow"],"alert_time":{"seconds":1795530208,"nanoseconds":0}}}}';
      const { events } = run(naming(), [entry({ _UID: '65534', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: alert })]);
      expect(events.map((e) => [e.user, e.command])).toEqual([['nobody', 'cat /etc/shadow']]);
    });

    it("keeps the sender's own @cee: line, and the damage it reports", () => {
      const own = '@cee:{"sudo":{"accept":{"submituser":"nobody","runuser":"root","runargv":["ls"],"submit_time":{"seconds":1795530208,"nanoseconds":0}}}}';
      const { events, malformed } = run(naming(), [entry({ _UID: '65534', _CAP_EFFECTIVE: '1fffeffffff', MESSAGE: own.slice(0, -3) })]);
      expect(events.map((e) => [e.user, e.command, e.extra?.truncated])).toEqual([['nobody', 'ls', 'true']]);
      expect(malformed).toEqual([]);
    });
  });
});
