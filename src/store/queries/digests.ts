import { sql, type Kysely, type Transaction } from 'kysely';
import { digestPeriodAt, nextDigestPeriod, type DigestCadence, type DigestPeriod } from '../../digest/digest-period.js';
import type { Database, SystemDigestRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Lists an alert in the digest of the period `now` falls in (or the next one, when that period was
 * already posted: a replica's clock running a little behind must not lose the alert). Returns the
 * period's key.
 */
export async function addToDigest(trx: Transaction<Database>, entry: { alertId: string; now: Date; cadence: DigestCadence }): Promise<string> {
  let period: DigestPeriod = digestPeriodAt(entry.now, entry.cadence);
  for (;;) {
    await trx
      .insertInto('system_digests')
      .values({ period: period.key, starts_at: period.startsAt, ends_at: period.endsAt, claimed_by: null, claimed_until: null, channel: null, ts: null, posted_at: null, alert_count: null })
      .onConflict((oc) => oc.column('period').doNothing())
      .execute();
    // Locked so a poster cannot post the period between this check and the entry's insert.
    const row = await trx.selectFrom('system_digests').select(['posted_at', 'claimed_until']).where('period', '=', period.key).forUpdate().executeTakeFirstOrThrow();
    if (row.posted_at === null && !(row.claimed_until !== null && row.claimed_until > entry.now)) break;
    period = nextDigestPeriod(period, entry.cadence);
  }
  await trx
    .insertInto('system_digest_entries')
    .values({ alert_id: entry.alertId, period: period.key, created_at: entry.now })
    .onConflict((oc) => oc.column('alert_id').doNothing())
    .execute();
  return period.key;
}

/**
 * Claims up to `limit` ended, unposted periods for `worker` until `leaseUntil`. SKIP LOCKED and the
 * lease let two replicas run side by side: a period is only ever held by one of them, and a
 * crashed replica's claim runs out.
 */
export async function claimDueDigests(db: Kysely<Database>, options: { worker: string; now: Date; leaseUntil: Date; limit: number }): Promise<SystemDigestRow[]> {
  const { worker, now, leaseUntil, limit } = options;
  const result = await sql<SystemDigestRow>`
    update system_digests set claimed_by = ${worker}, claimed_until = ${leaseUntil}
    where period in (
      select period from system_digests
      where posted_at is null and ends_at <= ${now} and (claimed_until is null or claimed_until < ${now})
      order by ends_at
      limit ${limit}
      for update skip locked
    )
    returning *`.execute(db);
  return result.rows;
}

/** One line of a digest: identical commands on one host under one rule. */
export interface DigestLineRow {
  host: string;
  rule_name: string;
  severity: string;
  command: string;
  run_as: string | null;
  alerts: number;
  runs: number;
  first_at: Date;
  last_at: Date;
}

/** The period's alerts, grouped into lines (most frequent first, at most `limit`), and their total. */
export async function digestContents(db: Db, period: string, limit: number): Promise<{ lines: DigestLineRow[]; total: number; runs: number }> {
  const base = db.selectFrom('system_digest_entries as e').innerJoin('alerts as a', 'a.id', 'e.alert_id').where('e.period', '=', period);
  const lines = await base
    .select((eb) => [
      'a.host',
      'a.rule_name',
      'a.severity',
      'a.command',
      'a.run_as',
      eb.fn.countAll<number>().as('alerts'),
      eb.fn.sum<number>('a.occurrences').as('runs'),
      eb.fn.min('a.occurred_at').as('first_at'),
      eb.fn.max('a.occurred_at').as('last_at'),
    ])
    .groupBy(['a.host', 'a.rule_name', 'a.severity', 'a.command', 'a.run_as'])
    .orderBy('runs', 'desc')
    .orderBy('a.host')
    .limit(limit)
    .execute();
  const totals = await base.select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.sum<number>('a.occurrences').as('runs')]).executeTakeFirst();
  return {
    lines: lines.map((line) => ({ ...line, alerts: Number(line.alerts), runs: Number(line.runs), first_at: new Date(line.first_at as Date), last_at: new Date(line.last_at as Date) })),
    total: Number(totals?.total ?? 0),
    runs: Number(totals?.runs ?? 0),
  };
}

/** Records the posted message, if `worker` still holds the claim. */
export async function markDigestPosted(db: Db, row: SystemDigestRow, posted: { channel: string; ts: string; at: Date; alertCount: number }): Promise<boolean> {
  const result = await db
    .updateTable('system_digests')
    .set({ channel: posted.channel, ts: posted.ts, posted_at: posted.at, alert_count: posted.alertCount, claimed_until: null })
    .where('period', '=', row.period)
    .where('claimed_by', '=', row.claimed_by)
    .where('posted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Every period, newest first (for doctor and tests). */
export async function listDigests(db: Db, limit = 20): Promise<SystemDigestRow[]> {
  return db.selectFrom('system_digests').selectAll().orderBy('starts_at', 'desc').limit(limit).execute();
}
