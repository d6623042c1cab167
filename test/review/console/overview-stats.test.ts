import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overviewStats } from '../../../src/review/console/overview-stats.js';
import { createTestStore, storeKinds, type TestStore } from '../../helpers/test-store.js';
import { seedAlerts } from './seed-alerts.js';

describe.each(storeKinds())('overview numbers (%s)', (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
    await seedAlerts(store.db, [
      ...Array.from({ length: 5 }, (_, index) => ({ id: `v${index}`, rule_id: 'often-fine', occurred_at: new Date(Date.UTC(2026, 10, 23, 9, index)) })),
      { id: 'e1', status: 'escalated', rule_id: 'often-fine', escalation_reason: 'no_response', occurred_at: new Date(Date.UTC(2026, 10, 24, 9)), answered_at: null },
      { id: 'e2', status: 'escalated', owner: 'bob', escalation_reason: 'denied_by_user', occurred_at: new Date(Date.UTC(2026, 10, 24, 10)) },
    ]);
  });
  afterAll(() => store.destroy());

  it('counts alerts per day by outcome, answer times, escalation reasons, the noisiest, and tuning candidates', async () => {
    const stats = await overviewStats(store.db, new Date(Date.UTC(2026, 10, 22)), new Date(Date.UTC(2026, 10, 25)));
    expect(stats.days).toEqual([
      { day: '2026-11-22', byStatus: {} },
      { day: '2026-11-23', byStatus: { verified: 5 } },
      { day: '2026-11-24', byStatus: { escalated: 2 } },
    ]);
    // Seeded answers come 60 s after the question.
    expect(stats.answerMedianSeconds).toBe(60);
    expect(stats.answered).toBe(6);
    expect(stats.escalationsByReason).toEqual([{ key: 'denied_by_user', count: 1 }, { key: 'no_response', count: 1 }]);
    expect(stats.noisiestRules[0]).toEqual({ key: 'often-fine', count: 6 });
    expect(stats.noisiestPeople).toEqual([{ key: 'alice', count: 6 }, { key: 'bob', count: 1 }]);
    // 5 of 6 verified is under 90%: not suggested.
    expect(stats.tuning).toEqual([]);
    const earlier = await overviewStats(store.db, new Date(Date.UTC(2026, 10, 23)), new Date(Date.UTC(2026, 10, 24)));
    expect(earlier.tuning).toEqual([{ rule: 'often-fine', hits: 5, verified: 5 }]);
  });
});
