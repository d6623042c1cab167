import { sql, type Kysely, type Transaction } from 'kysely';
import type { AlertStatus, AlertView, ConversationSummary, EscalationReason, Severity } from '../../alerts/alert.js';
import { fromStoredProvenance, type Attribution } from '../../sources/provenance.js';
import type { AlertRow, AlertUpdate, Database, NewAlertRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertAlert(db: Db, row: NewAlertRow): Promise<void> {
  await db.insertInto('alerts').values(row).execute();
}

/** Rows one statement of insertAlerts holds at most (a row has a few dozen parameters; Postgres takes 65,535). */
const ALERT_ROWS_PER_INSERT = 1000;

/** Inserts alerts in as few statements as the parameter limit allows. */
export async function insertAlerts(db: Db, rows: readonly NewAlertRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ALERT_ROWS_PER_INSERT) {
    await db.insertInto('alerts').values(rows.slice(start, start + ALERT_ROWS_PER_INSERT)).execute();
  }
}

export function findAlert(db: Db, id: string): Promise<AlertRow | undefined> {
  return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks the alert's row for the rest of the transaction, so two answers cannot race. */
export function lockAlert(trx: Transaction<Database>, id: string): Promise<AlertRow | undefined> {
  return trx.selectFrom('alerts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateAlert(db: Db, id: string, changes: AlertUpdate): Promise<void> {
  await db.updateTable('alerts').set(changes).where('id', '=', id).execute();
}

/** Alerts one statement of the batch updates below names at most (two parameters each, far below Postgres's 65,535). */
const ALERTS_PER_UPDATE = 10_000;

/**
 * Sets the occurrence counts of several alerts (id to count) and their `updated_at`, one statement
 * per ALERTS_PER_UPDATE of them: an ingest batch folds into many alerts, and a round trip each
 * was most of its transaction.
 */
export async function setOccurrences(db: Db, counts: ReadonlyMap<string, number>, at: Date): Promise<void> {
  const entries = [...counts];
  for (let start = 0; start < entries.length; start += ALERTS_PER_UPDATE) {
    const rows = entries.slice(start, start + ALERTS_PER_UPDATE).map(([id, occurrences]) => sql`(${id}::text, ${occurrences}::integer)`);
    await sql`update alerts as a set occurrences = v.occurrences, updated_at = ${at}
      from (values ${sql.join(rows)}) as v(id, occurrences) where a.id = v.id`.execute(db);
  }
}

/** Sets `last_joined_at` of several conversations' leads, one statement per ALERTS_PER_UPDATE of them. */
export async function setLastJoined(db: Db, leadIds: readonly string[], at: Date): Promise<void> {
  for (let start = 0; start < leadIds.length; start += ALERTS_PER_UPDATE) {
    await db.updateTable('alerts').set({ last_joined_at: at }).where('id', 'in', leadIds.slice(start, start + ALERTS_PER_UPDATE)).execute();
  }
}

/** A conversation's size, its first distinct commands and its hosts, for the messages that list it. */
export async function conversationSummary(db: Db, conversationId: string, listed = 5): Promise<ConversationSummary> {
  const counts = await db
    .selectFrom('alerts')
    .select((eb) => [eb.fn.countAll<number>().as('size'), eb.fn.count<number>('host').distinct().as('hosts')])
    .where('conversation_id', '=', conversationId)
    .executeTakeFirst();
  // In the order they first ran, each cut short: a listed command is a preview, not the record.
  const commands = await db
    .selectFrom('alerts')
    .select((eb) => [eb.fn<string>('left', [eb.ref('command'), eb.val(300)]).as('command'), eb.fn.min('created_at').as('first')])
    .where('conversation_id', '=', conversationId)
    .groupBy('command')
    .orderBy('first')
    .limit(listed)
    .execute();
  const hosts = await db.selectFrom('alerts').select('host').distinct().where('conversation_id', '=', conversationId).orderBy('host').limit(10).execute();
  return {
    size: Number(counts?.size ?? 0),
    commands: commands.map((row) => row.command),
    hosts: hosts.map((row) => row.host),
    hostCount: Number(counts?.hosts ?? 0),
  };
}

/** Alerts and hosts per conversation, for many conversations at once (those absent hold none). */
export async function conversationSizes(db: Db, conversationIds: readonly string[]): Promise<Map<string, { size: number; hostCount: number }>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('alerts')
    .select((eb) => ['conversation_id', eb.fn.countAll<number>().as('size'), eb.fn.count<number>('host').distinct().as('hosts')])
    .where('conversation_id', 'in', conversationIds)
    .groupBy('conversation_id')
    .execute();
  return new Map(rows.map((row) => [row.conversation_id, { size: Number(row.size), hostCount: Number(row.hosts) }]));
}

/** Id, command and host of the alerts named (a line that points at another alert needs no more). */
export function alertSummaries(db: Db, ids: readonly string[]): Promise<Array<{ id: string; command: string; host: string }>> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('alerts').select(['id', 'command', 'host']).where('id', 'in', ids).execute();
}

/**
 * The conversations of these people that hold their turn to be asked, oldest first: asked, being
 * verified, or with the question's posting under way. The same rule Workflow.takeTurn applies
 * before asking, so a question waiting behind one of these is waiting for exactly that one.
 */
export function openQuestionsOf(db: Db, owners: readonly string[]): Promise<Array<{ id: string; owner: string | null; command: string; host: string }>> {
  if (owners.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('alerts')
    .select(['id', 'owner', 'command', 'host'])
    .where('owner', 'in', owners)
    .whereRef('id', '=', 'conversation_id')
    .where((eb) => eb.or([eb('status', 'in', ['asked', 'verifying']), eb.and([eb('status', '=', 'new'), eb('dm_requested_at', 'is not', null)])]))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export interface AlertFilter {
  since?: Date;
  until?: Date;
  status?: AlertStatus[];
  user?: string;
  /** A glob on the host: `*` any run of characters, `?` one; everything else literal. */
  hostGlob?: string;
  rule?: string;
  severity?: Severity[];
  escalationReason?: EscalationReason[];
  /** The provenance's attribution (kernel, syslog-unverified, ...). */
  attribution?: Attribution[];
  /** Reviewed at least once (true) or never (false). */
  reviewed?: boolean;
  /** Free text, case-insensitive, in the command, host, user, rule, justification or id. */
  text?: string;
  /** Default `occurred_at`, newest first. */
  sort?: AlertSort;
  descending?: boolean;
  limit?: number;
  offset?: number;
  /** Only alerts whose owner has this chat user id. */
  chatUserId?: string;
}

/**
 * Orders a list may take. `queue` is the review queue's: escalated and not yet reviewed first,
 * then the rest not yet reviewed, then what was reviewed; newest first within each.
 */
export const ALERT_SORTS = ['queue', 'occurred_at', 'severity', 'status', 'user', 'host', 'rule'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

export function listAlerts(db: Db, filter: AlertFilter): Promise<AlertRow[]> {
  let query = sortedAlerts(filteredAlerts(db, filter).selectAll(), filter);
  if (filter.limit) query = query.limit(filter.limit);
  if (filter.offset) query = query.offset(filter.offset);
  return query.execute();
}

/** How many alerts the filter matches, whatever its limit and offset. */
export async function countAlerts(db: Db, filter: AlertFilter): Promise<number> {
  const row = await filteredAlerts(db, filter).select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

function filteredAlerts(db: Db, filter: AlertFilter) {
  let query = db.selectFrom('alerts');
  // A window holds what ran in it by the log's clock, and what Vouch raised in it by its own: the
  // log's time is the log writer's word (a forged record, a host booted with its clock at 1970, a
  // backlog), and an alert raised, asked and escalated this week must not fall out of this
  // week's report, or a `since=24h` export, because its log said 2001.
  const { since, until } = filter;
  if (since || until) {
    query = query.where((eb) => {
      const within = (column: 'occurred_at' | 'created_at') =>
        eb.and([...(since ? [eb(column, '>=', since)] : []), ...(until ? [eb(column, '<', until)] : [])]);
      return eb.or([within('occurred_at'), within('created_at')]);
    });
  }
  if (filter.status && filter.status.length > 0) query = query.where('status', 'in', filter.status);
  if (filter.user) query = query.where('owner', '=', filter.user);
  if (filter.chatUserId) query = query.where('chat_user_id', '=', filter.chatUserId);
  if (filter.hostGlob) query = query.where(sql<boolean>`host like ${globToLike(filter.hostGlob)}`);
  if (filter.rule) query = query.where('rule_id', '=', filter.rule);
  if (filter.severity && filter.severity.length > 0) query = query.where('severity', 'in', filter.severity);
  if (filter.escalationReason && filter.escalationReason.length > 0) query = query.where('escalation_reason', 'in', filter.escalationReason);
  if (filter.attribution && filter.attribution.length > 0) {
    query = query.where(sql<boolean>`provenance->>'attribution' in (${sql.join(filter.attribution)})`);
  }
  if (filter.reviewed !== undefined) query = query.where(filter.reviewed ? IS_REVIEWED : sql<boolean>`not ${IS_REVIEWED}`);
  if (filter.text) {
    const pattern = `%${escapeLike(filter.text)}%`;
    query = query.where(sql<boolean>`(command ilike ${pattern} or host ilike ${pattern} or coalesce(owner, '') ilike ${pattern}
      or rule_id ilike ${pattern} or rule_name ilike ${pattern} or coalesce(justification, '') ilike ${pattern} or id ilike ${pattern})`);
  }
  return query;
}

/**
 * Reviewed: the alert's latest review is of its current outcome. "Ask again" clears it, so a
 * re-opened alert's new outcome is reviewed afresh (the earlier reviews stay in `reviews`).
 */
const IS_REVIEWED = sql<boolean>`(alerts.reviewed_at is not null)`;

type AlertSelect = ReturnType<ReturnType<typeof filteredAlerts>['selectAll']>;

/** Names (status, host, rule, user) read best A to Z; times and severities newest or worst first. */
export function sortsDescendingByDefault(sort: AlertSort): boolean {
  return !['status', 'host', 'rule', 'user'].includes(sort);
}

function sortedAlerts(query: AlertSelect, filter: AlertFilter): AlertSelect {
  const sort = filter.sort ?? 'occurred_at';
  const direction = (filter.descending ?? sortsDescendingByDefault(sort)) ? sql`desc` : sql`asc`;
  switch (sort) {
    case 'queue':
      query = query
        .orderBy(sql`case when ${IS_REVIEWED} then 2 when status = 'escalated' then 0 else 1 end`)
        .orderBy(sql`occurred_at ${direction}`);
      break;
    case 'severity':
      query = query.orderBy(sql`case severity when 'critical' then 3 when 'high' then 2 when 'medium' then 1 else 0 end ${direction}`);
      break;
    case 'status':
    case 'host':
    case 'rule':
    case 'user': {
      const column = { status: 'status', host: 'host', rule: 'rule_id', user: 'owner' }[sort];
      // Ties (one host's alerts) then list newest first.
      return query.orderBy(sql`${sql.ref(column)} ${direction} nulls last`).orderBy('occurred_at', 'desc').orderBy('id');
    }
    case 'occurred_at':
      break;
  }
  return query.orderBy(sql`occurred_at ${direction}`).orderBy('id');
}

/** Escapes LIKE's wildcards (and its escape character) so text matches literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** A host glob as a LIKE pattern: `*` is `%`, `?` is `_`, anything else literal. */
export function globToLike(glob: string): string {
  let pattern = '';
  for (const char of glob) pattern += char === '*' ? '%' : char === '?' ? '_' : escapeLike(char);
  return pattern;
}

/** The shape chat rendering and reports see. */
export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    round: row.round,
    status: row.status,
    owner: row.owner,
    host: row.host,
    command: row.command,
    runAs: row.run_as,
    cwd: row.cwd,
    occurredAt: row.occurred_at,
    raisedAt: row.created_at,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    severity: row.severity,
    attack: row.attack,
    occurrences: row.occurrences,
    justification: row.justification,
    secondFactor: row.second_factor,
    escalationReason: row.escalation_reason,
    escalationDetail: row.escalation_detail,
    resolvedAt: row.resolved_at,
    provenance: fromStoredProvenance(row.provenance),
  };
}
