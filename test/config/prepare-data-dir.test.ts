import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataDir } from '../../src/config/prepare-data-dir.js';
import { ConfigError } from '../../src/errors.js';

describe('prepareDataDir', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-data-dir-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (dataDir: string): ConfigError => {
    try {
      prepareDataDir(dataDir);
    } catch (error) {
      return error as ConfigError;
    }
    throw new Error(`${dataDir} was accepted`);
  };

  it('creates a missing data directory, its parents too, private to this user', () => {
    const dataDir = path.join(dir, 'a', 'b', 'data');
    prepareDataDir(dataDir);
    expect(statSync(dataDir).isDirectory()).toBe(true);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    prepareDataDir(dataDir);
  });

  it('makes an existing data directory left readable by others private', () => {
    const dataDir = path.join(dir, 'open');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    prepareDataDir(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('names the key, the variable and the file in the way when the path runs through a file', () => {
    const file = path.join(dir, 'hostname');
    writeFileSync(file, 'web-1\n');
    for (const dataDir of [path.join(file, 'x'), path.join(file, 'x', 'y'), file]) {
      const error = refusal(dataDir);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.key).toBe('database.data_dir');
      expect(error.message).toBe(
        `config database.data_dir: cannot use ${dataDir} as the data directory: ${file} is a file, not a directory; ` +
          'set database.data_dir (VOUCH_DATA_DIR) to a directory this user may create and write, or database.url (DATABASE_URL) to use Postgres',
      );
    }
  });
});

describe('a data directory Vouch may not change', () => {
  const asRoot = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') && existsSync('dist/src/private-files.js');

  it.skipIf(!asRoot)('names the key and the fix instead of failing with a stack trace', () => {
    // Made by root, 0755 inside a directory of the unprivileged user: they may not chmod it.
    const top = mkdtempSync(path.join(tmpdir(), 'vouch-foreign-'));
    try {
      const pgdata = path.join(top, 'pgdata');
      mkdirSync(pgdata, { mode: 0o755 });
      chmodSync(pgdata, 0o755);
      chownSync(top, 65534, 65534);
      chmodSync(top, 0o700);
      const script = `import(${JSON.stringify(path.resolve('dist/src/private-files.js'))}).then((m) => m.makePrivateDir(${JSON.stringify(pgdata)}, { recursive: true })).catch((e) => { console.log(e.constructor.name + ': ' + e.message); })`;
      const result = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { encoding: 'utf8' });
      expect(result.stdout.trim()).toBe(
        `ConfigError: config database.data_dir: cannot make ${pgdata} private (EPERM: it belongs to another user or is read-only); give it to the user Vouch runs as (chown), or choose another VOUCH_DATA_DIR`,
      );
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});
