import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
