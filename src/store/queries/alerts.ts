import type { Kysely, Transaction } from 'kysely';
import type { AlertStatus, AlertView, ConversationSummary } from '../../alerts/alert.js';
import { fromStoredProvenance } from '../../sources/provenance.js';
import type { AlertRow, AlertUpdate, Database, NewAlertRow } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertAlert(db: Db, row: NewAlertRow): Promise<void> {
  await db.insertInto('alerts').values(row).execute();
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

export interface AlertFilter {
  since?: Date;
  until?: Date;
  status?: AlertStatus[];
  user?: string;
  limit?: number;
  /** Only alerts whose owner has this chat user id. */
  chatUserId?: string;
}

export function listAlerts(db: Db, filter: AlertFilter): Promise<AlertRow[]> {
  let query = db.selectFrom('alerts').selectAll();
  if (filter.since) query = query.where('occurred_at', '>=', filter.since);
  if (filter.until) query = query.where('occurred_at', '<', filter.until);
  if (filter.status && filter.status.length > 0) query = query.where('status', 'in', filter.status);
  if (filter.user) query = query.where('owner', '=', filter.user);
  if (filter.chatUserId) query = query.where('chat_user_id', '=', filter.chatUserId);
  query = query.orderBy('occurred_at', 'desc').orderBy('id');
  if (filter.limit) query = query.limit(filter.limit);
  return query.execute();
}

/** The shape chat rendering and reports see. */
export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    status: row.status,
    owner: row.owner,
    host: row.host,
    command: row.command,
    runAs: row.run_as,
    cwd: row.cwd,
    occurredAt: row.occurred_at,
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
