import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { findFoldTarget, insertAlert, updateAlert } from '../store/queries/alerts.js';
import { provenanceOf, toStoredProvenance } from '../sources/provenance.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { scheduleJob } from '../store/queries/jobs.js';
import { liveSuppressions } from '../store/queries/suppressions.js';
import { suppressionMatches } from '../alerts/suppression.js';
import type { Database } from '../store/schema.js';

export interface IntakePolicy {
  dedupeWindowMs: number;
  /** What to do with commands whose actor has no login user. */
  systemActor: 'escalate' | 'ignore';
}

export type IntakeResult =
  | { kind: 'created'; alertId: string }
  | { kind: 'folded'; alertId: string }
  | { kind: 'suppressed'; alertId: string; suppressionId: string }
  | { kind: 'ignored' };

/**
 * Turns a rule hit (already stored as command event `eventId`, command already redacted) into an
 * alert, inside the ingesting transaction. Identical commands by the same person on the same host
 * fold into the open (or recently vouched-for) alert instead of asking again. An alert that a live
 * suppression covers is recorded as `suppressed`, and nobody is asked.
 */
export async function recordHit(
  trx: Transaction<Database>,
  hit: { eventId: number; event: CommandEvent; match: RuleMatch; now: Date; policy: IntakePolicy },
): Promise<IntakeResult> {
  const { eventId, event, match, now, policy } = hit;
  if (match.mode === 'observe') return { kind: 'ignored' };
  if (event.user === null && policy.systemActor === 'ignore') return { kind: 'ignored' };
  const dedupeKey = dedupeKeyOf(event, match);
  const target = await findFoldTarget(trx, dedupeKey, new Date(now.getTime() - policy.dedupeWindowMs));
  if (target) {
    await updateAlert(trx, target.id, { occurrences: target.occurrences + 1, updated_at: now });
    await appendAudit(trx, { alertId: target.id, at: now, actor: 'system', action: 'repeated', detail: { event_id: eventId, occurred_at: event.time.toISOString() } });
    return { kind: 'folded', alertId: target.id };
  }
  const suppression = (await liveSuppressions(trx, now)).find((s) =>
    suppressionMatches(s, { ruleId: match.ruleId, owner: event.user, host: event.host, command: event.command }),
  );
  const alertId = newAlertId();
  await insertAlert(trx, {
    id: alertId,
    event_id: eventId,
    status: suppression ? 'suppressed' : 'new',
    owner: event.user,
    host: event.host,
    command: event.command,
    run_as: event.runAs,
    cwd: event.cwd,
    occurred_at: event.time,
    rule_id: match.ruleId,
    rule_name: match.ruleName,
    severity: match.severity,
    attack: JSON.stringify(match.attack),
    provenance: JSON.stringify(toStoredProvenance(provenanceOf(event))),
    dedupe_key: dedupeKey,
    chat_user_id: null,
    dm_channel: null,
    dm_ts: null,
    asked_at: null,
    reminded_at: null,
    answered_at: null,
    justification: null,
    second_factor_user: null,
    push_txid: null,
    push_started_at: null,
    second_factor: null,
    escalation_reason: null,
    escalation_detail: null,
    escalation_channel: null,
    escalation_ts: null,
    resolved_at: suppression ? now : null,
    reviewed_by: null,
    reviewed_at: null,
    review_note: null,
    created_at: now,
    updated_at: now,
  });
  await appendAudit(trx, {
    alertId,
    at: now,
    actor: 'system',
    action: 'created',
    detail: { event_id: eventId, rule: match.ruleId, severity: match.severity, owner: event.user, host: event.host },
  });
  if (suppression) {
    await appendAudit(trx, {
      alertId,
      at: now,
      actor: 'system',
      action: 'suppressed',
      detail: { suppression: suppression.id, by: suppression.created_by, reason: suppression.reason, until: suppression.expires_at.toISOString() },
    });
    return { kind: 'suppressed', alertId, suppressionId: suppression.id };
  }
  await scheduleJob(trx, alertId, 'ask', now);
  return { kind: 'created', alertId };
}

function dedupeKeyOf(event: CommandEvent, match: RuleMatch): string {
  return createHash('sha256')
    .update([event.user ?? '(system)', event.host, match.ruleId, event.command].join('\0'))
    .digest('hex');
}

/** Unguessable, URL- and Slack-safe ids such as `al_Q2x9...`. */
export function newAlertId(): string {
  return `al_${randomBytes(12).toString('base64url')}`;
}
