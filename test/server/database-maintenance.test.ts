import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { openDatabase, type VouchDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

const url = process.env.TEST_DATABASE_URL as string;
const TOKEN = 'fleet-token-0123456789abcdef';
const LINE = 'Nov 24 14:23:28 web-1 sudo[1]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';

/**
 * The service on a database of its own that an operator closes for maintenance
 * (ALTER DATABASE ... ALLOW_CONNECTIONS false, its sessions ended): every new session is refused
 * with SQLSTATE 55000 until it opens again. A database of its own, so no other test is refused.
 */
describe.skipIf(!url)('a database closed to connections for maintenance', () => {
  const name = `vouch_maint_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let dir: string;
  let store: VouchDatabase;
  let service: RunningService;

  beforeEach(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const own = new URL(url);
    own.pathname = `/${name}`;
    store = await openDatabase({ url: own.toString(), dataDir: null, poolSize: 3, connectTimeoutMs: 2000 });
    await migrateToLatest(store);
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-maintenance-'));
    const file = path.join(dir, 'vouch.yml');
    await writeFile(file, 'server: { port: 0 }\nsources:\n  - { name: fleet, type: sudo }\n');
    const config = loadConfig({ file, env: { VOUCH_INGEST_TOKEN_FLEET: TOKEN, VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
    service = await startService({
      config,
      store,
      autoRun: false,
      logger: silentLogger,
      clock: new ManualClock(new Date('2026-11-24T15:00:00Z')),
      ingestRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
  });

  afterEach(async () => {
    await service.stop();
    await store.close();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  const setAllowConnections = async (allow: boolean) => {
    await admin.query(`alter database "${name}" allow_connections ${allow}`);
    if (!allow) await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
  };
  const ingest = () =>
    fetch(`${service.url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: LINE });

  it('answers 503 with Retry-After on /ingest, /metrics and the sandbox state, and ingests again once it reopens', async () => {
    await setAllowConnections(false);
    const refused = await ingest();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    for (const page of ['/metrics', '/sandbox/api/state']) {
      const response = await fetch(`${service.url}${page}`);
      expect({ page, status: response.status }).toEqual({ page, status: 503 });
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }

    await setAllowConnections(true);
    const accepted = await ingest();
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ stored: 1 });
  });
});
