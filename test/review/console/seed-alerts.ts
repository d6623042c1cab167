import type { Kysely } from 'kysely';
import { insertAlert } from '../../../src/store/queries/alerts.js';
import { appendAuditEntries, type AuditEntry } from '../../../src/store/queries/audit-trail.js';
import type { Database, NewAlertRow } from '../../../src/store/schema.js';

export interface SeededAlert {
  id: string;
  status?: string;
  owner?: string | null;
  host?: string;
  command?: string;
  rule_id?: string;
  rule_name?: string;
  severity?: string;
  occurred_at?: Date;
  justification?: string | null;
  second_factor?: string | null;
  escalation_reason?: string | null;
  escalation_detail?: string | null;
  asked_at?: Date | null;
  answered_at?: Date | null;
  attribution?: string;
  /** The conversation's lead; the alert's own id by default. */
  conversation_id?: string;
}

/**
 * Stores alerts as the workflow leaves them, each with the trail steps its status implies
 * (created, asked, answered, pushed, verified or escalated), through the real trail append.
 */
export async function seedAlerts(db: Kysely<Database>, alerts: readonly SeededAlert[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const steps: AuditEntry[] = [];
    for (const alert of alerts) {
      const at = alert.occurred_at ?? new Date('2026-11-24T09:00:00Z');
      const status = (alert.status ?? 'verified') as NewAlertRow['status'];
      const finished = ['verified', 'escalated', 'suppressed'].includes(status);
      const row: NewAlertRow = {
        id: alert.id, event_id: null, status, owner: alert.owner === undefined ? 'alice' : alert.owner, host: alert.host ?? 'db-1',
        command: alert.command ?? 'cat /etc/shadow', run_as: 'root', cwd: '/home/alice', occurred_at: at,
        rule_id: alert.rule_id ?? 'credential-access.shadow-read', rule_name: alert.rule_name ?? 'Read of /etc/shadow', severity: (alert.severity ?? 'high') as NewAlertRow['severity'],
        attack: JSON.stringify(['T1003.008']), dedupe_key: `k-${alert.id}`, chat_user_id: 'UALICE', dm_channel: 'D1', dm_ts: '1.1',
        asked_at: alert.asked_at === undefined ? new Date(at.getTime() + 5_000) : alert.asked_at,
        reminded_at: null,
        answered_at: alert.answered_at === undefined ? (finished && status !== 'suppressed' ? new Date(at.getTime() + 65_000) : null) : alert.answered_at,
        justification: alert.justification === undefined ? (status === 'verified' ? 'Rotating the root password, ticket OPS-1' : null) : alert.justification,
        second_factor_user: null, push_txid: status === 'verified' ? `tx-${alert.id}` : null, push_started_at: null,
        second_factor: alert.second_factor === undefined ? (status === 'verified' ? 'allow' : null) : alert.second_factor,
        escalation_reason: (alert.escalation_reason === undefined ? (status === 'escalated' ? 'no_response' : null) : alert.escalation_reason) as NewAlertRow['escalation_reason'],
        escalation_detail: alert.escalation_detail ?? (status === 'escalated' ? 'no answer within 120 minutes' : null),
        escalation_channel: null, escalation_ts: null, resolved_at: finished ? new Date(at.getTime() + 90_000) : null,
        reviewed_by: null, reviewed_at: null, review_note: null, created_at: at, updated_at: at,
        conversation_id: alert.conversation_id ?? alert.id, session_key: null, shape_key: null, last_joined_at: null,
        dm_requested_at: null, reminder_requested_at: null, escalation_requested_at: null, push_requested_at: null,
        provenance: JSON.stringify({ format: 'auditd', attribution: alert.attribution ?? 'kernel', forgeable: false, transport: 'file', host_binding: null }),
      };
      await insertAlert(trx, row);
      steps.push({ alertId: alert.id, at, actor: 'system', action: 'created', detail: { rule: row.rule_id, host: row.host } });
      steps.push({ alertId: alert.id, at: new Date(at.getTime() + 5_000), actor: 'system', action: 'asked', detail: { chat_user: 'UALICE' } });
      if (status === 'verified') {
        steps.push({ alertId: alert.id, at: new Date(at.getTime() + 65_000), actor: 'UALICE', action: 'justified', detail: { reason: row.justification } });
        steps.push({ alertId: alert.id, at: new Date(at.getTime() + 70_000), actor: 'duo', action: 'push_sent', detail: { txid: row.push_txid } });
        steps.push({ alertId: alert.id, at: new Date(at.getTime() + 90_000), actor: 'duo', action: 'verified', detail: { second_factor: 'allow' } });
      }
      if (status === 'escalated') {
        steps.push({ alertId: alert.id, at: new Date(at.getTime() + 90_000), actor: 'system', action: 'escalated', detail: { reason: row.escalation_reason, detail: row.escalation_detail } });
      }
    }
    await appendAuditEntries(trx, steps);
  });
}
