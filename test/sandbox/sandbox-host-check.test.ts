import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { sandboxHostGuard } from '../../src/sandbox/sandbox-host-check.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** GET with a chosen Host header (fetch does not let a caller set it). */
function get(url: string, host: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    // URL keeps an IPv6 literal's brackets; the socket wants it bare.
    const req = request({ host: target.hostname.replace(/^\[(.*)\]$/, '$1'), port: target.port, path: target.pathname, headers: { host } }, (res) => {
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

describe('the sandbox on another loopback address', () => {
  it.each(['::1', '[::1]', '127.0.0.2'])('starts on VOUCH_HOST=%s and answers requests addressed to it', async (host) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-host-'));
    const store = await createTestStore();
    const service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir, VOUCH_HOST: host } }), store, autoRun: false, logger: silentLogger });
    try {
      const url = new URL(service.url);
      expect(url.hostname).toBe(host === '127.0.0.2' ? '127.0.0.2' : '[::1]');
      // fetch sends the URL's own host and port as Host, as a browser does.
      expect((await fetch(`${service.url}/sandbox/api/state`)).status).toBe(200);
      expect(await get(`${service.url}/healthz`, `attacker.example:${url.port}`)).toBe(421);
    } finally {
      await service.stop();
      await store.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('accepts the bound address beside the loopback names, bracketing an IPv6 literal', () => {
    const request = (host: string) => ({ headers: { host } }) as Parameters<ReturnType<typeof sandboxHostGuard>>[0];
    const v4 = sandboxHostGuard({ port: 8080, host: '127.0.0.2' });
    for (const host of ['127.0.0.2:8080', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080']) expect(v4(request(host))).toBeNull();
    expect(v4(request('127.0.0.3:8080'))).toMatchObject({ status: 421 });
    const v6 = sandboxHostGuard({ port: 80, host: '::1' });
    expect(v6(request('[::1]'))).toBeNull();
    expect(v6(request('::1'))).toMatchObject({ status: 421 });
  });
});
