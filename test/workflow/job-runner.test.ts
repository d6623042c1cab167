import type { KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { JobRunner } from '../../src/workflow/job-runner.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** Makes every query fail as a lost connection does while `down` is set. */
class Outage implements KyselyPlugin {
  down = false;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return args.node;
  };
  transformResult: KyselyPlugin['transformResult'] = async (args) => args.result;
}

describe('JobRunner when the database fails', () => {
  let store: TestStore;
  const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
  const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const logger: Logger = createLogger({ write: (line) => void logged.push(JSON.parse(line) as { message: string; fields: Record<string, unknown> }) });

  beforeEach(async () => {
    store = await createTestStore();
    logged.length = 0;
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
    const event = { time: clock.now(), host: 'web-1', user: 'alice', loginUid: 1000, runAs: 'root', argv: ['cat', '/etc/shadow'], command: 'cat /etc/shadow', exe: null, cwd: null, pid: 1, ppid: 1, sourceFormat: 'json', eventKey: 'k1' };
    await ingestor.ingest('test', { events: [event], malformed: [] });
  });

  afterEach(async () => {
    await store.destroy();
  });

  it('logs a failed round, pauses with backoff instead of hammering, and resumes by itself', async () => {
    const outage = new Outage();
    const handled: string[] = [];
    const runner = new JobRunner({ db: store.db.withPlugin(outage), clock, logger, handle: async (job) => void handled.push(job.kind) });
    outage.down = true;
    runner.wake();
    await runner.idle();
    expect(logged.map((line) => line.message)).toContain('job round failed; pausing');

    outage.down = false;
    runner.wake();
    await runner.idle();
    expect(handled).toEqual([]);

    clock.advance(1000);
    runner.wake();
    await runner.idle();
    expect(handled).toEqual(['ask']);
  });
});
