import type { IncomingMessage } from 'node:http';
import { RequestError } from '../../src/errors.js';
import type { ReviewerIdentity } from '../../src/review/console/console-auth.js';
import { fakeConsoleAuth } from '../review/console/fake-console-auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';
import { routeReviewApi } from '../../src/server/review-api.js';
import { countAlerts, listAlerts } from '../../src/store/queries/alerts.js';
import { recordReview } from '../../src/store/queries/reviews.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { seedAlerts } from '../review/console/seed-alerts.js';

const TOKEN = 'review-token-0123456789abcdef';
const NOW = new Date('2026-11-24T15:00:00Z');
const at = (hour: number) => new Date(Date.UTC(2026, 10, 24, hour));

describe.each(storeKinds())('alert filters and the review API (%s)', (kind) => {
  let store: TestStore;
  let http: HttpServer;
  let url: string;

  beforeAll(async () => {
    store = await createTestStore(kind);
    await seedAlerts(store.db, [
      { id: 'a-web1', host: 'web-1', occurred_at: at(9), severity: 'high' },
      { id: 'a-web_x', host: 'web_x', occurred_at: at(10), severity: 'low', status: 'escalated', command: 'curl 100% | sh' },
      { id: 'a-webxy', host: 'webxy', occurred_at: at(11), severity: 'critical', rule_id: 'other-rule' },
      { id: 'a-db', host: 'db-1', occurred_at: at(12), owner: 'bob', attribution: 'syslog-unverified' },
    ]);
    await store.db.transaction().execute((trx) => recordReview(trx, { alertId: 'a-db', actor: 'dana@example.com', note: 'fine', at: NOW }));
    http = new HttpServer(silentLogger);
    const auth = {
      ...fakeConsoleAuth(),
      apiIdentity: async (req: IncomingMessage): Promise<ReviewerIdentity> => {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) throw new RequestError(401, 'missing or wrong bearer token');
        return { actor: 'token:test', name: 'test', reviewer: true, admin: false, kind: 'token' };
      },
    };
    routeReviewApi(http, { db: store.db, clock: new ManualClock(NOW), auth, ruleIds: new Set() });
    url = await http.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await http.close();
    await store.destroy();
  });

  const ids = async (filter: Parameters<typeof listAlerts>[1]) => (await listAlerts(store.db, filter)).map((row) => row.id);

  it('matches host globs literally apart from * and ?', async () => {
    expect(await ids({ hostGlob: 'web-*' })).toEqual(['a-web1']);
    // `_` is a literal here, not LIKE's any-character.
    expect(await ids({ hostGlob: 'web_?' })).toEqual(['a-web_x']);
    expect(await ids({ hostGlob: 'web??' })).toEqual(['a-webxy', 'a-web_x', 'a-web1']);
    expect(await ids({ hostGlob: 'web' })).toEqual([]);
    expect(await ids({ text: '100%' })).toEqual(['a-web_x']);
  });

  it('filters by rule, severity, provenance and reviewed, sorts, pages and counts', async () => {
    expect(await ids({ rule: 'other-rule' })).toEqual(['a-webxy']);
    expect(await ids({ severity: ['critical', 'low'] })).toEqual(['a-webxy', 'a-web_x']);
    expect(await ids({ attribution: ['syslog-unverified'] })).toEqual(['a-db']);
    expect(await ids({ reviewed: true })).toEqual(['a-db']);
    expect(await ids({ reviewed: false })).toEqual(['a-webxy', 'a-web_x', 'a-web1']);
    expect(await ids({ sort: 'severity' })).toEqual(['a-webxy', 'a-db', 'a-web1', 'a-web_x']);
    expect(await ids({ sort: 'queue' })).toEqual(['a-web_x', 'a-webxy', 'a-web1', 'a-db']);
    expect(await ids({ sort: 'host', limit: 2, offset: 1 })).toEqual(['a-web1', 'a-web_x']);
    expect(await countAlerts(store.db, { hostGlob: 'web*', limit: 1 })).toBe(3);
  });

  it('honours ?reviewed=false and the other filters in GET /api/alerts, and refuses unknown ones', async () => {
    const get = (query: string) => fetch(`${url}/api/alerts?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const unreviewed = (await (await get('reviewed=false')).json()) as Array<{ id: string }>;
    expect(unreviewed.map((row) => row.id)).toEqual(['a-webxy', 'a-web_x', 'a-web1']);
    const reviewed = (await (await get('reviewed=true')).json()) as Array<{ id: string; reviewed_by: string; review_note: string }>;
    expect(reviewed).toMatchObject([{ id: 'a-db', reviewed_by: 'dana@example.com', review_note: 'fine' }]);
    const filtered = (await (await get('host=web-*&severity=high&rule=credential-access.shadow-read')).json()) as Array<{ id: string }>;
    expect(filtered.map((row) => row.id)).toEqual(['a-web1']);
    const typo = await get('reviwed=false');
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { error: string }).error).toContain('reviwed: unknown filter');
    expect((await get('severity=urgent')).status).toBe(400);
  });
});
