import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditTrailRow, Database } from '../schema.js';
import { stableStringify } from '../stable-json.js';

/** The previous hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);
/** Serialises appends across every replica so the chain stays a chain. */
const AUDIT_LOCK_KEY = 0x766f7563; // "vouc"

export interface AuditEntry {
  alertId: string | null;
  at: Date;
  /** Who caused the step: a chat user id, `system`, `duo`, a reviewer's name. */
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

/**
 * Appends one step to the hash-chained audit trail. Must run inside a transaction: the advisory lock
 * it takes is released at commit, so concurrent appends line up behind each other.
 */
export async function appendAudit(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  await appendAuditEntries(trx, [entry]);
}

/**
 * Appends steps in order, as appendAudit() would one by one, with one lock, one read of the chain's
 * head and one insert: a batch of rule hits writes its whole trail in three statements.
 */
export async function appendAuditEntries(trx: Transaction<Database>, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
  const last = await trx.selectFrom('audit_trail').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows = entries.map((entry) => {
    const detail = entry.detail ?? {};
    const hash = hashEntry(prevHash, entry.alertId, entry.at, entry.actor, entry.action, detail);
    const row = { alert_id: entry.alertId, at: entry.at, actor: entry.actor, action: entry.action, detail: JSON.stringify(detail), prev_hash: prevHash, hash };
    prevHash = hash;
    return row;
  });
  // Ids are assigned in the order of the VALUES list, which is the chain's order.
  for (let start = 0; start < rows.length; start += AUDIT_INSERT_CHUNK) {
    await trx.insertInto('audit_trail').values(rows.slice(start, start + AUDIT_INSERT_CHUNK)).execute();
  }
}

/** Rows per insert: 7 parameters each, well inside Postgres's 65535 a statement. */
const AUDIT_INSERT_CHUNK = 2000;

function hashEntry(prevHash: string, alertId: string | null, at: Date, actor: string, action: string, detail: Record<string, unknown>): string {
  const body = stableStringify({ alert_id: alertId, at: at.toISOString(), actor, action, detail });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export interface TrailCheck {
  ok: boolean;
  rows: number;
  /** The id of the first row whose hash or link does not match, when not ok. */
  brokenAt: number | null;
}

/** Recomputes the whole chain; any edited, inserted or deleted row breaks it. */
export async function verifyAuditTrail(db: Kysely<Database>): Promise<TrailCheck> {
  let prevHash = GENESIS_HASH;
  let rows = 0;
  let afterId = 0;
  for (;;) {
    const page = await db.selectFrom('audit_trail').selectAll().where('id', '>', afterId).orderBy('id').limit(1000).execute();
    if (page.length === 0) return { ok: true, rows, brokenAt: null };
    for (const row of page) {
      const expected = hashEntry(prevHash, row.alert_id, row.at, row.actor, row.action, row.detail);
      if (row.prev_hash !== prevHash || row.hash !== expected) return { ok: false, rows, brokenAt: row.id };
      prevHash = row.hash;
      rows += 1;
      afterId = row.id;
    }
  }
}

/** The steps of one alert, oldest first. */
export function auditTrailFor(db: Kysely<Database>, alertId: string): Promise<AuditTrailRow[]> {
  return db.selectFrom('audit_trail').selectAll().where('alert_id', '=', alertId).orderBy('id').execute();
}
