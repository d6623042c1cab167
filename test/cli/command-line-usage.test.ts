import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));

/** Exit codes are part of the command line's contract: 2 for usage errors, 1 for a log in the wrong format. */
describe.skipIf(!built)('the vouch command line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-usage-'));
  const vouch = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', VOUCH_DATA_DIR: dir }, encoding: 'utf8', timeout: 30_000 });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const usageErrors: Array<[string, RegExp]> = [
    ['scan', /error: missing required argument 'file'/],
    ['scan f --bogus', /error: unknown option '--bogus'/],
    ['scan f extra', /error: too many arguments for 'scan'/],
    ['scan f --format', /error: option '-f, --format <format>' argument missing/],
    ['bogus', /error: unknown command 'bogus'/],
    ['report --format xml', /error: option '--format <format>' argument 'xml' is invalid/],
    ['report --bogus', /error: unknown option '--bogus'/],
    ['', /Usage: vouch/],
  ];
  it.each(usageErrors)('exits 2 on the usage error `vouch %s`, with commander\'s message', (line, message) => {
    const run = vouch(...line.split(' ').filter(Boolean));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('exits 0 for help', () => {
    for (const args of [['--help'], ['help'], ['scan', '--help'], ['help', 'report']]) {
      const run = vouch(...args);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/Usage: vouch/);
    }
  });
});
