import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { chainOf, genesisHash, hashStep } from '../src/store/queries/audit-trail.js';
import { stableStringify } from '../src/store/stable-json.js';

/**
 * Per-chain audit trail: each alert's steps form their own hash chain (steps of no alert form the
 * system chain), numbered by `seq`, with the chain's head (count and last hash) kept in
 * audit_chain_heads. Appends to different alerts then no longer queue behind one global lock.
 *
 * Rows already stored are first verified against the single global chain they were written in;
 * if that chain is broken the migration refuses, so converting never launders tampering. Then
 * each row is rehashed into its own chain, in the order it was written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_trail').addColumn('chain', 'text').addColumn('seq', 'integer').execute();
  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('chain', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await verifyLegacyChain(db);
  await rechainRows(db);
  await sql`alter table audit_trail alter column chain set not null, alter column seq set not null`.execute(db);
  await db.schema.createIndex('audit_trail_chain_seq').unique().on('audit_trail').columns(['chain', 'seq']).execute();
  await sql`comment on table audit_trail is 'Append-only; each row carries the hash of the previous row of its chain (one chain per alert).'`.execute(db);
}

/** Back to the single global chain: the rows are rehashed in id order, the heads dropped. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_trail_chain_seq').execute();
  await db.schema.dropTable('audit_chain_heads').execute();
  let prevHash = LEGACY_GENESIS;
  for await (const row of rowsInIdOrder(db)) {
    const hash = legacyHash(prevHash, row);
    await sql`update audit_trail set prev_hash = ${prevHash}, hash = ${hash} where id = ${row.id}`.execute(db);
    prevHash = hash;
  }
  await db.schema.alterTable('audit_trail').dropColumn('chain').dropColumn('seq').execute();
}

interface StoredRow {
  id: number;
  alert_id: string | null;
  at: Date;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** The global chain's first previous hash and row hash, as the code before this migration wrote them. */
const LEGACY_GENESIS = '0'.repeat(64);

function legacyHash(prevHash: string, row: StoredRow): string {
  const body = stableStringify({ alert_id: row.alert_id, at: new Date(row.at).toISOString(), actor: row.actor, action: row.action, detail: row.detail });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

async function verifyLegacyChain(db: Kysely<unknown>): Promise<void> {
  let prevHash = LEGACY_GENESIS;
  for await (const row of rowsInIdOrder(db)) {
    if (row.prev_hash !== prevHash || row.hash !== legacyHash(prevHash, row)) {
      throw new Error(
        `audit trail hash chain is already broken at row ${row.id} (alert ${row.alert_id ?? 'none'}): history was altered before this migration. ` +
          'Refusing to rehash it, which would hide the tampering; investigate, restore the trail from a backup, then run migrate again.',
      );
    }
    prevHash = row.hash;
  }
}

async function rechainRows(db: Kysely<unknown>): Promise<void> {
  // One entry per chain (alert), never one per row: the rows themselves are streamed.
  const heads = new Map<string, { seq: number; hash: string }>();
  for await (const row of rowsInIdOrder(db)) {
    const chain = chainOf(row.alert_id);
    const head = heads.get(chain) ?? { seq: 0, hash: genesisHash(chain) };
    const seq = head.seq + 1;
    const hash = hashStep(head.hash, { chain, seq, alertId: row.alert_id, at: new Date(row.at), actor: row.actor, action: row.action, detail: row.detail });
    await sql`update audit_trail set chain = ${chain}, seq = ${seq}, prev_hash = ${head.hash}, hash = ${hash} where id = ${row.id}`.execute(db);
    heads.set(chain, { seq, hash });
  }
  for (const [chain, head] of heads) {
    await sql`insert into audit_chain_heads (chain, seq, hash) values (${chain}, ${head.seq}, ${head.hash})`.execute(db);
  }
}

async function* rowsInIdOrder(db: Kysely<unknown>): AsyncGenerator<StoredRow> {
  let afterId = 0;
  for (;;) {
    const page = await sql<StoredRow>`select id, alert_id, at, actor, action, detail, prev_hash, hash from audit_trail where id > ${afterId} order by id limit 1000`.execute(db);
    for (const row of page.rows) {
      afterId = Number(row.id);
      yield { ...row, id: Number(row.id) };
    }
    if (page.rows.length < 1000) return;
  }
}
