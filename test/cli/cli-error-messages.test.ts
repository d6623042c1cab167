import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

/** Operational errors of the command line: one line naming the problem and the fix, exit code 2, no stack. */
describe.skipIf(!built)('vouch command-line errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-cli-errors-'));
  const base = { PATH: process.env.PATH ?? '', VOUCH_DATA_DIR: path.join(dir, 'data'), VOUCH_PORT: '0' };
  const vouch = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  const expectOneLine = (run: ReturnType<typeof vouch>, message: RegExp) => {
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.status).toBe(2);
  };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('report and second-factor resume on a database never migrated say to run vouch migrate', () => {
    for (const format of ['table', 'json', 'csv', 'html']) {
      expectOneLine(vouch({}, 'report', '--format', format), /^vouch: pglite reachable but not migrated yet: run vouch migrate\n$/);
    }
    expectOneLine(vouch({}, 'second-factor', 'resume', 'alice', '--by', 'dana'), /^vouch: pglite reachable but not migrated yet: run vouch migrate\n$/);
  }, 120_000);

  it('migrate lists the migrations it applied, then says up to date when there is nothing to apply', () => {
    const first = vouch({ VOUCH_DATA_DIR: path.join(dir, 'migrated') }, 'migrate');
    expect(first.status, first.stderr).toBe(0);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('applied 0001_initial');
    expect(lines.at(-1)).toMatch(new RegExp(`^applied ${lines.length - 1} migrations; database is up to date \\(pglite\\)$`));
    expect(lines.length).toBeGreaterThan(2);
    const again = vouch({ VOUCH_DATA_DIR: path.join(dir, 'migrated') }, 'migrate');
    expect(again.stdout).toBe('database is up to date (pglite)\n');
    expect(vouch({ VOUCH_DATA_DIR: path.join(dir, 'migrated') }, 'report').status).toBe(0);
  }, 120_000);

  it('start on a port already in use names server.port and exits 2', async () => {
    // Bound, so the child's listen fails whether or not this process is free to accept.
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const run = vouch({ VOUCH_PORT: String(port), VOUCH_DATA_DIR: path.join(dir, 'busy') }, 'start', '--sandbox');
      expect(run.stderr).toContain(`vouch: config server.port: ${port} (VOUCH_PORT) is already in use on 127.0.0.1: stop the other process or choose another port\n`);
      expect(run.stderr).not.toMatch(/EADDRINUSE|^\s+at /m);
      expect(run.status).toBe(2);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 120_000);

  it('start and report with a data directory through a file name database.data_dir and VOUCH_DATA_DIR', () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    for (const command of [['start', '--sandbox'], ['report'], ['migrate']]) {
      expectOneLine(
        vouch({ VOUCH_DATA_DIR: path.join(file, 'x') }, ...command),
        new RegExp(`^vouch: config database\\.data_dir: cannot use ${file}/x as the data directory: ${file} is a file, not a directory; set database\\.data_dir \\(VOUCH_DATA_DIR\\) to a directory`),
      );
    }
  }, 120_000);

  it('refuses a DATABASE_URL that is not a postgres URL, showing the expected form and not the value', () => {
    for (const url of ['notaurl', '127.0.0.1:5432/db', 'host=x dbname=y password=hunter2']) {
      const run = vouch({ DATABASE_URL: url }, 'report');
      expectOneLine(run, /^vouch: config database\.url: DATABASE_URL is .*: write it as postgres:\/\/user@host:5432\/dbname /);
      expect(run.stderr).not.toContain(url);
    }
  }, 120_000);
});
