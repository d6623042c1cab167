import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WrongFormatError } from '../../src/cli/wrong-format-error.js';
import { ingestCommand } from '../../src/cli/ingest-command.js';
import { rulesTestCommand } from '../../src/cli/rules-command.js';
import { scanCommand } from '../../src/cli/scan-command.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTestStore } from '../helpers/test-store.js';
import { GO_LIBAUDIT, captureStream, tempDir } from './cli-fixtures.js';

const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

const SUDO_LINES = [
  'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
  'Nov 24 14:24:00 web-1 sudo[4212]:    bob : TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id',
];

let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeEach(async () => {
  tmp = await tempDir('vouch-format-');
});

afterEach(async () => {
  await tmp.cleanup();
});

const scan = (file: string, format: string) => scanCommand(file, { format, all: true, json: true }, { stdout: captureStream(), clock, env: {} });
const rulesTest = (file: string, format: string) => rulesTestCommand(file, { format, samples: '3' }, { clock, env: {} });

describe('a log in the wrong format', () => {
  it('fails scan and rules test with exit code 1, naming the format the lines look like', async () => {
    const log = await tmp.file('access.log', SUDO_LINES.join('\n') + '\n\n');
    for (const run of [scan, rulesTest]) {
      const error = await run(log, 'auditd').catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(WrongFormatError);
      expect((error as WrongFormatError).exitCode).toBe(1);
      expect((error as Error).message).toBe(`no line of ${log} is in the auditd format (2 malformed); it looks like sudo: try --format sudo`);
    }
  });

  it('says so when a parser skips the foreign lines quietly (sudo reading auditd)', async () => {
    const error = await scan(path.join(GO_LIBAUDIT, 'normal.log'), 'sudo').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(WrongFormatError);
    expect((error as Error).message).toMatch(/normal\.log is in the sudo format \(\d+ malformed\); it looks like auditd: try --format auditd$/);
  });

  it('says when --format auto recognises nothing', async () => {
    const log = await tmp.file('notes.txt', 'hello\nworld\n');
    await expect(scan(log, 'auto')).rejects.toThrow(/^no line of .*notes\.txt is in a log format Vouch reads \(2 malformed\); name it with --format$/);
  });

  it('names no other format when the lines look like none, and names truncated lines of the right one', async () => {
    const log = await tmp.file('noise.log', '{"a": 1}\n{"b": 2}\n');
    await expect(scan(log, 'json')).rejects.toThrow(/is in the json format \(2 malformed\); it does not look like any log format Vouch reads$/);
  });

  it('leaves alone logs that merely hold no command, empty logs, and logs with some good lines', async () => {
    const noExec = await tmp.file('login.log', 'type=USER_LOGIN msg=audit(1491951191.036:1): pid=1 uid=0 auid=1000 ses=1 msg=\'op=login acct="alice" exe="/usr/sbin/sshd" res=success\'\n');
    await expect(scan(noExec, 'auditd')).resolves.toMatch(/0 command events/);
    const empty = await tmp.file('empty.log', '\n  \n');
    await expect(scan(empty, 'auditd')).resolves.toMatch(/0 command events/);
    const syslog = await tmp.file('syslog', 'Nov 24 14:25:00 web-1 sshd[99]: Accepted publickey for alice\n');
    await expect(scan(syslog, 'sudo')).resolves.toMatch(/0 command events/);
    const mixed = await tmp.file('mixed.log', `${SUDO_LINES[0]}\ngarbage\n`);
    await expect(scan(mixed, 'sudo')).resolves.toMatch(/1 command event/);
  });

  it('fails ingest the same way, leaving no malformed counts behind', async () => {
    const store = await createTestStore();
    try {
      const log = await tmp.file('access.log', SUDO_LINES.join('\n') + '\n');
      const config = loadConfig({ env: { VOUCH_DATA_DIR: tmp.dir } });
      const error = await ingestCommand(config, log, { format: 'auditd', source: 'backfill' }, { store, clock, stderr: { write: () => true } }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(WrongFormatError);
      expect((error as Error).message).toMatch(/is in the auditd format \(2 malformed\); it looks like sudo: try --format sudo$/);
      // A refused run records nothing: its counts would open a malformed_spike notice for a mistake.
      expect(await store.db.selectFrom('source_malformed').selectAll().execute()).toEqual([]);
    } finally {
      await store.destroy();
    }
  });

  it.skipIf(!built)('exits 1 (not 2) from the command line, with the message on stderr', async () => {
    const log = await tmp.file('access.log', SUDO_LINES.join('\n') + '\n');
    const run = promisify(execFile);
    const failed = await run(path.join(root, 'bin', 'vouch'), ['scan', '--format', 'auditd', log], { env: { ...process.env, VOUCH_CONFIG: '' } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toBe(`error: no line of ${log} is in the auditd format (2 malformed); it looks like sudo: try --format sudo\n`);
  });
});
