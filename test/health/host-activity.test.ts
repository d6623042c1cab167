import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { makeEvent } from '../detect/make-event.js';

const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const policy = loadConfig({ env: {} }).workflow;

describe('hosts heard from', () => {
  let store: TestStore;
  beforeEach(async () => {
    store = await createTestStore();
  });
  afterEach(async () => store.destroy());

  const heard = () => store.db.selectFrom('host_activity').select(['host', 'source', 'last_seen_at']).orderBy('host').execute();
  // Commands that match no rule: only the hosts are worth writing down.
  const batch = { events: [makeEvent(['ls'], { host: 'web-2', eventKey: 'a' }), makeEvent(['id'], { host: 'web-1', eventKey: 'b' })], malformed: [] };

  it('are noted by the running service for every batch, hits or not', async () => {
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy, clock, recordHostActivity: true });
    await ingestor.ingest('audit', batch);
    expect(await heard()).toEqual([
      { host: 'web-1', source: 'audit', last_seen_at: clock.now() },
      { host: 'web-2', source: 'audit', last_seen_at: clock.now() },
    ]);
  });

  it('are not noted by a backfill of old logs, whose hosts would otherwise seem to go silent', async () => {
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy, clock });
    await ingestor.ingest('audit', batch);
    expect(await heard()).toEqual([]);
  });
});
