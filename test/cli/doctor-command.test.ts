import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctorCommand } from '../../src/cli/doctor-command.js';
import { openConfiguredStore } from '../../src/cli/open-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { assertStartable } from '../../src/config/sandbox-mode.js';
import { serviceFilePath } from '../../src/service-file.js';
import { openNotice } from '../../src/store/queries/health.js';

describe('vouch doctor', () => {
  it('says a database that was never migrated is not migrated yet, then passes once it is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const config = loadConfig({ env: { VOUCH_DATA_DIR: path.join(dir, 'data') } });
    const before = await doctorCommand(config);
    expect(before.ok).toBe(false);
    expect(before.text).toMatch(/FAIL\s+database\s+pglite reachable but not migrated yet: run vouch migrate\n/);
    expect(before.text).not.toMatch(/relation|does not exist|at .*\.js/);

    const store = await openConfiguredStore(config, { migrate: true });
    await store.close();
    const after = await doctorCommand(config);
    expect(after.text).toMatch(/ok\s+database\s+pglite reachable; audit trail intact/);
  }, 60_000);

  it('never calls the review API fine while its database is not migrated or not reachable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const unmigrated = await doctorCommand(loadConfig({ env: { VOUCH_DATA_DIR: path.join(dir, 'data') } }));
    const unreachable = await doctorCommand(loadConfig({ env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', VOUCH_REVIEW_TOKEN: 'r'.repeat(32) } }));
    for (const result of [unmigrated, unreachable]) {
      expect(result.text).toMatch(/FAIL\s+database\s+/);
      expect(result.text).toMatch(/\nFAIL\s+review\s+not checked: the review API keeps its tokens in the database and serves everything from it, and doctor could not use it \(see the database check\)\n/);
      expect(result.text).not.toMatch(/ok\s+review/);
    }
  }, 60_000);

  it('says how to set a review token when none is configured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const config = loadConfig({ env: { VOUCH_DATA_DIR: path.join(dir, 'data') } });
    await (await openConfiguredStore(config, { migrate: true })).close();
    const { text } = await doctorCommand(config);
    expect(text).toMatch(/ok\s+review\s+review API token generated .*set review\.token or VOUCH_REVIEW_TOKEN \(at least 32 characters: openssl rand -hex 32\)/);
  }, 60_000);

  it('fails the health check while a pipeline health notice is open, naming its host', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const config = loadConfig({ env: { VOUCH_DATA_DIR: path.join(dir, 'data') } });
    // One process at a time on the embedded database: doctor opens it itself.
    await (await openConfiguredStore(config, { migrate: true })).close();
    const healthy = await doctorCommand(config);
    expect(healthy.text).toMatch(/ok\s+health\s+no open pipeline health notices\n/);
    const store = await openConfiguredStore(config, { migrate: false });
    await openNotice(store.db, { host: 'db-1\u202e', kind: 'auditd_stopped', detail: 'auditd stopped', at: new Date('2026-12-01T10:00:00Z'), count: true });
    await store.close();
    const result = await doctorCommand(config);
    expect(result.ok).toBe(false);
    expect(result.text).toMatch(/FAIL\s+health\s+1 open pipeline health notice: auditd stopped on db-1\\u202e since 2026-12-01T10:00:00.000Z\n/);
  }, 60_000);

  it('fails the config check with start-up\'s own refusal when start would refuse', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const file = path.join(dir, 'vouch.yml');
    writeFileSync(file, 'server: { port: 18483 }\ndatabase: { data_dir: ./data }\nsources:\n  - { name: fleet, type: auditd, token: a-long-random-token-0123456789 }\n');
    const config = loadConfig({ file, env: {} });
    let refusal = '';
    try {
      assertStartable(config);
    } catch (error) {
      refusal = (error as Error).message;
    }
    expect(refusal).toMatch(/live mode .* needs Slack and Duo credentials/);
    const result = await doctorCommand(config);
    expect(result.ok).toBe(false);
    expect(result.text.split('\n')[0]).toBe(`FAIL  config    ${refusal}`);

    const sandbox = await doctorCommand(loadConfig({ env: { VOUCH_SANDBOX: '1', VOUCH_HOST: '0.0.0.0', VOUCH_DATA_DIR: path.join(dir, 'sandbox') } }));
    expect(sandbox.text).toMatch(/^FAIL\s+config\s+config server\.host: the sandbox listens on loopback only/);
  }, 60_000);

  it('refuses to open the embedded database while the service runs on it, as migrate does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-doctor-'));
    const dataDir = path.join(dir, 'data');
    const config = loadConfig({ env: { VOUCH_DATA_DIR: dataDir } });
    const setup = await openConfiguredStore(config, { migrate: true });
    await setup.close();
    // What a running service leaves in its data directory (this process stands in for it: alive).
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(serviceFilePath(dataDir), JSON.stringify({ url: 'http://127.0.0.1:18481', token: 't'.repeat(32), pid: process.pid }));
    const result = await doctorCommand(config);
    expect(result.ok).toBe(false);
    expect(result.text).toMatch(
      new RegExp(`FAIL\\s+database\\s+the service is running \\(pid ${process.pid}\\) on the embedded database, which only one process can open\\. Stop the service and run vouch doctor again.*http://127\\.0\\.0\\.1:18481/healthz`),
    );
    await expect(openConfiguredStore(config, { migrate: true })).rejects.toThrow(/only one process can open\. Stop the service and run this again\./);
  }, 60_000);
});
