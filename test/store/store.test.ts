import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import { claimDueJobs, completeJob, scheduleJob } from '../../src/store/queries/jobs.js';
import { countMalformed, loadCheckpoints, malformedCounts, saveCheckpoint } from '../../src/store/queries/sources.js';
import { getOrCreateSetting } from '../../src/store/queries/settings.js';
import { newAlertId } from '../../src/workflow/alert-intake.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

const T0 = new Date('2026-11-24T10:00:00.000Z');

describe.each(storeKinds())('store on %s', (kind) => {
  let store: TestStore;
  const stores: TestStore[] = [];
  const open = async () => {
    store = await createTestStore(kind);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.destroy();
  });

  async function insertAlert(db: TestStore['db'], id = newAlertId()): Promise<string> {
    await db
      .insertInto('alerts')
      .values({
        id, event_id: null, status: 'new', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', run_as: 'root', cwd: '/',
        occurred_at: T0, rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: JSON.stringify(['T1003.008']),
        dedupe_key: 'k', chat_user_id: null, dm_channel: null, dm_ts: null, asked_at: null, reminded_at: null, answered_at: null,
        justification: null, second_factor_user: null, push_txid: null, push_started_at: null, second_factor: null, escalation_reason: null,
        escalation_detail: null, escalation_channel: null, escalation_ts: null, resolved_at: null, reviewed_by: null, reviewed_at: null,
        review_note: null, created_at: T0, updated_at: T0, conversation_id: id,
      })
      .execute();
    return id;
  }

  it('migrates and round-trips alerts with json columns and timestamps', async () => {
    const { db } = await open();
    const id = await insertAlert(db);
    const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.attack).toEqual(['T1003.008']);
    expect(row.occurred_at.toISOString()).toBe(T0.toISOString());
    expect(row.occurrences).toBe(1);
  });

  it('chains the audit trail and detects an edited row', async () => {
    const { db } = await open();
    const id = await insertAlert(db);
    for (const action of ['created', 'asked', 'justified']) {
      await db.transaction().execute((trx) => appendAudit(trx, { alertId: id, at: T0, actor: 'system', action, detail: { zeta: 1, alpha: [1, 'two'] } }));
    }
    expect(await verifyAuditTrail(db)).toEqual({ ok: true, rows: 3, chains: 1, broken: null });
    const second = await db.selectFrom('audit_trail').select('id').orderBy('id').offset(1).limit(1).executeTakeFirstOrThrow();
    await db.updateTable('audit_trail').set({ actor: 'mallory' }).where('id', '=', second.id).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: id, rowId: second.id } });
  });

  it('detects a deleted audit row', async () => {
    const { db } = await open();
    for (const action of ['a', 'b', 'c']) {
      await db.transaction().execute((trx) => appendAudit(trx, { alertId: null, at: T0, actor: 'system', action }));
    }
    const first = await db.selectFrom('audit_trail').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_trail').where('id', '=', first.id).execute();
    expect((await verifyAuditTrail(db)).ok).toBe(false);
  });

  it('lets two replicas claim due jobs without ever taking the same one', async () => {
    const first = await open();
    const second = await first.reopen();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 10; i += 1) ids.push(await insertAlert(first.db));
      for (const id of ids) await scheduleJob(first.db, id, 'ask', T0);
      await scheduleJob(first.db, ids[0] as string, 'remind', new Date(T0.getTime() + 60_000));
      // Leases run on the database's clock, whatever the replicas' clocks say.
      const leaseMs = 300;
      const [a, b] = await Promise.all([
        claimDueJobs(first.db, { worker: 'a', now: T0, leaseMs, limit: 6 }),
        claimDueJobs(second.db, { worker: 'b', now: T0, leaseMs, limit: 6 }),
      ]);
      const claimed = [...a, ...b].map((job) => job.id);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(10);
      expect([...a, ...b].every((job) => !job.lease_expired)).toBe(true);
      // Nothing left to claim until a lease runs out; the future reminder is not due.
      expect(await claimDueJobs(first.db, { worker: 'c', now: T0, leaseMs, limit: 50 })).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, leaseMs + 50));
      const reclaimed = await claimDueJobs(first.db, { worker: 'c', now: T0, leaseMs: 30_000, limit: 50 });
      expect(reclaimed.map((job) => job.kind)).toEqual(Array(10).fill('ask'));
      expect(reclaimed.every((job) => job.lease_expired)).toBe(true);
      for (const job of reclaimed) await completeJob(first.db, job);
      expect(await first.db.selectFrom('jobs').select('kind').execute()).toEqual([{ kind: 'remind' }]);
    } finally {
      await second.close();
    }
  });

  it('keeps a job that was rescheduled while it ran', async () => {
    const { db } = await open();
    const id = await insertAlert(db);
    await scheduleJob(db, id, 'poll', T0);
    const [job] = await claimDueJobs(db, { worker: 'a', now: T0, leaseMs: 30_000, limit: 1 });
    // Rescheduled for the very same moment: only the version tells the two runs apart.
    await scheduleJob(db, id, 'poll', T0);
    const during = await db.selectFrom('jobs').select(['locked_by']).executeTakeFirstOrThrow();
    expect(during.locked_by).toBe('a');
    expect(await claimDueJobs(db, { worker: 'b', now: T0, leaseMs: 30_000, limit: 1 })).toEqual([]);
    await completeJob(db, job!);
    const after = await db.selectFrom('jobs').select(['kind', 'locked_by']).execute();
    expect(after).toEqual([{ kind: 'poll', locked_by: null }]);
  });

  it('stores checkpoints and malformed counts per source', async () => {
    const { db } = await open();
    await saveCheckpoint(db, 'audit', { filePath: '/var/log/audit/audit.log', fileId: '2049:77', offset: 1234 }, T0);
    await saveCheckpoint(db, 'audit', { filePath: '/var/log/audit/audit.log', fileId: '2049:78', offset: 10 }, T0);
    expect(await loadCheckpoints(db, 'audit')).toEqual([{ filePath: '/var/log/audit/audit.log', fileId: '2049:78', offset: 10, fingerprint: null, readOffset: null }]);
    await saveCheckpoint(db, 'audit', { filePath: '/var/log/audit/audit.log', fileId: '2049:78', offset: 20, fingerprint: '10:abc', readOffset: 35 }, T0);
    expect(await loadCheckpoints(db, 'audit')).toEqual([{ filePath: '/var/log/audit/audit.log', fileId: '2049:78', offset: 20, fingerprint: '10:abc', readOffset: 35 }]);
    await countMalformed(db, 'audit', 'bad_hex', 2, 'a1=ZZ', T0);
    await countMalformed(db, 'audit', 'bad_hex', 3, 'a2=QQ', T0);
    expect(await malformedCounts(db)).toEqual([{ source: 'audit', reason: 'bad_hex', count: 5, sample: 'a2=QQ' }]);
  });

  it('creates a setting once, whoever asks first', async () => {
    const { db } = await open();
    const first = await getOrCreateSetting(db, 'token', () => 'one');
    const second = await getOrCreateSetting(db, 'token', () => 'two');
    expect([first, second]).toEqual(['one', 'one']);
  });

  it('holds text that needs escaping in SQL', async () => {
    const { db } = await open();
    const id = await insertAlert(db);
    const hostile = `'; drop table alerts; -- <script>\u0007 ${'x'.repeat(100_000)}`;
    await db.updateTable('alerts').set({ command: hostile }).where('id', '=', id).execute();
    const row = await db.selectFrom('alerts').select('command').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.command).toBe(hostile);
    const count = await sql<{ n: number }>`select count(*)::int as n from alerts`.execute(db);
    expect(count.rows[0]?.n).toBe(1);
  });
});
