import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuditLog } from '../../bench/generate-auditd.js';
import { lineBodies, readBacklogOverHttp } from '../../bench/ingest-http.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

describe('the POST /ingest backlog benchmark', () => {
  let dir: string;
  let log: string;
  let execEvents: number;
  let store: TestStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vouch-ingest-http-'));
    log = path.join(dir, 'audit.log');
    execEvents = (await writeAuditLog(log, { commands: 400, seed: 3 })).execEvents;
    store = await createTestStore();
  });

  afterAll(async () => {
    await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a log into bodies of whole lines that add up to the whole log', () => {
    const bytes = Buffer.from(['type=SYSCALL a\n', 'type=EOE msg=1\n', 'type=SYSCALL b\n', 'type=EOE msg=2\n', 'type=SYSCALL c\n'].join(''));
    const bodies = lineBodies(bytes, 40);
    expect(Buffer.concat(bodies).equals(bytes)).toBe(true);
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies.slice(0, -1)) expect(body.toString()).toMatch(/\n$/);
  });

  it('sends every event of the log through the real server and stores its rule hits', async () => {
    const run = await readBacklogOverHttp(store, log, { dedupeWindowMs: 86_400_000, fleetWindowMs: 600_000, reuseWindowMs: 900_000, systemActor: 'escalate' }, 16 * 1024);
    expect(run.requests).toBeGreaterThan(3);
    expect(run.events).toBe(execEvents);
    const stored = await store.db.selectFrom('command_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(run.stored).toBe(Number(stored.n));
    expect(run.stored).toBeGreaterThan(0);
  });
});
