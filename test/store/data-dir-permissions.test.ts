import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';

/** Every path under `root` with a group or world permission bit set. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const walk = (target: string) => {
    const stat = statSync(target);
    if ((stat.mode & 0o077) !== 0) found.push(`${target} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of readdirSync(target)) walk(path.join(target, entry));
  };
  walk(root);
  return found;
}

describe('embedded database files are private to the service user', () => {
  const dirs: string[] = [];
  const previousUmask = process.umask();
  afterEach(() => {
    process.umask(previousUmask);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the data directory 0700 and its files 0600, even under a permissive umask', async () => {
    process.umask(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-perms-'));
    dirs.push(dir);
    const dataDir = path.join(dir, 'pgdata');
    const store = await openDatabase({ url: null, dataDir });
    await store.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    await store.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);
    expect(openToOthers(dataDir)).toEqual([]);
  }, 60_000);

  it('tightens an existing directory left open', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-perms-'));
    dirs.push(dir);
    const dataDir = path.join(dir, 'pgdata');
    const first = await openDatabase({ url: null, dataDir });
    await first.close();
    // As an earlier version left it: everything world-writable.
    chmodSync(dataDir, 0o777);
    mkdirSync(path.join(dataDir, 'extra'), { recursive: true });
    chmodSync(path.join(dataDir, 'extra'), 0o777);
    writeFileSync(path.join(dataDir, 'extra', 'note'), 'x');
    chmodSync(path.join(dataDir, 'extra', 'note'), 0o666);
    chmodSync(path.join(dataDir, 'PG_VERSION'), 0o666);
    const second = await openDatabase({ url: null, dataDir });
    await second.close();
    expect(openToOthers(dataDir)).toEqual([]);
  }, 60_000);
});
