import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
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
});
