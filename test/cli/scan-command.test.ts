import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferedWriter, scanCommand, shorten, TEXT_COMMAND_CHARS } from '../../src/cli/scan-command.js';
import { ManualClock } from '../../src/clock.js';
import { NotFoundError, VouchError } from '../../src/errors.js';
import { terminalText } from '../../src/terminal-text.js';
import { GO_LIBAUDIT, TEST_RULES, captureStream, tempDir } from './cli-fixtures.js';

const CONTRACT_FIELDS = ['time', 'host', 'user', 'run_as', 'argv', 'command', 'cwd', 'source_format', 'rule'];
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));

let tmp: Awaited<ReturnType<typeof tempDir>>;
let rulesFile: string;

beforeEach(async () => {
  tmp = await tempDir('vouch-scan-');
  rulesFile = await tmp.file('rules.yml', TEST_RULES);
});

afterEach(async () => {
  await tmp.cleanup();
});

async function scan(file: string, options: Partial<Parameters<typeof scanCommand>[1]> = {}, io: Parameters<typeof scanCommand>[2] = {}) {
  const stdout = captureStream();
  const summary = await scanCommand(file, { format: 'auto', ...options }, { stdout, clock, env: {}, ...io });
  return { summary, text: stdout.text(), stdout };
}

const jsonObjects = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('scan on the go-libaudit samples', () => {
  it('prints every command with --all --json, with exactly the contract fields and correct values', async () => {
    const { text, summary } = await scan(path.join(GO_LIBAUDIT, 'normal.log'), { all: true, json: true, rules: rulesFile });
    const objects = jsonObjects(text);
    expect(objects).toHaveLength(2);
    for (const object of objects) for (const field of CONTRACT_FIELDS) expect(object).toHaveProperty(field);
    const grep = objects.find((o) => (o.argv as string[])[0] === 'grep');
    expect(grep).toMatchObject({
      time: '2017-04-12T22:48:11.036Z',
      host: hostname(),
      user: '1000',
      run_as: '1000',
      argv: ['grep', '--color=auto', 'mapping'],
      command: 'grep --color=auto mapping',
      cwd: '/home/andrew_kroh',
      source_format: 'auditd',
      rule: 'grep-used',
      rule_name: 'grep was run',
      severity: 'low',
      pid: 13393,
      exe: '/usr/bin/grep',
      sudo_denied: false,
    });
    // `cat securitybeat` is excepted from cat-secret: printed with --all, but with no rule.
    const cat = objects.find((o) => (o.argv as string[])[0] === 'cat');
    expect(cat).toMatchObject({ argv: ['cat', 'securitybeat'], rule: null, rule_name: null, severity: null });
    expect(summary).toMatch(/normal\.log \(auditd\): 2 command events, 1 rule hit, 0 malformed lines/);
    expect(summary).toMatch(/hits by rule:\n\s+1\s+grep-used/);
  });

  it('prints only rule hits without --all', async () => {
    const { text } = await scan(path.join(GO_LIBAUDIT, 'normal.log'), { json: true, rules: rulesFile });
    expect(jsonObjects(text).map((o) => o.rule)).toEqual(['grep-used']);
  });

  it('names login uids through the configuration given by VOUCH_CONFIG, and uses its rules', async () => {
    const config = await tmp.file('vouch.yml', `rules: ${JSON.stringify(rulesFile)}\nidentity:\n  uids: { 1000: andrew_kroh }\n`);
    const { text } = await scan(path.join(GO_LIBAUDIT, 'normal.log'), { json: true }, { env: { VOUCH_CONFIG: config } });
    const objects = jsonObjects(text);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ user: 'andrew_kroh', run_as: 'andrew_kroh', rule: 'grep-used' });
  });

  it('counts incomplete events of the RHEL 7 sample in the summary and still succeeds', async () => {
    const { summary, text } = await scan(path.join(GO_LIBAUDIT, 'audit-rhel7.log'), { all: true, json: true });
    expect(jsonObjects(text).length).toBeGreaterThan(0);
    // One event cut short, and four execs whose SYSCALL record the sample left out (who ran them is unknown).
    expect(summary).toMatch(/malformed lines by reason:\n(\s+\d+\s+\w+\n)*\s+5\s+incomplete_event/);
  });

  it('prints readable text lines: time, host, user -> run_as, rule, command', async () => {
    const { text } = await scan(path.join(GO_LIBAUDIT, 'normal.log'), { rules: rulesFile });
    expect(text).toBe(`2017-04-12T22:48:11.036Z ${hostname()} 1000 -> 1000 [low grep-used] grep --color=auto mapping\n`);
  });
});

describe('scan on constructed logs', () => {
  it('escapes hostile command lines in text output so they cannot drive the terminal', async () => {
    const hostile = ['printf', '\u001b]0;owned\u0007\u001b[2J', 'safe\rFAKE', 'rtl\u202eexe.txt', 'zero\u200bwidth', '<!channel>'];
    const log = await tmp.file('hostile.jsonl', JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'web\u001b[1m-1', user: 'alice', argv: hostile }) + '\n');
    const { text } = await scan(log, { all: true });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u202e]/);
    expect(text).toContain('printf \\x1b]0;owned\\x07\\x1b[2J safe\\x0dFAKE rtl\\u202eexe.txt zero\\u200bwidth <!channel>');
    expect(text).toContain('web\\x1b[1m-1');
    // JSON output keeps the exact bytes, escaped by JSON itself.
    const { text: json } = await scan(log, { all: true, json: true });
    expect(json).not.toMatch(/[\u0000-\u001f](?!$)/m);
    expect(jsonObjects(json)[0]?.argv).toEqual(hostile);
  });

  it('decodes a sudo syslog log, with sudo octal escapes shown escaped', async () => {
    const lines = [
      'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
      'Nov 24 14:24:00 web-1 sudo[4212]:    mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/printf #033[2J',
      'Nov 24 14:25:00 web-1 sshd[99]: Accepted publickey for alice',
    ];
    const log = await tmp.file('auth.log', lines.join('\n') + '\n');
    const { text, summary } = await scan(log, { all: true, json: true });
    const objects = jsonObjects(text);
    expect(objects).toHaveLength(2);
    expect(objects[0]).toMatchObject({
      time: '2026-11-24T14:23:28.000Z',
      host: 'web-1',
      user: 'alice',
      run_as: 'root',
      argv: ['/usr/bin/cat', '/etc/shadow'],
      cwd: '/home/alice',
      source_format: 'sudo',
      rule: 'shadow-read',
    });
    expect(objects[1]).toMatchObject({ user: 'mallory', sudo_denied: true, rule: 'sudo-denied' });
    expect(summary).toMatch(/auth\.log \(sudo\): 2 command events, 2 rule hits/);
    const { text: readable } = await scan(log, {});
    expect(readable).toContain('web-1 mallory -> root [');
    expect(readable).toContain('(sudo denied) /usr/bin/printf \\x1b[2J');
    expect(readable).not.toContain('\u001b');
  });

  it('asks about a sudo line with a COMMAND= field planted in the directory name, an argument or a variable', async () => {
    // `mkdir '/tmp/x ; USER=root ; COMMAND=/bin/true'; cd` there; `sudo cat /etc/shadow`: the
    // planted command is read first, so argv0 rules see /bin/true.
    const lines = [
      'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/tmp/x ; USER=root ; COMMAND=/bin/true ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
      'Nov 24 14:23:29 web-1 sudo[4212]:    alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; ENV=A=x ; COMMAND=/bin/true ; COMMAND=/usr/bin/cat /etc/shadow',
      "Nov 24 14:23:30 web-1 sudo[4213]:    alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow ' ; COMMAND=/bin/true'",
      'Nov 24 14:23:31 web-1 sudo[4214]:    alice : TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/make COMMAND=build',
    ];
    const log = await tmp.file('auth.log', lines.join('\n') + '\n');
    const objects = jsonObjects((await scan(log, { all: true, json: true })).text);
    expect(objects.map((o) => o.rule)).toEqual(['sudo-log-field-injection', 'sudo-log-field-injection', 'shadow-read', null]);
  });

  it('counts malformed lines per reason and exits normally', async () => {
    const good = JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'alice', argv: ['cat', '/etc/shadow'] });
    const log = await tmp.file('mixed.jsonl', Buffer.concat([
      Buffer.from(`${good}\n{"time": broken\n`),
      Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x0a]),
      Buffer.from(`${JSON.stringify({ time: 'not a time', argv: ['ls'] })}\n${good.replace('alice', 'bob')}\n`),
    ]));
    const { summary, text } = await scan(log, { format: 'json', json: true });
    expect(jsonObjects(text).map((o) => o.user)).toEqual(['alice', 'bob']);
    // The line whose time cannot be read is kept, at the time it was read, and counted as bad_field.
    expect(summary).toMatch(/3 command events, 2 rule hits, 3 malformed lines/);
    expect(summary).toMatch(/malformed lines by reason:/);
    expect(summary).toMatch(/1\s+bad_field\n\s+1\s+bad_json\n\s+1\s+binary/);
  });

  it('keeps a 1 MB argument whole in JSON and shortens it in text', async () => {
    const big = 'A'.repeat(1024 * 1024);
    const log = await tmp.file('big.jsonl', JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'u', argv: ['echo', big] }) + '\n');
    const { text: json } = await scan(log, { all: true, json: true });
    expect(jsonObjects(json)[0]?.command).toBe(`echo ${big}`);
    const { text } = await scan(log, { all: true });
    expect(text.length).toBeLessThan(TEXT_COMMAND_CHARS + 200);
    expect(text).toContain(`(${big.length + 5 - TEXT_COMMAND_CHARS} more characters)`);
  });

  it('reads standard input for "-"', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'u', argv: ['echo', String(i)] }));
    const { text, summary } = await scan('-', { all: true, json: true }, { stdin: Readable.from([lines.join('\n') + '\n']) });
    expect(jsonObjects(text).map((o) => (o.argv as string[])[1])).toEqual(lines.map((_, i) => String(i)));
    expect(summary).toMatch(/^- \(json\): 50 command events/);
  });

  it('writes in large pieces, waits for a slow reader, and loses nothing', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'u', argv: ['echo', String(i)] }));
    const log = await tmp.file('many.jsonl', lines.join('\n') + '\n');
    const stdout = captureStream({ slow: true });
    await scanCommand(log, { format: 'json', all: true, json: true }, { stdout, clock, env: {} });
    const printed = jsonObjects(stdout.text());
    expect(printed).toHaveLength(5000);
    expect(printed.map((o) => (o.argv as string[])[1])).toEqual(lines.map((_, i) => String(i)));
    expect(stdout.writes).toBeLessThan(20);
  });

  it('stops quietly when the reader goes away (EPIPE)', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'h', user: 'u', argv: ['echo', String(i), 'x'.repeat(100)] }));
    const log = await tmp.file('pipe.jsonl', lines.join('\n') + '\n');
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const summary = await scanCommand(log, { format: 'json', all: true, json: true }, { stdout: broken, clock, env: {} });
    expect(summary).toContain('(output closed early)');
  });

  it('fails with a clear VouchError for a missing file, an unknown format or a bad rule file', async () => {
    await expect(scan(path.join(tmp.dir, 'missing.log'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(scan(path.join(tmp.dir, 'missing.log'))).rejects.toThrow(/missing\.log: no such file/);
    const log = await tmp.file('x.log', '');
    await expect(scan(log, { format: 'evtx' })).rejects.toThrow(/--format: unknown log format "evtx"; use one of: auto, auditd/);
    const badRules = await tmp.file('bad.yml', 'rules: [{ id: x }]\n');
    await expect(scan(log, { rules: badRules })).rejects.toBeInstanceOf(VouchError);
  });
});

describe('BufferedWriter', () => {
  it('writes ASCII, Latin-1, other scripts, astral characters and lines larger than its buffer exactly', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    const writer = new BufferedWriter(sink, 64);
    const lines = ['plain ascii\n', 'caf\u00e9 \u00ff\n', '\u65e5\u672c\u8a9e\n', 'emoji \u{1f600}\n', `${'x'.repeat(500)}\u00e9\n`, 'after\n'];
    for (let round = 0; round < 20; round++) {
      for (const line of lines) writer.add(line);
      await writer.drain();
    }
    await writer.end();
    expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.join('').repeat(20));
  });
});

describe('BufferedWriter backpressure', () => {
  it('waits for drain at every full write without leaving listeners behind', async () => {
    let written = 0;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        setImmediate(callback);
      },
    });
    const writer = new BufferedWriter(slow, 64);
    for (let i = 0; i < 50; i++) {
      writer.add(`${'y'.repeat(70)}\n`);
      await writer.drain();
    }
    await writer.end();
    expect(written).toBe(50 * 71);
    expect(slow.listenerCount('drain')).toBe(0);
    expect(slow.listenerCount('close')).toBe(0);
  });
});

describe('terminal helpers', () => {
  it('terminalText leaves ordinary text alone and escapes controls, bidi and lone surrogates', () => {
    expect(terminalText('ls -la /tmp é 日本')).toBe('ls -la /tmp é 日本');
    expect(terminalText('a\tb\nc\u0085d\u2066e\ud800f')).toBe('a\\x09b\\x0ac\\x85d\\u2066e\\ud800f');
  });

  it('shorten never splits a surrogate pair', () => {
    expect(shorten('ab😀cd', 3)).toBe('ab… (4 more characters)');
    expect(shorten('abc', 3)).toBe('abc');
  });
});

describe('the vouch binary', () => {
  const root = path.resolve(GO_LIBAUDIT, '..', '..', '..');
  const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

  it.skipIf(!built)('scans a file as a subprocess: JSON on stdout, the summary on stderr, exit code 0 or 2', async () => {
    const run = promisify(execFile);
    const vouch = path.join(root, 'bin', 'vouch');
    const env = { ...process.env, VOUCH_CONFIG: '' };
    const { stdout, stderr } = await run(vouch, ['scan', '--all', '--json', path.join(GO_LIBAUDIT, 'normal.log')], { env });
    expect(jsonObjects(stdout)).toHaveLength(2);
    expect(stderr).toMatch(/2 command events/);
    const failed = await run(vouch, ['scan', path.join(tmp.dir, 'missing.log')], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/^vouch: .*missing\.log: no such file/);
  });
});
