/**
 * The numbers behind the overview charts, each one query over the period's alerts.
 *
 * Alerts of one conversation share one question, one answer and one escalation, and every member
 * copies the lead's `asked_at`, `answered_at`, status and reason. So the figures about what people
 * were asked (time to answer, escalations by reason, noisiest people) count each conversation once,
 * by its lead (`id = conversation_id`): a question covering five commands is one answer, one
 * escalation, one time someone was bothered; it counts in the period of its lead, its first
 * command. The figures about detections (alerts per day by outcome, noisiest rules, tuning
 * candidates) count alerts: each command is a hit of its rule with an outcome of its own (a member
 * can leave its conversation), and one conversation may span rules.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../store/schema.js';

export interface DayCounts {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  byStatus: Record<string, number>;
}

export interface Tally {
  key: string;
  count: number;
}

export interface TuningSuggestion {
  rule: string;
  hits: number;
  verified: number;
}

export interface OverviewStats {
  since: Date;
  until: Date;
  days: DayCounts[];
  /** Seconds from asking to the owner's answer, per conversation; null when nothing was answered. */
  answerMedianSeconds: number | null;
  answerP90Seconds: number | null;
  /** Conversations answered. */
  answered: number;
  /** Escalated conversations by reason. */
  escalationsByReason: Tally[];
  /** Alerts by rule. */
  noisiestRules: Tally[];
  /** Conversations by owner: a question covering several commands counts once. */
  noisiestPeople: Tally[];
  /** Rules whose hits were almost always vouched for: candidates for an exception or suppression. */
  tuning: TuningSuggestion[];
}

/** A rule is suggested for tuning with at least this many hits, at least this share verified. */
export const TUNING_MIN_HITS = 5;
export const TUNING_MIN_VERIFIED_SHARE = 0.9;
const TOP = 10;
/** One row per conversation: its lead. */
const LEADS = sql`id = conversation_id`;

export async function overviewStats(db: Kysely<Database>, since: Date, until: Date): Promise<OverviewStats> {
  const inPeriod = db.selectFrom('alerts').where('occurred_at', '>=', since).where('occurred_at', '<', until);
  const [perDay, answer, reasons, rules, people, tuning] = await Promise.all([
    inPeriod
      .select([sql<string>`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD')`.as('day'), 'status', (eb) => eb.fn.countAll<string>().as('count')])
      .groupBy(['day', 'status'])
      .execute(),
    inPeriod
      .whereRef('id', '=', 'conversation_id')
      .where('asked_at', 'is not', null)
      .where('answered_at', 'is not', null)
      .select([
        sql<number | null>`percentile_cont(0.5) within group (order by extract(epoch from answered_at - asked_at))`.as('median'),
        sql<number | null>`percentile_cont(0.9) within group (order by extract(epoch from answered_at - asked_at))`.as('p90'),
        (eb) => eb.fn.countAll<string>().as('count'),
      ])
      .executeTakeFirstOrThrow(),
    tally(db, since, until, sql`coalesce(escalation_reason, 'unknown')`, sql`status = 'escalated' and ${LEADS}`),
    tally(db, since, until, sql`rule_id`),
    tally(db, since, until, sql`owner`, sql`owner is not null and ${LEADS}`),
    inPeriod
      .select(['rule_id', (eb) => eb.fn.countAll<string>().as('hits'), sql<string>`count(*) filter (where status = 'verified')`.as('verified')])
      .groupBy('rule_id')
      .having((eb) => eb.fn.countAll(), '>=', TUNING_MIN_HITS)
      .having(sql<boolean>`count(*) filter (where status = 'verified') >= ${TUNING_MIN_VERIFIED_SHARE}::double precision * count(*)`)
      .orderBy('hits', 'desc')
      .limit(TOP)
      .execute(),
  ]);
  return {
    since,
    until,
    days: dayCounts(since, until, perDay.map((row) => ({ day: row.day, status: row.status, count: Number(row.count) }))),
    answerMedianSeconds: answer.median === null ? null : Number(answer.median),
    answerP90Seconds: answer.p90 === null ? null : Number(answer.p90),
    answered: Number(answer.count),
    escalationsByReason: reasons,
    noisiestRules: rules,
    noisiestPeople: people,
    tuning: tuning.map((row) => ({ rule: row.rule_id, hits: Number(row.hits), verified: Number(row.verified) })),
  };
}

/** The TOP most frequent values of `key` among the period's alerts that satisfy `where`. */
async function tally(db: Kysely<Database>, since: Date, until: Date, key: RawBuilder<unknown>, where: RawBuilder<unknown> = sql`true`): Promise<Tally[]> {
  const result = await sql<{ key: string; count: string }>`
    select ${key} as key, count(*) as count from alerts
    where occurred_at >= ${since} and occurred_at < ${until} and ${where}
    group by 1 order by 2 desc, 1 limit ${TOP}`.execute(db);
  return result.rows.map((row) => ({ key: String(row.key), count: Number(row.count) }));
}

/** Every day of the period, those without alerts included, so the chart's time axis has no gaps. */
function dayCounts(since: Date, until: Date, rows: ReadonlyArray<{ day: string; status: string; count: number }>): DayCounts[] {
  const days = new Map<string, DayCounts>();
  for (let time = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); time < until.getTime(); time += 86_400_000) {
    const day = new Date(time).toISOString().slice(0, 10);
    days.set(day, { day, byStatus: {} });
  }
  for (const row of rows) {
    const entry = days.get(row.day) ?? { day: row.day, byStatus: {} };
    entry.byStatus[row.status] = (entry.byStatus[row.status] ?? 0) + row.count;
    days.set(row.day, entry);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
