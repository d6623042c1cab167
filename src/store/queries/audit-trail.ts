import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditTrailRow, Database } from '../schema.js';
import { stableStringify } from '../stable-json.js';

/** The chain of the steps that belong to no alert (suppressions, settings). */
export const SYSTEM_CHAIN = 'system';

export interface AuditEntry {
  alertId: string | null;
  at: Date;
  /** Who caused the step: a chat user id, `system`, `duo`, a reviewer's name. */
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

/** The chain an alert's steps belong to; steps of no alert share the system chain. */
export function chainOf(alertId: string | null): string {
  return alertId === null ? SYSTEM_CHAIN : `alert:${alertId}`;
}

/**
 * The previous hash of a chain's first row: derived from the chain's name, so a row moved from one
 * alert's chain to another's (or a chain started afresh) does not verify.
 */
export function genesisHash(chain: string): string {
  return createHash('sha256').update('vouch audit genesis\n').update(chain).digest('hex');
}

/** The fields a row's hash covers, seq included so a removed or reordered row breaks the chain. */
export interface HashedStep {
  chain: string;
  seq: number;
  alertId: string | null;
  at: Date;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** The hash of one step: sha256 of the previous hash and the step's canonical JSON. */
export function hashStep(prevHash: string, step: HashedStep): string {
  const body = stableStringify({
    chain: step.chain,
    seq: step.seq,
    alert_id: step.alertId,
    at: step.at.toISOString(),
    actor: step.actor,
    action: step.action,
    detail: step.detail,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Appends one step to its chain (the alert's own, or the system chain). Must run inside a
 * transaction: the chain's head row is locked until commit, so appends to one chain line up while
 * appends to different alerts never wait on each other.
 */
export async function appendAudit(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  await appendAuditEntries(trx, [entry]);
}

/**
 * Appends steps in order, as appendAudit() would one by one, in four statements whatever their
 * number: create the heads missing, lock the heads (in chain order, so two batches never wait on
 * each other in a cycle), insert the rows, move the heads. A batch of rule hits writes the trail of
 * all its alerts this way.
 */
export async function appendAuditEntries(trx: Transaction<Database>, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const heads = await lockChainHeads(trx, [...new Set(entries.map((entry) => chainOf(entry.alertId)))]);
  const rows = entries.map((entry) => {
    const chain = chainOf(entry.alertId);
    const head = heads.get(chain) as { seq: number; hash: string };
    const detail = entry.detail ?? {};
    const seq = head.seq + 1;
    const hash = hashStep(head.hash, { chain, seq, alertId: entry.alertId, at: entry.at, actor: entry.actor, action: entry.action, detail });
    const row = { chain, seq, alert_id: entry.alertId, at: entry.at, actor: entry.actor, action: entry.action, detail: JSON.stringify(detail), prev_hash: head.hash, hash };
    head.seq = seq;
    head.hash = hash;
    return row;
  });
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await trx.insertInto('audit_trail').values(rows.slice(start, start + INSERT_CHUNK)).execute();
  }
  const moved = [...heads].map(([chain, head]) => sql`(${chain}, ${head.seq}::integer, ${head.hash})`);
  for (let start = 0; start < moved.length; start += INSERT_CHUNK) {
    await sql`update audit_chain_heads as h set seq = v.seq, hash = v.hash
      from (values ${sql.join(moved.slice(start, start + INSERT_CHUNK))}) as v(chain, seq, hash)
      where h.chain = v.chain`.execute(trx);
  }
}

/** Rows per statement: 9 parameters each, well inside Postgres's 65535 a statement. */
const INSERT_CHUNK = 2000;

/** Creates the chains' heads on first use, then locks them: the lock orders appends within a chain. */
async function lockChainHeads(trx: Transaction<Database>, chains: readonly string[]): Promise<Map<string, { seq: number; hash: string }>> {
  const sorted = [...chains].sort();
  await trx
    .insertInto('audit_chain_heads')
    .values(sorted.map((chain) => ({ chain, seq: 0, hash: genesisHash(chain) })))
    .onConflict((oc) => oc.column('chain').doNothing())
    .execute();
  const rows = await trx.selectFrom('audit_chain_heads').select(['chain', 'seq', 'hash']).where('chain', 'in', sorted).orderBy('chain').forUpdate().execute();
  return new Map(rows.map((row) => [row.chain, { seq: Number(row.seq), hash: row.hash }]));
}

/** Where a chain first stops verifying. */
export interface BrokenChain {
  chain: string;
  /** The alert whose trail is broken, or null for the system chain. */
  alertId: string | null;
  /** The id of the first row that does not verify, or null when rows are missing at the end. */
  rowId: number | null;
  reason: string;
}

export interface TrailCheck {
  ok: boolean;
  rows: number;
  chains: number;
  /** The first broken chain found, when not ok. */
  broken: BrokenChain | null;
}

const PAGE_SIZE = 1000;

interface ChainCursor {
  chain: string;
  alertId: string | null;
  seq: number;
  hash: string;
  headSeq: number | null;
  headHash: string | null;
}

/**
 * Recomputes every chain, a page at a time in (chain, seq) order: an edited, inserted, reordered or
 * deleted row (the last one included, through the head's count and hash) breaks its chain, and the
 * answer names the alert and the first bad row. Heads without rows and alerts without a chain are
 * caught too.
 */
export async function verifyAuditTrail(db: Kysely<Database>): Promise<TrailCheck> {
  let rows = 0;
  let chains = 0;
  let cursor: ChainCursor | null = null;
  let after: { chain: string; seq: number } | null = null;
  const fail = (broken: BrokenChain): TrailCheck => ({ ok: false, rows, chains, broken });
  for (;;) {
    const page = await trailPage(db, after);
    for (const row of page) {
      if (cursor === null || cursor.chain !== row.chain) {
        const ended = cursor === null ? null : checkChainEnd(cursor);
        if (ended) return fail(ended);
        chains += 1;
        cursor = { chain: row.chain, alertId: row.alert_id, seq: 0, hash: genesisHash(row.chain), headSeq: row.head_seq, headHash: row.head_hash };
      }
      const problem = checkRow(cursor, row);
      if (problem) return fail({ chain: row.chain, alertId: alertOfChain(row.chain), rowId: Number(row.id), reason: problem });
      cursor.seq = row.seq;
      cursor.hash = row.hash;
      rows += 1;
    }
    if (page.length < PAGE_SIZE) break;
    const last = page[page.length - 1] as TrailPageRow;
    after = { chain: last.chain, seq: last.seq };
  }
  const ended = cursor === null ? null : checkChainEnd(cursor);
  if (ended) return fail(ended);
  const orphan = await findChainlessAlertOrRowlessHead(db);
  return orphan ? fail(orphan) : { ok: true, rows, chains, broken: null };
}

interface TrailPageRow extends AuditTrailRow {
  head_seq: number | null;
  head_hash: string | null;
}

async function trailPage(db: Kysely<Database>, after: { chain: string; seq: number } | null): Promise<TrailPageRow[]> {
  let query = db
    .selectFrom('audit_trail as t')
    .leftJoin('audit_chain_heads as h', 'h.chain', 't.chain')
    .selectAll('t')
    .select(['h.seq as head_seq', 'h.hash as head_hash']);
  if (after) query = query.where(sql<boolean>`(t.chain, t.seq) > (${after.chain}, ${after.seq})`);
  const page = await query.orderBy('t.chain').orderBy('t.seq').limit(PAGE_SIZE).execute();
  return page.map((row) => ({ ...row, seq: Number(row.seq), head_seq: row.head_seq === null ? null : Number(row.head_seq) }));
}

function checkRow(cursor: ChainCursor, row: TrailPageRow): string | null {
  if (row.chain !== chainOf(row.alert_id)) return `row names alert ${row.alert_id ?? 'none'} but sits in chain ${row.chain}`;
  if (row.seq !== cursor.seq + 1) return `expected step ${cursor.seq + 1}, found step ${row.seq}: a step is missing or out of order`;
  if (row.prev_hash !== cursor.hash) return 'its link to the previous step does not match';
  const expected = hashStep(cursor.hash, { chain: row.chain, seq: row.seq, alertId: row.alert_id, at: row.at, actor: row.actor, action: row.action, detail: row.detail });
  if (row.hash !== expected) return 'its content does not match its hash';
  return null;
}

function checkChainEnd(cursor: ChainCursor): BrokenChain | null {
  const base = { chain: cursor.chain, alertId: alertOfChain(cursor.chain), rowId: null };
  if (cursor.headSeq === null) return { ...base, reason: 'the chain has no recorded head' };
  if (cursor.headSeq !== cursor.seq || cursor.headHash !== cursor.hash) {
    const change = cursor.headSeq > cursor.seq ? 'steps were removed from its end' : 'steps were added without going through the trail';
    return { ...base, reason: `its head records ${cursor.headSeq} steps but ${cursor.seq} are stored: ${change}` };
  }
  return null;
}

async function findChainlessAlertOrRowlessHead(db: Kysely<Database>): Promise<BrokenChain | null> {
  const rowless = await db
    .selectFrom('audit_chain_heads as h')
    .select(['h.chain', 'h.seq'])
    .where('h.seq', '>', 0)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('audit_trail as t').select('t.id').whereRef('t.chain', '=', 'h.chain'))))
    .limit(1)
    .executeTakeFirst();
  if (rowless) return { chain: rowless.chain, alertId: alertOfChain(rowless.chain), rowId: null, reason: `the head records ${rowless.seq} steps but none remain` };
  const chainless = await db
    .selectFrom('alerts as a')
    .select('a.id')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('audit_chain_heads as h').select('h.chain').where('h.chain', '=', sql<string>`'alert:' || a.id`))))
    .limit(1)
    .executeTakeFirst();
  if (chainless) return { chain: chainOf(chainless.id), alertId: chainless.id, rowId: null, reason: 'the alert has no audit trail at all' };
  return null;
}

function alertOfChain(chain: string): string | null {
  return chain.startsWith('alert:') ? chain.slice('alert:'.length) : null;
}

/** Describes a broken chain for an operator: which alert, which row, what is wrong. */
export function describeBrokenChain(broken: BrokenChain): string {
  const whose = broken.alertId === null ? `the ${broken.chain} chain` : `the trail of alert ${broken.alertId}`;
  const where = broken.rowId === null ? '' : ` at row ${broken.rowId}`;
  return `${whose} is broken${where}: ${broken.reason}`;
}

/** The steps of one alert, oldest first. */
export function auditTrailFor(db: Kysely<Database>, alertId: string): Promise<AuditTrailRow[]> {
  return db.selectFrom('audit_trail').selectAll().where('chain', '=', chainOf(alertId)).orderBy('seq').execute();
}

/** The steps with these actions of these alerts, oldest first (what happened, without the whole trail). */
export function auditStepsOf(db: Kysely<Database>, alertIds: readonly string[], actions: readonly string[]): Promise<Array<Pick<AuditTrailRow, 'alert_id' | 'action' | 'at' | 'detail'>>> {
  if (alertIds.length === 0 || actions.length === 0) return Promise.resolve([]);
  return db.selectFrom('audit_trail').select(['alert_id', 'action', 'at', 'detail']).where('alert_id', 'in', alertIds).where('action', 'in', actions).orderBy('id').execute();
}
