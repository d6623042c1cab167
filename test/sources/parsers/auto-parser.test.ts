import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAutoWouldChoose } from '../../../src/sources/parsers/auto-parser.js';
import { createAutoParser } from '../../../src/sources/parsers/index.js';
import { NOW, baseOptions } from './parser-harness.js';

/** The format an AutoParser settles on after reading `lines` ('auto' when none). */
function settledFormat(lines: readonly string[]): string {
  const parser = createAutoParser(baseOptions);
  lines.forEach((line, i) => parser.push(line, i * 100, NOW));
  return parser.format;
}

const SYSLOG = (i: number) => `Nov 24 14:23:00 web-1 sshd[${i}]: Accepted publickey for alice`;
const AUDIT = 'node=web-1 type=EOE msg=audit(1795530208.123:7): ';
const SUDO = 'Nov 24 14:23:00 web-1 sudo[77]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';

describe('formatAutoWouldChoose: the format the detector settles on, from the same lines', () => {
  const cases: Array<[string, string[]]> = [
    ['an audit log', [AUDIT]],
    ['blank lines, then sudo', ['', '   ', SUDO]],
    ['other programs in a syslog file, then sudo', [SYSLOG(1), SYSLOG(2), SUDO]],
    ['a syslog preamble of fifty lines without sudo', Array.from({ length: 50 }, (_, i) => SYSLOG(i))],
    ['fifty unreadable lines, then audit records', [...Array.from({ length: 50 }, (_, i) => `noise ${i}`), AUDIT]],
    ['a journal export', ['{"__CURSOR":"s=1","SYSLOG_IDENTIFIER":"sudo","MESSAGE":"x"}']],
    ['a JSON shipper', ['{"host":"web-1","time":"2026-11-24T08:00:00Z","argv":["ls"]}']],
    ['CR LF line ends', [`${AUDIT}\r`]],
    ['nothing readable', ['noise', 'more noise']],
    ['nothing at all', []],
  ];
  for (const [name, lines] of cases) {
    it(name, () => {
      const settled = settledFormat(lines);
      expect(formatAutoWouldChoose(lines) ?? 'auto').toBe(settled);
    });
  }

  it('settles nothing from forty-nine unreadable syslog-less lines', () => {
    expect(formatAutoWouldChoose(Array.from({ length: 49 }, (_, i) => `noise ${i}`))).toBeNull();
  });
});

describe('a command reading one format', () => {
  const built = path.resolve('dist/src/sources/read-log.js');
  it.runIf(existsSync(built))('imports that format parser alone, even with --format auto', () => {
    // Every module the child resolves is printed by a resolve hook; the built output is what `vouch` runs.
    const hook = `data:text/javascript,${encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes("/parsers/")) process.stderr.write("MODULE " + r.url + "\\n"); return r; }')}`;
    const script = [
      `import { register } from 'node:module';`,
      `register(${JSON.stringify(hook)});`,
      `const { openLog } = await import(${JSON.stringify(built)});`,
      `const log = await openLog('test/fixtures/real/auditd/audit-enriched.log', { format: 'auto', parser: { defaultHost: 'vm' } });`,
      `let events = 0;`,
      `for await (const batch of log) events += batch.events.length;`,
      `process.stdout.write(String(events));`,
    ].join('\n');
    const { stdout, stderr } = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(Number(stdout)).toBeGreaterThan(0);
    const loaded = new Set([...stderr.matchAll(/^MODULE .*\/parsers\/([\w-]+)\.js$/gm)].map((m) => m[1]));
    expect(loaded).toContain('auditd');
    for (const other of ['index', 'sudo-syslog', 'sudo-journald', 'sudo-json', 'go-audit', 'laurel', 'osquery', 'falco', 'json-lines']) expect(loaded).not.toContain(other);
  });
});

describe('laurel events without a SYSCALL record', () => {
  // laurel writes every event auditd hands it: a log can open with sudo's USER_CMD and PAM's
  // USER_* / CRED_* events, none of which has a SYSCALL or EXECVE record.
  const userCmd = (serial: number) =>
    JSON.stringify({
      ID: `1796157392.997:${serial}`,
      USER_CMD: { pid: 19550, uid: 1001, auid: 1001, ses: 19, msg: 'cwd="/tmp" cmd="/usr/bin/id" exe="/usr/bin/sudo" terminal=pts/0 res=success', UID: 'alice', AUID: 'alice' },
    });
  const credAcq = (serial: number) =>
    JSON.stringify({ ID: `1796157392.990:${serial}`, CRED_ACQ: { pid: 19550, uid: 0, auid: 1001, ses: 19, msg: 'op=PAM:setcred grantors=pam_permit acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success' } });

  it('are recognised as laurel, so the sudo commands among them are not dropped', () => {
    const lines = [...Array.from({ length: 49 }, (_, i) => credAcq(i)), userCmd(100)];
    expect(settledFormat(lines)).toBe('laurel');
    const parser = createAutoParser(baseOptions);
    const events = [];
    const malformed = [];
    lines.forEach((line, i) => {
      const out = parser.push(line, i * 100, NOW);
      events.push(...out.events);
      malformed.push(...out.malformed);
    });
    const end = parser.flush();
    events.push(...end.events);
    malformed.push(...end.malformed);
    expect(malformed).toEqual([]);
    expect(events.map((event) => event.argv)).toEqual([['/usr/bin/id']]);
  });
});
