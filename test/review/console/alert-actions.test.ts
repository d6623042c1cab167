import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { RequestError } from '../../../src/errors.js';
import { askAgain, assignAlert, createSuppression, markReviewed, type SuppressionContext } from '../../../src/review/console/alert-actions.js';
import { checkAlertTrail } from '../../../src/review/console/alert-trail-check.js';
import { auditTrailFor } from '../../../src/store/queries/audit-trail.js';
import { reviewsOf } from '../../../src/store/queries/reviews.js';
import { createTestStore, type TestStore } from '../../helpers/test-store.js';
import { DEMO_IDENTITIES } from './fake-console-auth.js';
import { seedAlerts } from './seed-alerts.js';

const NOW = new Date('2026-11-24T12:00:00Z');

describe('review console actions', () => {
  let store: TestStore;
  const ruleIds = new Set(['credential-access.shadow-read', 'reverse-shell']);
  const as = (who: keyof typeof DEMO_IDENTITIES): SuppressionContext => ({ db: store.db, clock: new ManualClock(NOW), identity: DEMO_IDENTITIES[who]!, ruleIds });
  const status = async (run: () => Promise<unknown>) => {
    try {
      await run();
      return 'done';
    } catch (error) {
      if (error instanceof RequestError) return error.status;
      throw error;
    }
  };

  beforeAll(async () => {
    store = await createTestStore();
    await seedAlerts(store.db, [
      { id: 'done-1', status: 'verified' },
      { id: 'open-1', status: 'asked' },
      { id: 'system-1', status: 'escalated', owner: null, escalation_reason: 'unknown_owner' },
      { id: 'tampered-1', status: 'verified' },
      { id: 'text-1', status: 'escalated' },
    ]);
  });
  afterAll(() => store.destroy());

  it('reviews only finished alerts, only as a reviewer, appending each review', async () => {
    expect(await status(() => markReviewed(as('nick'), 'done-1', 'x'))).toBe(403);
    expect(await status(() => markReviewed(as('dana'), 'open-1', 'x'))).toBe(409);
    expect(await status(() => markReviewed(as('dana'), 'missing', 'x'))).toBe(404);
    expect(await status(() => markReviewed(as('dana'), 'done-1', 'x'.repeat(2001)))).toBe(400);
    await markReviewed(as('dana'), 'done-1', 'first');
    await markReviewed(as('erin'), 'done-1', null);
    expect((await reviewsOf(store.db, 'done-1')).map((review) => [review.actor, review.note])).toEqual([['dana@example.com', 'first'], ['erin@example.com', null]]);
  });

  it('stores review notes and assignees as the database can hold them, the trail still verifying', async () => {
    expect(await status(() => markReviewed(as('dana'), 'text-1', 'a\u0000b'))).toBe(400);
    expect(await status(() => assignAlert(as('dana'), 'text-1', 'erin\ud800', ['erin\ud800']))).toBe('done');
    await markReviewed(as('dana'), 'text-1', 'lone \ud800 half \udc00, bell \u0007');
    expect((await reviewsOf(store.db, 'text-1')).map((review) => review.note)).toEqual(['lone \uFFFD half \uFFFD, bell \u0007']);
    const trail = await auditTrailFor(store.db, 'text-1');
    expect(trail.slice(-2).map((step) => step.detail)).toEqual([{ to: 'erin\uFFFD' }, { note: 'lone \uFFFD half \uFFFD, bell \u0007' }]);
    expect(await checkAlertTrail(store.db, 'text-1', trail)).toMatchObject({ ok: true });
  });

  it('asks again only about a finished alert that has an owner', async () => {
    expect(await status(() => askAgain(as('dana'), 'open-1'))).toBe(409);
    expect(await status(() => askAgain(as('dana'), 'system-1'))).toBe(409);
    expect(await status(() => askAgain(as('nick'), 'done-1'))).toBe(403);
  });

  it('records assignments in the trail, only to someone who may review', async () => {
    const reviewers = ['dana@example.com', 'Erin@Example.com'];
    expect(await status(() => assignAlert(as('dana'), 'open-1', 'erin@example.com\u0000', reviewers))).toBe(400);
    expect(await status(() => assignAlert(as('dana'), 'open-1', 'mallory@example.com', reviewers))).toBe(400);
    expect(await status(() => assignAlert(as('dana'), 'open-1', 'nobody at all <b>x</b>', reviewers))).toBe(400);
    await assignAlert(as('dana'), 'open-1', 'erin@example.com', reviewers);
    const trail = await auditTrailFor(store.db, 'open-1');
    // Recorded as the reviewer is listed.
    expect(trail.at(-1)).toMatchObject({ action: 'assigned', actor: 'dana@example.com', detail: { to: 'Erin@Example.com' } });
    await assignAlert(as('dana'), 'open-1', null, reviewers);
    expect((await auditTrailFor(store.db, 'open-1')).at(-1)).toMatchObject({ action: 'assigned', detail: { to: null } });
  });

  it('lets only admins suppress, validated as the API validates', async () => {
    const form = { rule: 'credential-access.shadow-read', user: null, host: 'db-*', command: null, reason: 'maintenance', for: '7d', fromAlert: 'done-1' };
    expect(await status(() => createSuppression(as('dana'), form))).toBe(403);
    expect(await status(() => createSuppression(as('erin'), { ...form, rule: null }))).toBe(400);
    expect(await status(() => createSuppression(as('erin'), { ...form, for: '365d' }))).toBe(400);
    await expect(createSuppression(as('erin'), { ...form, rule: 'credential-access.shadow-reed' })).rejects.toThrow(/^rule: .*did you mean credential-access\.shadow-read\?$/);
    expect(await store.db.selectFrom('suppressions').select('id').execute()).toEqual([]);
    const created = await createSuppression(as('erin'), form);
    expect(created).toMatchObject({ created_by: 'erin@example.com', host_glob: 'db-*', expires_at: new Date('2026-12-01T12:00:00Z') });
  });

  it('shows a tampered step as a broken chain on the alert', async () => {
    const before = await checkAlertTrail(store.db, 'tampered-1', await auditTrailFor(store.db, 'tampered-1'));
    expect(before).toEqual({ ok: true, steps: 5, brokenAt: null, reason: null });
    await sql`update audit_trail set detail = '{"reason": "edited afterwards"}' where alert_id = 'tampered-1' and action = 'justified'`.execute(store.db);
    const after = await checkAlertTrail(store.db, 'tampered-1', await auditTrailFor(store.db, 'tampered-1'));
    expect(after).toMatchObject({ ok: false, brokenAt: 3, reason: 'its content does not match its hash' });
    await sql`delete from audit_trail where alert_id = 'done-1' and seq = (select max(seq) from audit_trail where alert_id = 'done-1')`.execute(store.db);
    const shortened = await checkAlertTrail(store.db, 'done-1', await auditTrailFor(store.db, 'done-1'));
    expect(shortened.ok).toBe(false);
    expect(shortened.reason).toMatch(/head records \d+ steps but \d+ are stored/);
  });
});
