import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import * as reviewConsole from '../../migrations/0007_review_console.js';
import { reviewsOf } from '../../src/store/queries/reviews.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

const T0 = new Date('2026-11-20T10:00:00Z');

describe.each(storeKinds())('migration 0007_review_console (%s)', (kind) => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  async function insertAlert(id: string, review: { by: string; note: string | null } | null): Promise<void> {
    await store.db
      .insertInto('alerts')
      .values({
        id, event_id: null, status: 'verified', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', run_as: 'root', cwd: '/',
        occurred_at: T0, rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: JSON.stringify([]),
        dedupe_key: id, chat_user_id: null, dm_channel: null, dm_ts: null, asked_at: null, reminded_at: null, answered_at: null,
        justification: null, second_factor_user: null, push_txid: null, push_started_at: null, second_factor: null, escalation_reason: null,
        escalation_detail: null, escalation_channel: null, escalation_ts: null, resolved_at: T0,
        reviewed_by: review?.by ?? null, reviewed_at: review ? T0 : null, review_note: review?.note ?? null, created_at: T0, updated_at: T0, conversation_id: id,
      })
      .execute();
  }

  it('makes each review already recorded on an alert its first row in reviews, and goes back down', async () => {
    store = await createTestStore(kind);
    await reviewConsole.down(store.db as Kysely<unknown>);
    await insertAlert('al_reviewed', { by: 'dana', note: 'Checked with alice.' });
    await insertAlert('al_unreviewed', null);
    await reviewConsole.up(store.db as Kysely<unknown>);
    expect((await reviewsOf(store.db, 'al_reviewed')).map((row) => [row.actor, row.note, row.at.toISOString()])).toEqual([['dana', 'Checked with alice.', T0.toISOString()]]);
    expect(await reviewsOf(store.db, 'al_unreviewed')).toEqual([]);
    await reviewConsole.down(store.db as Kysely<unknown>);
    await expect(store.db.selectFrom('reviews').selectAll().execute()).rejects.toThrow();
    await reviewConsole.up(store.db as Kysely<unknown>);
  });
});
