import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const TOKEN = 'fleet-token-0123456789abcdef';
let dir: string;
let store: TestStore;
let service: RunningService;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-ingest-wiring-'));
  store = await createTestStore();
  const file = path.join(dir, 'vouch.yml');
  await writeFile(file, 'server: { port: 0 }\nsources:\n  - { name: fleet, type: auto }\n');
  // The token comes from the environment, as operators are told to pass it.
  const config = loadConfig({ file, env: { VOUCH_INGEST_TOKEN_FLEET: TOKEN, VOUCH_DATA_DIR: dir, VOUCH_SANDBOX: '1' } });
  service = await startService({ config, store, autoRun: false, logger: silentLogger, clock: new ManualClock(new Date('2026-11-24T15:00:00Z')) });
});

afterEach(async () => {
  await service.stop();
  await store.destroy();
  await rm(dir, { recursive: true, force: true });
});

it('the running service takes audit events at POST /ingest for its HTTP sources', async () => {
  const line = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';
  const response = await fetch(`${service.url}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
    body: `${line}\n`,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ accepted: 1, matched: 1, alerts_created: 1 });
  const refused = await fetch(`${service.url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${service.reviewToken}` }, body: line });
  expect(refused.status).toBe(401);
  expect(await service.metrics.render(store.db)).toContain('vouch_events_total{source="fleet"} 1');
});
