import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { renderOverviewPage } from '../../../src/review/console/overview-page.js';
import { createTestStore, storeKinds, type TestStore } from '../../helpers/test-store.js';
import { DEMO_IDENTITIES } from './fake-console-auth.js';
import { seedAlerts } from './seed-alerts.js';

const NOW = new Date('2026-11-24T15:00:00Z');

describe.each(storeKinds())('the overview page\'s period (%s)', (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
    await seedAlerts(store.db, [
      // Eight days back: outside the last 7, early and late in that day.
      { id: 'eighth-day-morning', owner: 'bob', occurred_at: new Date('2026-11-17T09:00:00Z') },
      { id: 'eighth-day-evening', owner: 'bob', occurred_at: new Date('2026-11-17T16:00:00Z') },
      { id: 'first-day', occurred_at: new Date('2026-11-18T00:30:00Z') },
      { id: 'today', occurred_at: new Date('2026-11-24T14:00:00Z') },
    ]);
  });
  afterAll(() => store.destroy());

  const overview = async (query: string) =>
    (await renderOverviewPage({ db: store.db, clock: new ManualClock(NOW), identity: DEMO_IDENTITIES.dana!, url: new URL(`http://vouch.test/review/overview${query}`) })).markup;

  it('draws N whole UTC days ending today, and every figure counts those days', async () => {
    const page = await overview('?days=7');
    expect(page).toContain('aria-label="Alerts per day: 2 alerts over 7 days, at most 1 in a day"');
    expect(page).toContain('<title>2026-11-18: 1 verified</title>');
    expect(page).toContain('<title>2026-11-24: 1 verified</title>');
    expect(page).not.toContain('2026-11-17');
    expect(page).toContain('Last 7 days: <span id="overview-range">2026-11-18 to 2026-11-24</span>');
    expect(page).toContain('<dt>Answered</dt><dd>2</dd>');
    // The people and rules are those days' too, and their links open the queue on the same days.
    expect(page).not.toContain('>bob<');
    expect(page).toContain('href="/review?user=alice&amp;since=2026-11-18"');
  });

  it('takes one day to mean today so far', async () => {
    const page = await overview('?days=1');
    expect(page).toContain('aria-label="Alerts per day: 1 alert over 1 day, at most 1 in a day"');
    expect(page).toContain('Last day: <span id="overview-range">2026-11-24</span>');
    expect(page).toContain('<dt>Answered</dt><dd>1</dd>');
  });
});
