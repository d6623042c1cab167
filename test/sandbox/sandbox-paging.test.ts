import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import type { SandboxState } from '../../src/sandbox/sandbox-state.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const COMMAND = 'useradd -o -u 0 toor';

/** A critical escalation in the sandbox pages its simulated PagerDuty, as a live one pages the real one. */
describe('the sandbox pages its own PagerDuty', { timeout: 60_000 }, () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-paging-'));
    store = await createTestStore();
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir } }), store, logger: silentLogger });
  });

  afterAll(async () => {
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages a critical command, and the state shows the page', async () => {
    // mallory has no Slack account, so her conversation escalates: with a critical command in it,
    // the conversation pages (its lead, or the command itself when it came after the escalation).
    const run = await fetch(`${service.url}/sandbox/api/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'mallory', command: COMMAND, host: 'web-9', asRoot: true }),
    });
    expect(run.status).toBe(200);
    let paged: SandboxState['alerts'][number] | undefined;
    for (let attempt = 0; attempt < 400 && !paged; attempt++) {
      const state = (await (await fetch(`${service.url}/sandbox/api/state`)).json()) as SandboxState;
      paged = state.alerts.find((alert) => alert.owner === 'mallory' && alert.notes.some((note) => note.kind === 'page'));
      if (!paged) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(paged?.severity).toBe('critical');
    expect(paged?.notes.find((note) => note.kind === 'page')?.text).toMatch(/^PagerDuty incident triggered/);
    const rows = await store.db.selectFrom('alerts').select(['paged_at']).where('owner', '=', 'mallory').execute();
    expect(rows.filter((row) => row.paged_at !== null)).toHaveLength(1);
  });
});
