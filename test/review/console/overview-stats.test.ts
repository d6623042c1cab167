import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spanText } from '../../../src/review/console/overview-page.js';
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

describe.each(storeKinds())('overview numbers of conversations (%s)', (kind) => {
  let store: TestStore;
  const day = (hour: number, minute = 0) => new Date(Date.UTC(2026, 10, 24, hour, minute));
  const answeredAfter = (at: Date, seconds: number) => ({ occurred_at: at, asked_at: at, answered_at: new Date(at.getTime() + seconds * 1000) });

  beforeAll(async () => {
    store = await createTestStore(kind);
    // Members copy the lead's question and answer, as the workflow leaves them.
    const alice = answeredAfter(day(9), 600);
    const bob = { ...answeredAfter(day(11), 30), status: 'escalated', owner: 'bob', escalation_reason: 'no_response', answered_at: null };
    await seedAlerts(store.db, [
      ...Array.from({ length: 5 }, (_, index) => ({ id: `alice-${index}`, ...alice, conversation_id: 'alice-0', rule_id: index < 3 ? 'shadow-read' : 'sudoers-edit' })),
      { id: 'alice-single-1', ...answeredAfter(day(10), 60) },
      { id: 'alice-single-2', ...answeredAfter(day(10, 30), 120) },
      ...Array.from({ length: 4 }, (_, index) => ({ id: `bob-${index}`, ...bob, conversation_id: 'bob-0' })),
      { id: 'carol-1', status: 'escalated', owner: 'carol', escalation_reason: 'denied_by_user', occurred_at: day(12) },
      { id: 'carol-2', status: 'escalated', owner: 'carol', escalation_reason: 'denied_by_user', occurred_at: day(13) },
    ]);
  });
  afterAll(() => store.destroy());

  it('counts a conversation once in time to answer, escalations and people; alerts per day and rules count every alert', async () => {
    const stats = await overviewStats(store.db, new Date(Date.UTC(2026, 10, 24)), new Date(Date.UTC(2026, 10, 25)));
    // Alice's three answers, and carol's two refusals (bob never answered).
    expect(stats.answered).toBe(5);
    // Alice answered in 600 s (for five alerts at once), 60 s and 120 s.
    const aliceOnly = await overviewStats(store.db, day(0), day(10, 31));
    expect(aliceOnly.answered).toBe(3);
    expect(aliceOnly.answerMedianSeconds).toBe(120);
    expect(aliceOnly.answerP90Seconds).toBeCloseTo(504, 6);
    expect(spanText(aliceOnly.answerMedianSeconds)).toBe('2m 00s');
    expect(spanText(aliceOnly.answerP90Seconds)).toBe('8m 24s');

    expect(stats.escalationsByReason).toEqual([{ key: 'denied_by_user', count: 2 }, { key: 'no_response', count: 1 }]);
    expect(stats.noisiestPeople).toEqual([{ key: 'alice', count: 3 }, { key: 'carol', count: 2 }, { key: 'bob', count: 1 }]);
    expect(stats.days).toEqual([{ day: '2026-11-24', byStatus: { verified: 7, escalated: 6 } }]);
    expect(stats.noisiestRules).toEqual([{ key: 'credential-access.shadow-read', count: 8 }, { key: 'shadow-read', count: 3 }, { key: 'sudoers-edit', count: 2 }]);
  });
});
