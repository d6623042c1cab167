import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { openDatabase, type VouchDatabase } from '../../src/store/database.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const url = process.env.TEST_DATABASE_URL as string;
const TOKEN = 'fleet-token-0123456789abcdef';
const line = (pid: number, user: string) =>
  `Nov 24 14:23:28 web-1 sudo[${pid}]:    ${user} : TTY=pts/0 ; PWD=/home/${user} ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow`;

/**
 * The whole service on Postgres reached through a loopback proxy this test cuts and restores:
 * an outage of this test's connections only.
 */
describe.skipIf(!url)('a database outage (Postgres behind a proxy that is cut)', () => {
  let dir: string;
  let store: TestStore;
  let proxy: TcpProxy;
  let proxied: VouchDatabase;
  let service: RunningService;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-outage-'));
    store = await createTestStore('postgres');
    const target = new URL(url);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.start();
    const through = new URL(url);
    through.host = `127.0.0.1:${port}`;
    proxied = await openDatabase({ url: through.toString(), dataDir: null, schema: store.schema, poolSize: 3, connectTimeoutMs: 2000 });
    const file = path.join(dir, 'vouch.yml');
    await writeFile(file, 'server: { port: 0 }\nsources:\n  - { name: fleet, type: sudo }\n');
    const config = loadConfig({ file, env: { VOUCH_INGEST_TOKEN_FLEET: TOKEN, VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
    service = await startService({
      config,
      store: proxied,
      autoRun: false,
      logger: silentLogger,
      clock: new ManualClock(new Date('2026-11-24T15:00:00Z')),
      ingestRetry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    });
  });

  afterEach(async () => {
    await service.stop();
    await proxied.close();
    await proxy.stop();
    await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: string) =>
    fetch(`${service.url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body });
  const health = async () => {
    const response = await fetch(`${service.url}/healthz`);
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const storedUsers = async () =>
    (await store.db.selectFrom('command_events').select('login_user').orderBy('login_user').execute()).map((row) => row.login_user);

  it('answers 503 during the outage, never crashes, and stores every event exactly once after it', async () => {
    expect((await post(line(1, 'alice'))).status).toBe(200);
    expect((await health()).status).toBe(200);

    await proxy.cut();
    const down = await health();
    expect(down).toEqual({ status: 503, json: { status: 'unavailable', reason: expect.any(String) as string } });
    const refused = await post([line(1, 'alice'), line(2, 'bob')].join('\n'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // The job runner's round fails and is logged; nothing escapes.
    service.runner.wake();
    await service.runner.idle();

    await proxy.restore();
    expect((await health()).status).toBe(200);
    // The shipper sends the refused batch again: alice's event is a duplicate, bob's is new.
    const retried = await post([line(1, 'alice'), line(2, 'bob')].join('\n'));
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ matched: 2, stored: 1, duplicates: 1 });
    expect(await storedUsers()).toEqual(['alice', 'bob']);
  });

  it('says the database is busy, not down, while a held lock keeps every pooled connection waiting', async () => {
    expect((await post(line(1, 'alice'))).status).toBe(200);
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`lock table "${store.schema}".command_events in access exclusive mode`);
      // More requests than the pool (3) has connections: each waits on the lock.
      const waiting = [2, 3, 4, 5].map((pid) => post(line(pid, `user${pid}`)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await health()).toEqual({ status: 200, json: { status: 'degraded', reason: 'database busy: every connection is in use', database: 'postgres', sandbox: true } });
      await locker.query('commit');
      expect((await Promise.all(waiting)).map((response) => response.status)).toEqual([200, 200, 200, 200]);
    } finally {
      await locker.end();
    }
    expect((await health()).json).toMatchObject({ status: 'ok' });
  });
});

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!url)('a start while the database is unreachable', () => {
  let dir: string;
  let store: TestStore;
  let proxy: TcpProxy;
  let proxyPort: number;
  let service: RunningService | null = null;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-start-outage-'));
    store = await createTestStore('postgres');
    const target = new URL(url);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxyPort = await proxy.start();
  });

  afterEach(async () => {
    await service?.stop();
    service = null;
    await proxy.stop();
    await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 while it waits, logs each try, and starts by itself once the database is back', async () => {
    await proxy.cut();
    const through = new URL(url);
    through.host = `127.0.0.1:${proxyPort}`;
    const port = await freePort();
    const file = path.join(dir, 'vouch.yml');
    await writeFile(file, `server: { port: ${port} }\ndatabase: { url: "${through.toString()}" }\nsources:\n  - { name: fleet, type: sudo }\n`);
    const config = loadConfig({ file, env: { VOUCH_INGEST_TOKEN_FLEET: TOKEN, VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
    const logged: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => logged.push(line) });
    const started = startService({
      config,
      autoRun: false,
      logger,
      clock: new ManualClock(new Date('2026-11-24T15:00:00Z')),
      databaseWait: { firstWaitMs: 50, maxWaitMs: 200 },
      storeOptions: { schema: store.schema, connectTimeoutMs: 1000 },
    });
    const base = `http://127.0.0.1:${port}`;
    let health: Response | null = null;
    for (let tries = 0; tries < 100 && health?.status !== 503; tries++) {
      health = await fetch(`${base}/healthz`).catch(() => null);
      if (health?.status !== 503) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(health?.status).toBe(503);
    expect(await health?.json()).toEqual({ status: 'unavailable', reason: 'waiting for the database' });
    const refused = await fetch(`${base}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: line(1, 'alice') });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    // A few tries fail, each logged; then the database is back and the start goes on by itself.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await proxy.restore();
    service = await started;
    expect(logged.filter((entry) => entry.includes('database not ready (connecting)')).length).toBeGreaterThanOrEqual(2);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const stored = await fetch(`${base}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: line(1, 'alice') });
    expect(stored.status).toBe(200);
  });

  it('still refuses at once a database that turns the credentials away', async () => {
    const wrong = new URL(url);
    wrong.username = 'no_such_role_for_vouch';
    const file = path.join(dir, 'vouch.yml');
    await writeFile(file, `server: { port: 0 }\ndatabase: { url: "${wrong.toString()}" }\n`);
    const config = loadConfig({ file, env: { VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
    await expect(startService({ config, autoRun: false, logger: silentLogger, databaseWait: { firstWaitMs: 50 }, storeOptions: { schema: store.schema } })).rejects.toThrow(
      /cannot reach the database/,
    );
  });
});
