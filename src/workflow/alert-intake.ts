import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { findFoldTargets, insertAlert, updateAlert } from '../store/queries/alerts.js';
import { provenanceOf, toStoredProvenance } from '../sources/provenance.js';
import { appendAuditEntries, type AuditEntry } from '../store/queries/audit-trail.js';
import { scheduleJob } from '../store/queries/jobs.js';
import { liveSuppressions } from '../store/queries/suppressions.js';
import { suppressionMatches } from '../alerts/suppression.js';
import type { Database, SuppressionRow } from '../store/schema.js';

export interface IntakePolicy {
  dedupeWindowMs: number;
  /** What to do with commands whose actor has no login user. */
  systemActor: 'digest' | 'escalate' | 'ignore';
}

export type IntakeResult =
  | { kind: 'created'; alertId: string }
  | { kind: 'folded'; alertId: string }
  | { kind: 'suppressed'; alertId: string; suppressionId: string }
  | { kind: 'ignored' };

/** A rule hit to record: its stored command event (command already redacted) and its match. */
export interface RuleHit {
  eventId: number;
  event: CommandEvent;
  match: RuleMatch;
}

/**
 * Records the rule hits of one ingest transaction. What every hit needs from the database is read
 * once for the batch (the alerts its identical commands may fold into, locked; the live
 * suppressions), and the fold counters and the audit-trail steps are written at the end (the
 * steps in one append, in order), so a batch costs two statements per new alert instead of a dozen
 * round trips per hit.
 */
export class HitRecorder {
  private readonly targets: Map<string, { id: string; occurrences: number }>;
  private readonly folded = new Map<string, number>();
  private readonly steps: AuditEntry[] = [];

  private constructor(
    private readonly trx: Transaction<Database>,
    private readonly now: Date,
    private readonly policy: IntakePolicy,
    targets: Map<string, { id: string; occurrences: number }>,
    private readonly suppressions: readonly SuppressionRow[],
  ) {
    this.targets = targets;
  }

  /** Reads what `hits` need, inside `trx`. */
  static async open(trx: Transaction<Database>, hits: readonly Pick<RuleHit, 'event' | 'match'>[], now: Date, policy: IntakePolicy): Promise<HitRecorder> {
    const keys = hits.filter((hit) => recorded(hit, policy)).map((hit) => dedupeKeyOf(hit.event, hit.match));
    const since = new Date(now.getTime() - policy.dedupeWindowMs);
    const rows = await findFoldTargets(trx, keys, since);
    const targets = new Map([...rows].map(([key, row]) => [key, { id: row.id, occurrences: row.occurrences }]));
    const suppressions = keys.length > 0 ? await liveSuppressions(trx, now) : [];
    return new HitRecorder(trx, now, policy, targets, suppressions);
  }

  /**
   * Turns one rule hit into an alert. Identical commands by the same person on the same host fold
   * into the open (or recently vouched-for) alert instead of asking again, an earlier hit of the
   * same batch included. An alert that a live suppression covers is recorded as `suppressed`, and
   * nobody is asked.
   */
  async record(hit: RuleHit): Promise<IntakeResult> {
    const { eventId, event, match } = hit;
    const { trx, now } = this;
    if (!recorded(hit, this.policy)) return { kind: 'ignored' };
    const dedupeKey = dedupeKeyOf(event, match);
    const target = this.targets.get(dedupeKey);
    if (target) {
      target.occurrences += 1;
      this.folded.set(target.id, target.occurrences);
      this.steps.push({ alertId: target.id, at: now, actor: 'system', action: 'repeated', detail: { event_id: eventId, occurred_at: event.time.toISOString() } });
      return { kind: 'folded', alertId: target.id };
    }
    const suppression = this.suppressions.find((s) =>
      suppressionMatches(s, { ruleId: match.ruleId, owner: event.user, host: event.host, command: event.command }),
    );
    const result = await createAlert(trx, { ...hit, dedupeKey, suppression, now }, this.steps);
    if (result.kind === 'created') this.targets.set(dedupeKey, { id: result.alertId, occurrences: 1 });
    return result;
  }

  /** Writes the fold counters and the trail; call once after the last record(). */
  async finish(): Promise<void> {
    for (const [alertId, occurrences] of this.folded) await updateAlert(this.trx, alertId, { occurrences, updated_at: this.now });
    this.folded.clear();
    await appendAuditEntries(this.trx, this.steps.splice(0));
  }
}

/** Whether a hit becomes (or folds into) an alert at all. */
function recorded(hit: Pick<RuleHit, 'event' | 'match'>, policy: IntakePolicy): boolean {
  if (hit.match.mode === 'observe') return false;
  return !(hit.event.user === null && policy.systemActor === 'ignore');
}

/** Records one rule hit on its own (a batch of one). */
export async function recordHit(
  trx: Transaction<Database>,
  hit: RuleHit & { now: Date; policy: IntakePolicy },
): Promise<IntakeResult> {
  const recorder = await HitRecorder.open(trx, [hit], hit.now, hit.policy);
  const result = await recorder.record(hit);
  await recorder.finish();
  return result;
}

async function createAlert(
  trx: Transaction<Database>,
  hit: RuleHit & { dedupeKey: string; suppression: SuppressionRow | undefined; now: Date },
  steps: AuditEntry[],
): Promise<IntakeResult> {
  const { eventId, event, match, dedupeKey, suppression, now } = hit;
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
  steps.push({
    alertId,
    at: now,
    actor: 'system',
    action: 'created',
    detail: { event_id: eventId, rule: match.ruleId, severity: match.severity, owner: event.user, host: event.host },
  });
  if (suppression) {
    steps.push({
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
