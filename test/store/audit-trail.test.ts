import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import * as auditChains from '../../migrations/0004_audit_chains.js';
import { appendAudit, auditTrailFor, chainOf, describeBrokenChain, hashStep, verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import type { Database } from '../../src/store/schema.js';
import { stableStringify } from '../../src/store/stable-json.js';
import { newAlertId } from '../../src/workflow/alert-intake.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

const T0 = new Date('2026-11-24T10:00:00.000Z');

async function insertAlert(db: Kysely<Database>, id = newAlertId()): Promise<string> {
  await sql`insert into alerts (id, status, host, command, occurred_at, rule_id, rule_name, severity, attack, dedupe_key, created_at, updated_at, conversation_id)
    values (${id}, 'new', 'db-1', 'cat /etc/shadow', ${T0}, 'shadow-read', 'Read of password hashes', 'high', '[]', 'k', ${T0}, ${T0}, ${id})`.execute(db);
  return id;
}

async function appendSteps(db: Kysely<Database>, alertId: string | null, actions: string[]): Promise<void> {
  for (const action of actions) {
    await db.transaction().execute((trx) => appendAudit(trx, { alertId, at: T0, actor: 'system', action, detail: { action } }));
  }
}

/** Ids of an alert's rows, in chain order. */
async function rowIds(db: Kysely<Database>, alertId: string): Promise<number[]> {
  return (await auditTrailFor(db, alertId)).map((row) => Number(row.id));
}

describe.each(storeKinds())('per-alert audit chains on %s', (kind) => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  /** Two alerts with three steps each, plus a system step; returns the alert to tamper with. */
  async function trail(): Promise<{ db: Kysely<Database>; victim: string; bystander: string }> {
    store = await createTestStore(kind);
    const bystander = await insertAlert(store.db);
    const victim = await insertAlert(store.db);
    await appendSteps(store.db, bystander, ['created', 'asked', 'verified']);
    await appendSteps(store.db, victim, ['created', 'asked', 'escalated']);
    await appendSteps(store.db, null, ['suppression_created']);
    const check = await verifyAuditTrail(store.db);
    expect(check).toEqual({ ok: true, rows: 7, chains: 3, broken: null });
    return { db: store.db, victim, bystander };
  }

  it('numbers each alert chain from 1 and starts it from a genesis derived from the alert', async () => {
    const { db, victim, bystander } = await trail();
    const victimRows = await auditTrailFor(db, victim);
    const bystanderRows = await auditTrailFor(db, bystander);
    expect(victimRows.map((row) => row.seq)).toEqual([1, 2, 3]);
    expect(victimRows[0]?.prev_hash).not.toBe(bystanderRows[0]?.prev_hash);
    const heads = await db.selectFrom('audit_chain_heads').selectAll().where('chain', '=', chainOf(victim)).execute();
    expect(heads).toEqual([{ chain: chainOf(victim), seq: 3, hash: victimRows[2]?.hash }]);
  });

  it('detects an edited row and names the alert and the row', async () => {
    const { db, victim } = await trail();
    const [, second] = await rowIds(db, victim);
    await db.updateTable('audit_trail').set({ detail: JSON.stringify({ action: 'verified' }) }).where('id', '=', second as number).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, rowId: second, reason: expect.stringMatching(/content/) } });
  });

  it('detects a deleted middle row at the row after it', async () => {
    const { db, victim } = await trail();
    const [, second, third] = await rowIds(db, victim);
    await db.deleteFrom('audit_trail').where('id', '=', second as number).execute();
    const check = await verifyAuditTrail(db);
    expect(check).toMatchObject({ ok: false, broken: { alertId: victim, rowId: third, reason: expect.stringMatching(/missing/) } });
    // What doctor and the hourly check print: the alert and the first bad row.
    expect(describeBrokenChain(check.broken as NonNullable<typeof check.broken>)).toBe(
      `the trail of alert ${victim} is broken at row ${third}: expected step 2, found step 3: a step is missing or out of order`,
    );
  });

  it('detects a deleted last row through the chain head', async () => {
    const { db, victim } = await trail();
    const [, , third] = await rowIds(db, victim);
    await db.deleteFrom('audit_trail').where('id', '=', third as number).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, rowId: null, reason: expect.stringMatching(/removed/) } });
  });

  it('detects a whole trail deleted, head and all', async () => {
    const { db, victim } = await trail();
    await db.deleteFrom('audit_trail').where('chain', '=', chainOf(victim)).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, reason: expect.stringMatching(/none remain/) } });
    await db.deleteFrom('audit_chain_heads').where('chain', '=', chainOf(victim)).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, reason: expect.stringMatching(/no audit trail/) } });
  });

  it('detects two rows swapped', async () => {
    const { db, victim } = await trail();
    const [, second, third] = await rowIds(db, victim);
    await db.updateTable('audit_trail').set({ seq: -1 }).where('id', '=', second as number).execute();
    await db.updateTable('audit_trail').set({ seq: 2 }).where('id', '=', third as number).execute();
    await db.updateTable('audit_trail').set({ seq: 3 }).where('id', '=', second as number).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, rowId: third } });
  });

  it('detects a forged row, even one hashed the way the service hashes', async () => {
    const { db, victim } = await trail();
    const rows = await auditTrailFor(db, victim);
    const last = rows[rows.length - 1];
    if (!last) throw new Error('the trail is empty');
    const step = { chain: chainOf(victim), seq: 4, alertId: victim, at: T0, actor: 'U0ALICE', action: 'justified', detail: { reason: 'forged' } };
    await db
      .insertInto('audit_trail')
      .values({ chain: step.chain, seq: step.seq, alert_id: victim, at: T0, actor: step.actor, action: step.action, detail: JSON.stringify(step.detail), prev_hash: last.hash, hash: hashStep(last.hash, step) })
      .execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: victim, reason: expect.stringMatching(/head records 3 steps but 4/) } });
  });

  it('detects a row moved into another alert chain', async () => {
    const { db, victim, bystander } = await trail();
    const [first] = await rowIds(db, bystander);
    await db.updateTable('audit_trail').set({ alert_id: victim }).where('id', '=', first as number).execute();
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: false, broken: { alertId: bystander, rowId: first } });
  });

  it('verifies chains longer than one page', async () => {
    store = await createTestStore(kind);
    const alertId = await insertAlert(store.db);
    await store.db.transaction().execute(async (trx) => {
      for (let step = 0; step < 1003; step += 1) await appendAudit(trx, { alertId, at: T0, actor: 'system', action: 'repeated', detail: { step } });
    });
    expect(await verifyAuditTrail(store.db)).toEqual({ ok: true, rows: 1003, chains: 1, broken: null });
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('concurrent appends on postgres', () => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  it('lets a transaction append to one alert while another holds an append to a different alert open', async () => {
    store = await createTestStore('postgres');
    const [held, other] = [await insertAlert(store.db), await insertAlert(store.db)];
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let appended = (): void => undefined;
    const heldAppended = new Promise<void>((resolve) => (appended = resolve));
    const holder = store.db.transaction().execute(async (trx) => {
      await appendAudit(trx, { alertId: held, at: T0, actor: 'system', action: 'created' });
      appended();
      await released;
    });
    await heldAppended;
    try {
      // Fails with a lock timeout if appends to different alerts wait on each other.
      await store.db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '2s'`.execute(trx);
        await appendAudit(trx, { alertId: other, at: T0, actor: 'system', action: 'created' });
        await appendAudit(trx, { alertId: null, at: T0, actor: 'erin', action: 'suppression_created' });
      });
      // The same alert does wait: its chain has one head.
      await expect(
        store.db.transaction().execute(async (trx) => {
          await sql`set local lock_timeout = '200ms'`.execute(trx);
          await appendAudit(trx, { alertId: held, at: T0, actor: 'system', action: 'asked' });
        }),
      ).rejects.toThrow(/lock timeout/);
    } finally {
      release();
      await holder;
    }
    expect(await verifyAuditTrail(store.db)).toEqual({ ok: true, rows: 3, chains: 3, broken: null });
  });
});

/** The row hash the service wrote before per-alert chains: one global chain in id order. */
function legacyHash(prevHash: string, row: { alertId: string | null; action: string; detail: Record<string, unknown> }): string {
  const body = stableStringify({ alert_id: row.alertId, at: T0.toISOString(), actor: 'system', action: row.action, detail: row.detail });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

describe.each(storeKinds())('migration 0004_audit_chains (%s)', (kind) => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  /** Goes back to the global chain and writes a trail the way the code before the migration did. */
  async function legacyTrail(): Promise<{ db: Kysely<Database>; alerts: string[] }> {
    store = await createTestStore(kind);
    await auditChains.down(store.db as Kysely<unknown>);
    const alerts = [await insertAlert(store.db), await insertAlert(store.db)];
    const steps: Array<{ alertId: string | null; action: string; detail: Record<string, unknown> }> = [
      { alertId: alerts[0] as string, action: 'created', detail: { rule: 'r' } },
      { alertId: alerts[1] as string, action: 'created', detail: {} },
      { alertId: null, action: 'suppression_created', detail: { id: 's1' } },
      { alertId: alerts[0] as string, action: 'asked', detail: { z: 1, a: [1, 'two'] } },
      { alertId: alerts[1] as string, action: 'escalated', detail: {} },
    ];
    let prevHash = '0'.repeat(64);
    for (const step of steps) {
      const hash = legacyHash(prevHash, step);
      await sql`insert into audit_trail (alert_id, at, actor, action, detail, prev_hash, hash)
        values (${step.alertId}, ${T0}, 'system', ${step.action}, ${JSON.stringify(step.detail)}, ${prevHash}, ${hash})`.execute(store.db);
      prevHash = hash;
    }
    return { db: store.db, alerts };
  }

  it('rechains a trail written by the previous code, one chain per alert', async () => {
    const { db, alerts } = await legacyTrail();
    await auditChains.up(db as Kysely<unknown>);
    expect(await verifyAuditTrail(db)).toEqual({ ok: true, rows: 5, chains: 3, broken: null });
    expect((await auditTrailFor(db, alerts[0] as string)).map((row) => [row.seq, row.action])).toEqual([[1, 'created'], [2, 'asked']]);
    // New steps continue the converted chains.
    await appendSteps(db, alerts[0] as string, ['verified']);
    expect(await verifyAuditTrail(db)).toMatchObject({ ok: true, rows: 6 });
  });

  it('refuses to convert a trail that is already broken', async () => {
    const { db } = await legacyTrail();
    const tampered = await db.selectFrom('audit_trail').select('id').orderBy('id').offset(3).limit(1).executeTakeFirstOrThrow();
    await sql`update audit_trail set actor = 'mallory' where id = ${tampered.id}`.execute(db);
    await expect(auditChains.up(db as Kysely<unknown>)).rejects.toThrow(new RegExp(`already broken at row ${tampered.id}.*Refusing`));
  });
});
