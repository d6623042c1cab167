import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** Every path under `root` (itself included) with a group or world permission bit set. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const walk = (target: string) => {
    const stat = statSync(target);
    if ((stat.mode & 0o077) !== 0) found.push(`${path.relative(root, target) || '.'} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of readdirSync(target)) walk(path.join(target, entry));
  };
  walk(root);
  return found;
}

/**
 * The sandbox's files (its state, and a demo log of every command typed on its page) are private
 * on a database given to the service (Postgres with DATABASE_URL), not only on embedded PGlite,
 * whose opening used to be the only thing that tightened the umask.
 */
describe('the sandbox keeps its files private to the service user, whatever the database', () => {
  const previousUmask = process.umask();
  const dirs: string[] = [];
  let store: TestStore;
  let service: RunningService | null = null;

  beforeAll(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    await service?.stop();
    service = null;
    process.umask(previousUmask);
  });

  afterAll(async () => {
    await store?.destroy();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (dataDir: string) => {
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dataDir, VOUCH_SANDBOX: '1' } }), store, logger: silentLogger });
    const run = await fetch(`${service.url}/sandbox/api/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'alice', command: 'cat /etc/shadow' }),
    });
    expect(run.status).toBe(200);
    await service.stop();
    service = null;
  };

  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-files-'));
    dirs.push(dir);
    return dir;
  };

  it('creates the data directory, its sandbox directory and the demo log private under umask 022', async () => {
    process.umask(0o022);
    const dataDir = path.join(tempDir(), 'data');
    await start(dataDir);
    expect(statSync(path.join(dataDir, 'sandbox', 'audit.log')).size).toBeGreaterThan(0);
    expect(openToOthers(dataDir)).toEqual([]);
  });

  it('tightens a data directory, sandbox directory and demo log left readable by others', async () => {
    process.umask(0o022);
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'sandbox'), { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'sandbox'), 0o755);
    writeFileSync(path.join(dataDir, 'sandbox', 'audit.log'), '', { mode: 0o644 });
    expect(openToOthers(dataDir)).toEqual(['. 755', 'sandbox 755', 'sandbox/audit.log 644']);
    await start(dataDir);
    expect(openToOthers(dataDir)).toEqual([]);
  });
});
