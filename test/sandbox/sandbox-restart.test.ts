import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import type { SandboxState, SandboxUser } from '../../src/sandbox/sandbox-state.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const COMMAND = 'cat /etc/shadow';
const REASON = 'Rotating the root password for ticket OPS-1234';

/** The sandbox is restarted mid-conversation (an asked alert, then a pending push) and finishes it. */
describe('a restarted sandbox continues its conversations', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  const start = async () => {
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir } }), store, logger: silentLogger });
  };
  const restart = async () => {
    await service.stop();
    await start();
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-restart-'));
    store = await createTestStore();
    await start();
  });

  afterAll(async () => {
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${service.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async function waitFor<T>(what: string, pick: (state: SandboxState) => T | null | undefined | false): Promise<T> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const state = (await (await fetch(`${service.url}/sandbox/api/state`)).json()) as SandboxState;
      const found = pick(state);
      if (found !== null && found !== undefined && found !== false) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const alice = (state: SandboxState): SandboxUser => {
    const found = state.users.find((candidate) => candidate.name === 'alice');
    if (!found) throw new Error('no alice');
    return found;
  };

  it('answers a question asked before the restart, and approves a push sent before the next one', async () => {
    const question = await waitFor('alice’s question', (s) => alice(s).dm.find((m) => JSON.stringify(m.blocks).includes(COMMAND) && JSON.stringify(m.blocks).includes('vouch.confirm')));

    await restart();
    const asked = await waitFor('the question after the restart', (s) => alice(s).dm.find((m) => m.ts === question.ts));
    expect(JSON.stringify(asked.blocks)).toContain('vouch.confirm');
    expect((await post('/sandbox/api/click', { userId: 'UALICE', channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' })).status).toBe(200);
    const view = await waitFor('the justification modal', (s) => alice(s).view);
    expect((await post('/sandbox/api/submit', { userId: 'UALICE', viewId: view.id, reason: REASON })).status).toBe(200);
    const push = await waitFor('a pending push', (s) => alice(s).pushes[0]);

    await restart();
    const pending = await waitFor('the push after the restart', (s) => alice(s).pushes.find((p) => p.txid === push.txid));
    expect(pending.pushinfo).toMatchObject({ command: COMMAND });
    expect((await post('/sandbox/api/push', { txid: push.txid, answer: 'allow' })).status).toBe(200);
    const verified = await waitFor('the alert verified', (s) => s.alerts.find((a) => a.command === COMMAND && a.status === 'verified'));
    expect(verified).toMatchObject({ owner: 'alice', secondFactor: 'allow', justification: REASON });
    await waitFor('the DM updated in place', (s) => {
      const message = alice(s).dm.find((m) => m.ts === question.ts);
      return message !== undefined && JSON.stringify(message.blocks).includes('Verified');
    });
  }, 60_000);

  it('keeps the simulators’ state in private files under the data directory', () => {
    const sandboxDir = path.join(dir, 'sandbox');
    const files = readdirSync(sandboxDir);
    expect(files).toEqual(expect.arrayContaining(['slack.json', 'duo.json']));
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    for (const name of ['slack.json', 'duo.json']) expect(statSync(path.join(sandboxDir, name)).mode & 0o777).toBe(0o600);
  });
});
