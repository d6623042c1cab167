import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { makeEvent } from '../detect/make-event.js';

const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const policy = loadConfig({ env: {} }).workflow;

function shadowRead(key: string, fields: Partial<CommandEvent> = {}): CommandEvent {
  return makeEvent(['cat', '/etc/shadow'], { time: new Date('2026-11-24T14:00:00Z'), sourceFormat: 'json', eventKey: key, ...fields });
}

describe.each(storeKinds())('folding identical commands on %s', (kind) => {
  let store: TestStore;
  let ingestor: Ingestor;

  beforeEach(async () => {
    store = await createTestStore(kind);
    ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy, clock });
  });

  afterEach(async () => {
    await store.destroy();
  });

  const alerts = () => store.db.selectFrom('alerts').select(['id', 'host', 'occurrences', 'status']).orderBy('host').execute();
  const trail = (alertId: string) => store.db.selectFrom('audit_trail').select('action').where('alert_id', '=', alertId).orderBy('id').execute();

  it('folds repeats within one batch into the alert the batch created, counted once per repeat', async () => {
    const stats = await ingestor.ingest('s', {
      events: [shadowRead('a'), shadowRead('b'), shadowRead('c', { host: 'web-2' }), shadowRead('d')],
      malformed: [],
    });
    expect(stats).toMatchObject({ alertsCreated: 2, alertsFolded: 2 });
    const rows = await alerts();
    expect(rows.map((r) => [r.host, r.occurrences])).toEqual([['web-1', 3], ['web-2', 1]]);
    expect((await trail(rows[0]!.id)).map((r) => r.action)).toEqual(['created', 'repeated', 'repeated']);
    const jobs = await store.db.selectFrom('jobs').select(['alert_id', 'kind']).execute();
    expect(jobs.filter((j) => j.kind === 'ask')).toHaveLength(2);
  });

  it("writes a batch's trail in order, and the hash chain holds across batches", async () => {
    for (let batch = 0; batch < 3; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => shadowRead(`k${batch}-${i}`, { host: `web-${i % 7}` }));
      await ingestor.ingest('s', { events, malformed: [] });
    }
    expect(await verifyAuditTrail(store.db)).toMatchObject({ ok: true, rows: 150 });
    const first = await store.db.selectFrom('audit_trail').select(['id', 'action']).orderBy('id').limit(8).execute();
    expect(first.map((r) => r.action)).toEqual(['created', 'created', 'created', 'created', 'created', 'created', 'created', 'repeated']);
  });

  it('folds a later batch into the alert of an earlier one, and never into an escalated one', async () => {
    await ingestor.ingest('s', { events: [shadowRead('a')], malformed: [] });
    await ingestor.ingest('s', { events: [shadowRead('b'), shadowRead('c')], malformed: [] });
    let rows = await alerts();
    expect(rows.map((r) => r.occurrences)).toEqual([3]);
    await store.db.updateTable('alerts').set({ status: 'escalated' }).execute();
    const stats = await ingestor.ingest('s', { events: [shadowRead('d'), shadowRead('e')], malformed: [] });
    expect(stats).toMatchObject({ alertsCreated: 1, alertsFolded: 1 });
    rows = await alerts();
    expect(rows.map((r) => [r.status, r.occurrences]).sort()).toEqual([['escalated', 3], ['new', 2]]);
  });
});
