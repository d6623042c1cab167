/**
 * What a reviewer can do to an alert from the console. Each action runs in one transaction with
 * the alert's row locked and appends its audit-trail step under the signed-in identity: the actor
 * is never a name typed into a form.
 */
import type { Kysely, Transaction, Updateable } from 'kysely';
import { FINISHED_STATUSES, type AlertStatus } from '../../alerts/alert.js';
import { newSuppressionId, parseSuppressionRequest } from '../../alerts/suppression.js';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import { storableRequestText } from '../../http/request-body.js';
import { lockAlert, updateAlert } from '../../store/queries/alerts.js';
import { appendAudit } from '../../store/queries/audit-trail.js';
import { scheduleJob } from '../../store/queries/jobs.js';
import { recordReview } from '../../store/queries/reviews.js';
import { insertSuppression } from '../../store/queries/suppressions.js';
import type { AlertRow, AlertsTable, Database, SuppressionRow } from '../../store/schema.js';
import type { ReviewerIdentity } from './console-auth.js';

export interface ActionContext {
  db: Kysely<Database>;
  clock: Clock;
  identity: ReviewerIdentity;
}

/** What creating a suppression also needs: the ids of the rules the service runs, the only ones it may name. */
export interface SuppressionContext extends ActionContext {
  ruleIds: ReadonlySet<string>;
}

/** The longest review note kept. */
export const MAX_NOTE_LENGTH = 2000;

/** Reviewers and admins review; anyone else signed in is refused. */
export function requireReviewer(identity: ReviewerIdentity): void {
  if (!identity.reviewer && !identity.admin) throw new RequestError(403, `${identity.actor} is neither a reviewer nor an admin of Vouch`);
}

/** Suppressions silence alerts for everyone, so only admins create them. */
export function requireAdmin(identity: ReviewerIdentity): void {
  if (!identity.admin) throw new RequestError(403, `only admins may create or revoke suppressions; ${identity.actor} is not one`);
}

async function withLockedAlert<T>(context: ActionContext, alertId: string, act: (row: AlertRow, trx: Transaction<Database>, at: Date) => Promise<T>): Promise<T> {
  return context.db.transaction().execute(async (trx) => {
    const row = await lockAlert(trx, alertId);
    if (!row) throw new RequestError(404, `no alert ${alertId}`);
    return act(row, trx, context.clock.now());
  });
}

function isFinished(row: AlertRow): boolean {
  return FINISHED_STATUSES.includes(row.status as AlertStatus);
}

/** Appends a review (never overwrites an earlier one); 409 while the alert is still open. */
export async function markReviewed(context: ActionContext, alertId: string, note: string | null): Promise<void> {
  requireReviewer(context.identity);
  if (note !== null && note.length > MAX_NOTE_LENGTH) throw new RequestError(400, `note: at most ${MAX_NOTE_LENGTH} characters`);
  const storedNote = note === null ? null : storableRequestText(note, 'note');
  await withLockedAlert(context, alertId, async (row, trx, at) => {
    if (!isFinished(row)) throw new RequestError(409, `alert ${alertId} is still ${row.status}; only finished alerts are reviewed`);
    await recordReview(trx, { alertId, actor: context.identity.actor, note: storedNote, at });
  });
}

/**
 * What a new round of questions starts from: no answer, and no record of a message or push that
 * the round before sent. The `*_requested_at` intents matter most: a re-run that finds one looks
 * for the message already posted and does not post again, so a kept intent would make the new
 * question find the old answered DM and never ask.
 */
const NEW_ROUND = {
  status: 'new',
  dm_channel: null, dm_ts: null, dm_requested_at: null, asked_at: null, deferred_until: null,
  reminded_at: null, reminders_sent: 0, reminder_refs: '[]', reminder_requested_at: null,
  answered_at: null, justification: null,
  justify_view_id: null, justify_view_user: null, justify_opened_at: null, justify_form_key: null,
  push_txid: null, push_started_at: null, push_requested_at: null, second_factor: null, second_factor_user: null,
  escalation_reason: null, escalation_detail: null, escalation_requested_at: null, escalation_channel: null, escalation_ts: null,
  contact_requested_at: null, contact_channel: null, contact_ts: null,
  outcome_requested_at: null, outcome_ts: null, paged_at: null, page_resolved_at: null,
  resolved_at: null,
  // The new outcome needs a review of its own; the earlier reviews stay in the reviews table.
  reviewed_by: null, reviewed_at: null, review_note: null,
} as const satisfies Partial<Updateable<AlertsTable>>;

/**
 * Ask again: re-opens a finished alert as `new` and schedules an `ask` job, so its owner gets a
 * new question (and a new push after answering) through the ordinary workflow, in its turn: the
 * person's other open question is answered first. A member of another's conversation is asked
 * on its own. A conversation's lead re-opens its conversation: the members its answer settled
 * (those with its outcome) start the new round with it, so the new answer covers every command
 * the new question lists; a member that ended otherwise (suppressed, escalated on its own) leaves
 * the conversation and keeps its outcome. The previous answer stays in the trail's `reopened`
 * step; the rows' answer fields, and their review, start afresh.
 */
export async function askAgain(context: ActionContext, alertId: string): Promise<void> {
  requireReviewer(context.identity);
  await withLockedAlert(context, alertId, async (row, trx, at) => {
    if (!isFinished(row)) throw new RequestError(409, `alert ${alertId} is still ${row.status}: its owner is being asked already`);
    if (row.owner === null) throw new RequestError(409, `alert ${alertId} has no owner to ask`);
    const actor = context.identity.actor;
    const reopened = (alert: AlertRow, detail: Record<string, unknown> = {}) => ({
      alertId: alert.id, at, actor, action: 'reopened',
      detail: { from: alert.status, round: alert.round + 1, justification: alert.justification, second_factor: alert.second_factor, escalation_reason: alert.escalation_reason, ...detail },
    });
    await updateAlert(trx, alertId, { ...NEW_ROUND, round: row.round + 1, updated_at: at, conversation_id: alertId });
    if (row.conversation_id === row.id) {
      const members = await trx.selectFrom('alerts').selectAll().where('conversation_id', '=', row.id).where('id', '!=', row.id).forUpdate().execute();
      for (const member of members) {
        if (member.status === row.status) {
          await updateAlert(trx, member.id, { ...NEW_ROUND, round: member.round + 1, updated_at: at });
          await appendAudit(trx, reopened(member, { conversation: row.id }));
        } else {
          await updateAlert(trx, member.id, { conversation_id: member.id, updated_at: at });
          await appendAudit(trx, { alertId: member.id, at, actor, action: 'left_conversation', detail: { conversation: row.id, reason: 'its conversation was asked again; this command had ended otherwise', status: member.status } });
        }
      }
    }
    await scheduleJob(trx, alertId, 'ask', at);
    await appendAudit(trx, reopened(row));
  });
}

/**
 * Assigns the alert to a reviewer (null: nobody); the trail's latest `assigned` step says who has
 * it. Only someone who may review can be given it (`assignees`, see ConsoleAuth.assignees): 400
 * otherwise, so no alert is left with a typo or a stranger.
 */
export async function assignAlert(context: ActionContext, alertId: string, to: string | null, assignees: readonly string[]): Promise<void> {
  requireReviewer(context.identity);
  const assignee = to === null ? null : assignees.find((person) => person.toLowerCase() === to.toLowerCase());
  if (assignee === undefined) {
    throw new RequestError(400, `assignee: ${storableRequestText(to ?? '', 'assignee').slice(0, 200)} is not a reviewer of Vouch (review.reviewers, review.admins, or signed in as one)`);
  }
  const stored = assignee === null ? null : storableRequestText(assignee, 'assignee');
  await withLockedAlert(context, alertId, async (_row, trx, at) => {
    await appendAudit(trx, { alertId, at, actor: context.identity.actor, action: 'assigned', detail: { to: stored } });
  });
}

/** The suppression form's fields, as posted. */
export interface SuppressionForm {
  rule: string | null;
  user: string | null;
  host: string | null;
  command: string | null;
  reason: string | null;
  for: string | null;
  /** The alert it was made from, whose trail records it too. */
  fromAlert: string | null;
}

/** Creates a suppression under the signed-in admin's identity, validated as the API validates it. */
export async function createSuppression(context: SuppressionContext, form: SuppressionForm): Promise<SuppressionRow> {
  requireAdmin(context.identity);
  const now = context.clock.now();
  const fields: Record<string, unknown> = { created_by: context.identity.actor, reason: form.reason, for: form.for };
  for (const key of ['rule', 'user', 'host', 'command'] as const) if (form[key] !== null) fields[key] = form[key];
  const request = parseSuppressionRequest(fields, now, context.ruleIds);
  return context.db.transaction().execute(async (trx) => {
    const created = await insertSuppression(trx, newSuppressionId(), request, now);
    const detail = { suppression: created.id, rule: created.rule_id, user: created.owner, host: created.host_glob, command: created.command, reason: created.reason, expires_at: created.expires_at.toISOString() };
    await appendAudit(trx, { alertId: null, at: now, actor: context.identity.actor, action: 'suppression_created', detail });
    if (form.fromAlert !== null) {
      const row = await lockAlert(trx, form.fromAlert);
      if (!row) throw new RequestError(404, `no alert ${form.fromAlert}`);
      await appendAudit(trx, { alertId: form.fromAlert, at: now, actor: context.identity.actor, action: 'suppressed_similar', detail });
    }
    return created;
  });
}
