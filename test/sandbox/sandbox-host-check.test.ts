import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** GET with a chosen Host header (fetch does not let a caller set it). */
function get(url: string, host: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the sandbox checks the Host header of every request', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;
  let port: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-host-'));
    store = await createTestStore();
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir } }), store, autoRun: false, logger: silentLogger });
    port = new URL(service.url).port;
  });

  afterAll(async () => {
    await service.stop();
    await store.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers loopback names with its own port', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect(await get(`${service.url}/sandbox/api/state`, host)).toBe(200);
    }
  });

  it('refuses a rebound DNS name, or another port, before any route (state, healthz)', async () => {
    for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost:${Number(port) + 1}`, '127.0.0.1', `127.0.0.1.nip.io:${port}`]) {
      expect(await get(`${service.url}/sandbox/api/state`, host)).toBe(421);
      expect(await get(`${service.url}/healthz`, host)).toBe(421);
    }
  });
});
