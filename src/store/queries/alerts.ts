import type { Kysely, Transaction } from 'kysely';
import type { AlertStatus, AlertView } from '../../alerts/alert.js';
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

/**
 * The alert an identical command should be folded into: one still open, or verified within the
 * window (the owner already vouched for it). Escalated alerts are never reused: a repeat of
 * something the security team is looking at deserves its own row.
 */
/** Statuses an identical command may fold into (escalated and suppressed alerts never absorb one). */
const FOLDABLE_STATUSES = ['new', 'asked', 'verifying', 'verified'] as const;

/**
 * The newest alert each of `dedupeKeys` may fold into (created since `since`, still foldable),
 * locked for update: one query for a whole batch of rule hits.
 */
export async function findFoldTargets(db: Db, dedupeKeys: readonly string[], since: Date): Promise<Map<string, AlertRow>> {
  const targets = new Map<string, AlertRow>();
  if (dedupeKeys.length === 0) return targets;
  const rows = await db
    .selectFrom('alerts')
    .selectAll()
    .where('dedupe_key', 'in', [...new Set(dedupeKeys)])
    .where('created_at', '>=', since)
    .where('status', 'in', [...FOLDABLE_STATUSES])
    .orderBy('created_at', 'desc')
    .forUpdate()
    .execute();
  for (const row of rows) if (row.dedupe_key !== null && !targets.has(row.dedupe_key)) targets.set(row.dedupe_key, row);
  return targets;
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
