import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RequestError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { ReviewerIdentity } from '../../src/review/console/console-auth.js';
import { routeApiTokens } from '../../src/review/console/api-tokens.js';
import { HttpServer } from '../../src/server/http-server.js';
import { routeReviewApi } from '../../src/server/review-api.js';
import { auditTrailFor, verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import { reviewsOf } from '../../src/store/queries/reviews.js';
import { activePauses, pauseSecondFactor } from '../../src/store/queries/second-factor.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { fakeConsoleAuth } from '../review/console/fake-console-auth.js';
import { seedAlerts } from '../review/console/seed-alerts.js';

const TOKEN = 'review-token-0123456789abcdef';
const NOW = new Date('2026-11-24T15:00:00Z');

/**
 * Text in JSON bodies the review API stores: NUL (which Postgres text and jsonb refuse) is a 400
 * naming the field; a lone surrogate (which UTF-8 cannot encode, and jsonb refuses) is stored as
 * U+FFFD, as undecodable bytes are; other control characters are stored as sent.
 */
describe.each(storeKinds())('text the review API stores (%s)', (kind) => {
  let store: TestStore;
  let http: HttpServer;
  let url: string;

  beforeAll(async () => {
    store = await createTestStore(kind);
    await seedAlerts(store.db, [{ id: 'done-1', status: 'verified' }, { id: 'done-2', status: 'escalated' }]);
    await pauseSecondFactor(store.db, { username: 'alice.smith', login: 'alice', alertId: 'done-2', reason: 'fraud_reported', at: NOW });
    http = new HttpServer(silentLogger);
    const auth = {
      ...fakeConsoleAuth(),
      apiIdentity: async (req: IncomingMessage): Promise<ReviewerIdentity> => {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) throw new RequestError(401, 'missing or wrong bearer token');
        return { actor: 'token:test', name: 'test', reviewer: true, admin: true, kind: 'token' };
      },
    };
    // 'r\uFFFD': a rule id as a lone surrogate in the body is stored, and must be known to be accepted.
    routeReviewApi(http, { db: store.db, clock: new ManualClock(NOW), auth, ruleIds: new Set(['r', 'r\uFFFD', 'shadow-read', 'reverse-shell']) });
    routeApiTokens(http, { db: store.db, clock: new ManualClock(NOW), auth });
    url = await http.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await http.close();
    await store.destroy();
  });

  // Raw JSON text, so escapes such as \u0000 and \ud800 reach the server exactly as written.
  const post = async (target: string, json: string) => {
    const response = await fetch(`${url}${target}`, { method: 'POST', body: json, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it.each([
    ['/api/alerts/done-1/review', '{"note":"a\\u0000b"}', 'note'],
    ['/api/people/alice/second-factor/resume', '{"note":"a\\u0000b"}', 'note'],
    ['/api/suppressions', '{"reason":"a\\u0000b","for":"1d","rule":"r"}', 'reason'],
    ['/api/suppressions', '{"reason":"ok","for":"1d","rule":"r\\u0000"}', 'rule'],
    ['/api/suppressions', '{"reason":"ok","for":"1d","command":"ls\\u0000"}', 'command'],
    ['/api/suppressions', '{"reason":"ok","for":"1d","rule":"r","host":"db-\\u0000"}', 'host'],
    ['/api/suppressions', '{"reason":"ok","for":"1\\u0000d","rule":"r"}', 'for'],
    ['/api/tokens', '{"name":"nightly\\u0000"}', 'name'],
  ])('POST %s with a NUL in its text is a 400 naming the field', async (target, json, field) => {
    const answer = await post(target, json);
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(String(answer.body.error)).toMatch(new RegExp(`^${field}: `));
  });

  it('stores a review note holding a lone surrogate as U+FFFD, the trail still verifying', async () => {
    const answer = await post('/api/alerts/done-1/review', '{"note":"a\\ud800b \\udc00 \\u0001\\u001b[2J\\u007f"}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const expected = 'a\uFFFDb \uFFFD \u0001\u001b[2J\u007f';
    expect(answer.body.review_note).toBe(expected);
    expect((await reviewsOf(store.db, 'done-1')).map((review) => review.note)).toEqual([expected]);
    expect((await auditTrailFor(store.db, 'done-1')).at(-1)).toMatchObject({ action: 'reviewed', detail: { note: expected } });
    expect((await verifyAuditTrail(store.db)).ok).toBe(true);
  });

  it('stores a suppression whose text holds lone surrogates and control characters', async () => {
    const answer = await post('/api/suppressions', '{"reason":"window \\ud83d","for":"1d","rule":"r\\udfff","user":"al\\u0007ice","host":"db-\\u0001*","command":"cat \\ud800\\u001b /etc/shadow"}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ reason: 'window \uFFFD', rule: 'r\uFFFD', user: 'al\u0007ice', host: 'db-\u0001*', command: 'cat \uFFFD\u001b /etc/shadow' });
    expect((await verifyAuditTrail(store.db)).ok).toBe(true);
  });

  it('refuses a suppression of a rule the service does not run, listing the close ones, and stores nothing', async () => {
    const before = (await store.db.selectFrom('suppressions').select('id').execute()).length;
    const typo = await post('/api/suppressions', '{"reason":"window","for":"1d","rule":"shadow-raed"}');
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatch(/^rule: "shadow-raed" is not a rule this service runs, .*did you mean shadow-read\?$/);
    const unknown = await post('/api/suppressions', '{"reason":"window","for":"1d","rule":"no-such-rule"}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^rule: "no-such-rule" is not a rule this service runs/);
    expect((await store.db.selectFrom('suppressions').select('id').execute()).length).toBe(before);
  });

  it('resumes pushes with a note holding a lone surrogate', async () => {
    const answer = await post('/api/people/alice/second-factor/resume', '{"note":"new phone \\udbff\\u0002"}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(await activePauses(store.db)).toEqual([]);
    expect((await auditTrailFor(store.db, 'done-2')).at(-1)).toMatchObject({ action: 'second_factor_resumed', detail: { note: 'new phone \uFFFD\u0002' } });
    expect((await verifyAuditTrail(store.db)).ok).toBe(true);
  });

  it('refuses a token name holding a lone surrogate or a control character', async () => {
    expect((await post('/api/tokens', '{"name":"nightly\\ud800"}')).status).toBe(400);
    expect((await post('/api/tokens', '{"name":"nightly\\u0001"}')).status).toBe(400);
  });
});
