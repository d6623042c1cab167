import { sql, type Kysely, type Transaction } from 'kysely';
import type { HealthKind } from '../../chat/quiet-views.js';
import type { HealthSignal } from '../../health/health-signal.js';
import type { Database, HealthNoticeRow } from '../schema.js';
import { storableText } from '../storable.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Longest host name and detail kept (both come from logs). */
const MAX_HOST = 255;
const MAX_DETAIL = 1000;

/**
 * Stores signals in order: a problem opens the (host, kind) notice or, when one is open, counts
 * one more occurrence of it; a recovery closes the open one. The partial unique index keeps one
 * open notice per host and kind, so concurrent batches and replicas never open two.
 */
export async function recordHealthSignals(trx: Transaction<Database>, signals: readonly HealthSignal[], now: Date): Promise<void> {
  for (const signal of signals) {
    const host = storableText(signal.host.slice(0, MAX_HOST));
    const detail = storableText(signal.detail.slice(0, MAX_DETAIL));
    if (signal.state === 'problem') await openNotice(trx, { host, kind: signal.kind, detail, at: now, count: true });
    else await recoverNotice(trx, { host, kind: signal.kind, detail, at: now });
  }
}

/** Opens a notice, or (with `count`) notes one more occurrence of the open one. */
export async function openNotice(db: Db, notice: { host: string; kind: HealthKind; detail: string; at: Date; count: boolean }): Promise<void> {
  await db
    .insertInto('health_notices')
    .values({
      host: notice.host,
      kind: notice.kind,
      detail: notice.detail,
      opened_at: notice.at,
      last_seen_at: notice.at,
      claimed_by: null,
      claimed_until: null,
      channel: null,
      ts: null,
      recovered_at: null,
      recovery_detail: null,
      recovery_ts: null,
    })
    .onConflict((oc) => {
      const target = oc.columns(['host', 'kind']).where('recovered_at', 'is', null);
      return notice.count
        ? target.doUpdateSet({ last_seen_at: notice.at, occurrences: sql<number>`health_notices.occurrences + 1` })
        : target.doNothing();
    })
    .execute();
}

/** Closes the open (host, kind) notice, if there is one. */
export async function recoverNotice(db: Db, recovery: { host: string; kind: HealthKind; detail: string; at: Date }): Promise<void> {
  await db
    .updateTable('health_notices')
    .set({ recovered_at: recovery.at, recovery_detail: recovery.detail })
    .where('host', '=', recovery.host)
    .where('kind', '=', recovery.kind)
    .where('recovered_at', 'is', null)
    .execute();
}

/** Notes that the hosts were heard from (any event, any record about the pipeline). */
export async function touchHosts(trx: Transaction<Database>, source: string, hosts: ReadonlySet<string>, now: Date): Promise<void> {
  if (hosts.size === 0) return;
  const values = [...hosts].map((host) => ({ host: storableText(host.slice(0, MAX_HOST)), source, last_seen_at: now }));
  await trx
    .insertInto('host_activity')
    .values(values)
    .onConflict((oc) => oc.column('host').doUpdateSet({ source, last_seen_at: now }))
    .execute();
}

/** Hosts heard from before `before` and not since, that have no open host_silent notice yet. */
export async function silentHosts(db: Db, before: Date, limit = 1000): Promise<Array<{ host: string; source: string; last_seen_at: Date }>> {
  return db
    .selectFrom('host_activity as a')
    .select(['a.host', 'a.source', 'a.last_seen_at'])
    .where('a.last_seen_at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('health_notices as n').select('n.id').whereRef('n.host', '=', 'a.host').where('n.kind', '=', 'host_silent').where('n.recovered_at', 'is', null))),
    )
    .orderBy('a.last_seen_at')
    .limit(limit)
    .execute();
}

/** Recovers open host_silent notices whose host was heard from after the notice opened. */
export async function recoverHeardHosts(db: Db, now: Date): Promise<number> {
  const result = await sql`
    update health_notices n set recovered_at = ${now}, recovery_detail = 'audit records arrive from the host again (last at ' || to_char(a.last_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
    from host_activity a
    where n.kind = 'host_silent' and n.recovered_at is null and a.host = n.host and a.last_seen_at > n.opened_at`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Recovers open notices of `kinds` that have not been seen again since `before`. */
export async function recoverQuietNotices(db: Db, kinds: readonly HealthKind[], before: Date, now: Date, detail: string): Promise<number> {
  const result = await db
    .updateTable('health_notices')
    .set({ recovered_at: now, recovery_detail: detail })
    .where('kind', 'in', kinds)
    .where('recovered_at', 'is', null)
    .where('last_seen_at', '<', before)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Claims notices with a post due for `worker` until `leaseUntil`: `notice` ones not posted yet,
 * or `recovery` ones recovered whose notice was posted but whose recovery was not. SKIP LOCKED
 * and the lease keep two replicas from posting the same message.
 */
export async function claimHealthPosts(
  db: Kysely<Database>,
  options: { what: 'notice' | 'recovery'; worker: string; now: Date; leaseUntil: Date; limit: number },
): Promise<HealthNoticeRow[]> {
  const { worker, now, leaseUntil, limit } = options;
  const due = options.what === 'notice' ? sql`ts is null` : sql`ts is not null and recovered_at is not null and recovery_ts is null`;
  const result = await sql<HealthNoticeRow>`
    update health_notices set claimed_by = ${worker}, claimed_until = ${leaseUntil}
    where id in (
      select id from health_notices
      where ${due} and (claimed_until is null or claimed_until < ${now})
      order by id
      limit ${limit}
      for update skip locked
    )
    returning *`.execute(db);
  return result.rows;
}

/** Records a posted notice (or its recovery), if `worker` still holds the claim. */
export async function markHealthPosted(db: Db, row: HealthNoticeRow, what: 'notice' | 'recovery', posted: { channel: string; ts: string }): Promise<boolean> {
  const set = what === 'notice' ? { channel: posted.channel, ts: posted.ts, claimed_until: null } : { recovery_ts: posted.ts, claimed_until: null };
  const result = await db.updateTable('health_notices').set(set).where('id', '=', row.id).where('claimed_by', '=', row.claimed_by).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Open notices per kind (every kind that has one). */
export async function openNoticeCounts(db: Db): Promise<Array<{ kind: string; count: number }>> {
  const rows = await db
    .selectFrom('health_notices')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
    .where('recovered_at', 'is', null)
    .groupBy('kind')
    .execute();
  return rows.map((row) => ({ kind: row.kind, count: Number(row.count) }));
}

/** Open notices, oldest first. */
export async function openNotices(db: Db, limit = 50): Promise<HealthNoticeRow[]> {
  return db.selectFrom('health_notices').selectAll().where('recovered_at', 'is', null).orderBy('opened_at').orderBy('id').limit(limit).execute();
}
