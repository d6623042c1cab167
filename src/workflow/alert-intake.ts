import { createHash, randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { RuleMatch } from '../detect/rule.js';
import type { CommandEvent } from '../sources/command-event.js';
import { insertAlert, insertAlerts, setLastJoined, setOccurrences, updateAlert } from '../store/queries/alerts.js';
import { fromStoredProvenance, provenanceOf, toStoredProvenance, trustLevelOf } from '../sources/provenance.js';
import { appendAuditEntries, type AuditEntry } from '../store/queries/audit-trail.js';
import { notifyJobsDue, scheduleJob } from '../store/queries/jobs.js';
import { liveSuppressions } from '../store/queries/suppressions.js';
import { suppressionMatches } from '../alerts/suppression.js';
import type { AlertRow, Database, NewAlertRow, SuppressionRow } from '../store/schema.js';
import { commandKeyOf, placeHit, sessionKeyOf, shapeKeyOf, type ConversationLead, type GroupingPolicy, type HitKeys, type Placement } from './conversation-grouping.js';
import { FINISHED_STATUSES, SEVERITIES, type AlertStatus, type Severity } from '../alerts/alert.js';

export interface IntakePolicy extends GroupingPolicy {
  /** What to do with commands whose actor has no login user. */
  systemActor: 'digest' | 'escalate' | 'ignore';
}

export type IntakeResult =
  | { kind: 'created'; alertId: string }
  | { kind: 'joined'; alertId: string; conversationId: string }
  | { kind: 'covered'; alertId: string; conversationId: string }
  | { kind: 'repeated'; alertId: string; conversationId: string }
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
 * Records the rule hits of one ingest transaction as conversations (see conversation-grouping.ts).
 * What every hit needs from the database is read once for the batch (the conversations of the
 * people in it, their leads locked, and the live suppressions); fold counters and audit-trail
 * steps are written at the end in one append, in order.
 */
export class HitRecorder {
  private readonly folded = new Map<string, number>();
  private readonly touched = new Map<string, ConversationLead>();
  private readonly raised = new Map<string, { from: Severity; to: Severity; status: AlertStatus }>();
  private readonly steps: AuditEntry[] = [];
  /** System-actor alerts (no login user) of this batch by dedupe key, so identical ones fold into the first. */
  private readonly systemAlerts = new Map<string, { id: string; occurrences: number }>();
  /**
   * Members made by record() and not written yet: inserted together by flushMembers, before
   * anything that refers to them (a job, a fold counter, the trail) is written. A batch adds
   * many members to the conversations it joins, and a round trip each was most of its time.
   */
  private readonly members: NewAlertRow[] = [];

  private constructor(
    private readonly trx: Transaction<Database>,
    private readonly now: Date,
    private readonly policy: IntakePolicy,
    /** Conversations by owner, the batch's own new ones added as they are made. */
    private readonly conversations: Map<string, ConversationLead[]>,
    private readonly leadRows: Map<string, AlertRow>,
    private readonly suppressions: readonly SuppressionRow[],
  ) {}

  /** Reads what `hits` need, inside `trx`. */
  static async open(trx: Transaction<Database>, hits: readonly Pick<RuleHit, 'event' | 'match'>[], now: Date, policy: IntakePolicy): Promise<HitRecorder> {
    const wanted = hits.filter((hit) => recorded(hit, policy));
    const owners = [...new Set(wanted.map((hit) => hit.event.user).filter((owner): owner is string => owner !== null))];
    const { leads, rows } = await loadConversations(trx, owners, now, policy);
    const suppressions = wanted.length > 0 ? await liveSuppressions(trx, now) : [];
    return new HitRecorder(trx, now, policy, leads, rows, suppressions);
  }

  /**
   * Turns one rule hit into an alert in its conversation: a new one (asked), or a member of an
   * open, escalated or verified one (see placeHit). Identical commands fold into the member they
   * repeat. An alert that a live suppression covers is recorded as `suppressed`, and nobody is asked.
   */
  async record(hit: RuleHit): Promise<IntakeResult> {
    const { eventId, event, match } = hit;
    const { trx, now } = this;
    if (!recorded(hit, this.policy)) return { kind: 'ignored' };
    const keys = {
      dedupeKey: dedupeKeyOf(event, match),
      commandKey: commandKeyOf(event.user, match.ruleId, event.command),
      host: event.host,
      sessionKey: sessionKeyOf(event),
      shapeKey: shapeKeyOf(event, match.ruleId),
      alwaysAsk: match.alwaysAsk ?? match.severity === 'critical',
      trust: trustLevelOf(provenanceOf(event)),
    };
    const suppression = this.suppressions.find((s) =>
      suppressionMatches(s, { ruleId: match.ruleId, owner: event.user, host: event.host, command: event.command }),
    );
    if (event.user === null && match.severity === 'critical' && !suppression) {
      const repeat = await this.systemRepeat(hit, keys);
      if (repeat) return repeat;
    }
    const theirs = event.user === null ? [] : (this.conversations.get(event.user) ?? []);
    const placement: Placement = suppression ? { kind: 'new' } : placeHit(theirs, keys, now, this.policy);
    if (placement.kind === 'join') {
      const member = placement.lead.members.get(keys.dedupeKey);
      // The same command from another login session is a member of its own, so its owner sees it
      // (the question is redrawn) instead of a silent count on the one they are answering.
      const otherSession = keys.sessionKey !== null && placement.lead.sessions.size > 0 && !placement.lead.sessions.has(keys.sessionKey);
      if (member && !otherSession) {
        this.joined(placement.lead, keys, match.severity);
        return this.fold(member, hit);
      }
    }
    if (placement.kind === 'new') {
      const result = await createAlert(trx, { ...hit, ...keys, suppression, now }, this.steps);
      if (result.kind === 'created' && event.user === null && match.severity === 'critical') this.systemAlerts.set(keys.dedupeKey, { id: result.alertId, occurrences: 1 });
      if (result.kind === 'created' && event.user !== null) {
        const lead: ConversationLead = {
          id: result.alertId,
          status: 'new',
          severity: match.severity,
          resolvedAt: null,
          lastJoinedAt: now,
          shapeKey: keys.shapeKey,
          sessions: new Set(),
          members: new Map(),
          commands: new Set([keys.commandKey]),
          hosts: new Set([event.host]),
          trust: keys.trust,
        };
        lead.members.set(keys.dedupeKey, { id: result.alertId, occurrences: 1 });
        if (keys.sessionKey) lead.sessions.add(keys.sessionKey);
        this.conversations.set(event.user, [...theirs, lead]);
      }
      return result;
    }
    const lead = placement.lead;
    const leadRow = this.leadRows.get(lead.id);
    const alertId = newAlertId();
    this.members.push(alertRow({ ...hit, ...keys, now, id: alertId, conversationId: lead.id }, memberState(placement.kind, leadRow, now)));
    this.steps.push({ alertId, at: now, actor: 'system', action: 'created', detail: { event_id: eventId, rule: match.ruleId, severity: match.severity, owner: event.user, host: event.host, conversation: lead.id } });
    lead.members.set(keys.dedupeKey, { id: alertId, occurrences: 1 });
    this.joined(lead, keys, placement.kind === 'join' ? match.severity : null);
    if (placement.kind === 'covered') {
      this.steps.push({ alertId, at: now, actor: 'system', action: 'covered', detail: { conversation: lead.id, verified_at: lead.resolvedAt?.toISOString() ?? null } });
      return { kind: 'covered', alertId, conversationId: lead.id };
    }
    if (placement.kind === 'repeat') {
      this.steps.push({ alertId, at: now, actor: 'system', action: 'repeated_after_escalation', detail: { conversation: lead.id } });
      await scheduleJob(trx, lead.id, 'notify_repeat', now);
      // Escalated on arrival, so no escalation step will page it: a critical repeat pages on its
      // own (the page job does nothing where no PagerDuty is configured).
      if (match.severity === 'critical') {
        await this.flushMembers();
        await scheduleJob(trx, alertId, 'page', now);
      }
      return { kind: 'repeated', alertId, conversationId: lead.id };
    }
    this.steps.push({ alertId, at: now, actor: 'system', action: 'joined', detail: { conversation: lead.id } });
    // The question on screen grows with the conversation.
    if (lead.status === 'asked') await scheduleJob(trx, lead.id, 'update_dm', now);
    return { kind: 'joined', alertId, conversationId: lead.id };
  }

  /**
   * A critical command of a system actor (no login user; escalated, never digested) identical to
   * one already alerted on within the dedupe window: folded into it while it waits to be
   * escalated, or, once it escalated, a repeat in its thread (one post, one page, however often
   * it runs). Null when there is none.
   */
  private async systemRepeat(hit: RuleHit, keys: HitKeys): Promise<IntakeResult | null> {
    const { trx, now } = this;
    const { eventId, event, match } = hit;
    const inBatch = this.systemAlerts.get(keys.dedupeKey);
    if (inBatch) return this.fold(inBatch, hit);
    const since = new Date(now.getTime() - this.policy.dedupeWindowMs);
    const earlier = await trx
      .selectFrom('alerts')
      .selectAll()
      .where('owner', 'is', null)
      .where('dedupe_key', '=', keys.dedupeKey)
      .whereRef('id', '=', 'conversation_id')
      .where('status', 'in', ['new', 'escalated'])
      .where('severity', '=', 'critical')
      .where('last_joined_at', '>=', since)
      .orderBy('created_at', 'desc')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (!earlier) return null;
    if (earlier.status === 'new') {
      const member = { id: earlier.id, occurrences: earlier.occurrences };
      this.systemAlerts.set(keys.dedupeKey, member);
      return this.fold(member, hit);
    }
    const alertId = newAlertId();
    await insertAlert(trx, alertRow({ ...hit, ...keys, now, id: alertId, conversationId: earlier.id }, memberState('repeat', earlier, now)));
    await updateAlert(trx, earlier.id, { last_joined_at: now });
    this.steps.push({ alertId, at: now, actor: 'system', action: 'created', detail: { event_id: eventId, rule: match.ruleId, severity: match.severity, owner: null, host: event.host, conversation: earlier.id } });
    this.steps.push({ alertId, at: now, actor: 'system', action: 'repeated_after_escalation', detail: { conversation: earlier.id } });
    await scheduleJob(trx, earlier.id, 'notify_repeat', now);
    // Pages fold into the conversation's open incident (its id is the dedup key).
    await scheduleJob(trx, alertId, 'page', now);
    return { kind: 'repeated', alertId, conversationId: earlier.id };
  }

  /** An identical command again: one more occurrence of `member`, with a `repeated` step. */
  private fold(member: { id: string; occurrences: number }, hit: RuleHit): IntakeResult {
    member.occurrences += 1;
    this.folded.set(member.id, member.occurrences);
    this.steps.push({ alertId: member.id, at: this.now, actor: 'system', action: 'repeated', detail: { event_id: hit.eventId, occurred_at: hit.event.time.toISOString() } });
    return { kind: 'folded', alertId: member.id };
  }

  /** Writes the members, the fold counters, the leads' last hit and the trail; call once after the last record(). */
  async finish(): Promise<void> {
    await this.flushMembers();
    // One statement each for every fold and every lead, not a round trip per alert.
    if (this.folded.size > 0) await setOccurrences(this.trx, this.folded, this.now);
    this.folded.clear();
    if (this.touched.size > 0) await setLastJoined(this.trx, [...this.touched.keys()], this.now);
    this.touched.clear();
    for (const [leadId, change] of this.raised) {
      await updateAlert(this.trx, leadId, { severity: change.to });
      this.steps.push({ alertId: leadId, at: this.now, actor: 'system', action: 'severity_raised', detail: { from: change.from, to: change.to } });
      // A question waiting (for working hours, say) is reconsidered at once at its new severity.
      if (change.status === 'new') await scheduleJob(this.trx, leadId, 'ask', this.now);
      // Turned critical: the channel hears of it now, not when the person answers.
      if (change.to === 'critical' && !FINISHED_STATUSES.includes(change.status)) await scheduleJob(this.trx, leadId, 'announce', this.now);
    }
    this.raised.clear();
    const scheduled = this.steps.some((step) => step.action === 'created' || step.action === 'severity_raised');
    await appendAuditEntries(this.trx, this.steps.splice(0));
    // Every replica's job runner hears of the new work when this transaction commits.
    if (scheduled) await notifyJobsDue(this.trx);
  }

  /** Inserts the members record() made since the last flush. */
  private async flushMembers(): Promise<void> {
    if (this.members.length === 0) return;
    await insertAlerts(this.trx, this.members.splice(0));
  }

  /**
   * Records that a hit joined `lead`. A more severe hit raises an open conversation's severity
   * (on its lead row): the question is as urgent as its most severe command, so a high hit never
   * waits for working hours behind a medium one.
   */
  private joined(lead: ConversationLead, keys: HitKeys, severity: Severity | null): void {
    lead.lastJoinedAt = this.now;
    if (keys.sessionKey) lead.sessions.add(keys.sessionKey);
    lead.commands.add(keys.commandKey);
    lead.hosts.add(keys.host);
    if (severity !== null && SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(lead.severity)) {
      this.raised.set(lead.id, { from: lead.severity, to: severity, status: lead.status });
      lead.severity = severity;
    }
    this.touched.set(lead.id, lead);
  }
}

/**
 * The conversations hits of `owners` may join: open ones, escalated ones within the repeat window,
 * verified ones within the reuse window. Their leads are locked for the transaction, so a
 * conversation cannot change state while a hit joins it.
 */
async function loadConversations(
  trx: Transaction<Database>,
  owners: readonly string[],
  now: Date,
  policy: GroupingPolicy,
): Promise<{ leads: Map<string, ConversationLead[]>; rows: Map<string, AlertRow> }> {
  const leads = new Map<string, ConversationLead[]>();
  const rows = new Map<string, AlertRow>();
  if (owners.length === 0) return { leads, rows };
  await lockOwners(trx, owners);
  const reuseSince = new Date(now.getTime() - policy.reuseWindowMs);
  const repeatSince = new Date(now.getTime() - policy.dedupeWindowMs);
  const leadRows = await trx
    .selectFrom('alerts')
    .selectAll()
    .where('owner', 'in', owners)
    .whereRef('id', '=', 'conversation_id')
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['new', 'asked', 'verifying']),
        eb.and([eb('status', '=', 'verified'), eb('resolved_at', '>=', reuseSince)]),
        eb.and([eb('status', '=', 'escalated'), eb('last_joined_at', '>=', repeatSince)]),
      ]),
    )
    // Oldest first, ties by id: the order Workflow.takeTurn locks a person's conversations in too.
    .orderBy('created_at')
    .orderBy('id')
    .forUpdate()
    .execute();
  if (leadRows.length === 0) return { leads, rows };
  const byId = new Map<string, ConversationLead>();
  for (const row of leadRows) {
    rows.set(row.id, row);
    const lead: ConversationLead = {
      id: row.id,
      status: row.status,
      severity: row.severity,
      resolvedAt: row.resolved_at,
      lastJoinedAt: row.last_joined_at ?? row.created_at,
      shapeKey: row.shape_key,
      sessions: new Set(),
      members: new Map(),
      commands: new Set(),
      hosts: new Set(),
      trust: trustLevelOf(fromStoredProvenance(row.provenance)),
    };
    byId.set(row.id, lead);
    leads.set(row.owner as string, [...(leads.get(row.owner as string) ?? []), lead]);
  }
  const members = await trx
    .selectFrom('alerts')
    .select(['id', 'conversation_id', 'session_key', 'dedupe_key', 'occurrences', 'owner', 'rule_id', 'command', 'host'])
    .where('conversation_id', 'in', [...byId.keys()])
    .execute();
  for (const member of members) {
    const lead = byId.get(member.conversation_id);
    if (!lead) continue;
    if (member.session_key) lead.sessions.add(member.session_key);
    lead.commands.add(commandKeyOf(member.owner, member.rule_id, member.command));
    lead.hosts.add(member.host);
    if (!lead.members.has(member.dedupe_key)) lead.members.set(member.dedupe_key, { id: member.id, occurrences: member.occurrences });
  }
  return { leads, rows };
}

/**
 * Serialises the intake of each person's hits across transactions (other ingests, other
 * replicas) until this one ends. Row locks on the leads alone cannot: a conversation another
 * transaction is creating has no row yet, so two concurrent ingests of one person would each
 * start a pending conversation of their own, and the person would be asked twice. Taken in one
 * order (by name), so two ingests of the same people never wait on each other in a cycle.
 */
async function lockOwners(trx: Transaction<Database>, owners: readonly string[]): Promise<void> {
  for (const owner of [...owners].sort()) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${'vouch.conversations:'} || current_schema() || ${`:${owner}`}, 0))`.execute(trx);
  }
}

/** A member's state: the lead's for an open conversation, settled at once for the others. */
function memberState(kind: 'join' | 'repeat' | 'covered', lead: AlertRow | undefined, now: Date): Partial<NewAlertRow> {
  if (!lead) return {};
  if (kind === 'join') return { status: lead.status, chat_user_id: lead.chat_user_id, asked_at: lead.asked_at };
  if (kind === 'covered') {
    return { status: 'verified', chat_user_id: lead.chat_user_id, justification: lead.justification, second_factor: lead.second_factor, answered_at: lead.answered_at, resolved_at: now };
  }
  return {
    status: 'escalated',
    chat_user_id: lead.chat_user_id,
    escalation_reason: lead.escalation_reason,
    escalation_detail: 'seen again after its conversation was escalated',
    resolved_at: now,
  };
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
  hit: RuleHit & HitKeys & { suppression: SuppressionRow | undefined; now: Date },
  steps: AuditEntry[],
): Promise<IntakeResult> {
  const { eventId, event, match, suppression, now } = hit;
  const alertId = newAlertId();
  await insertAlert(trx, alertRow({ ...hit, id: alertId, conversationId: alertId }, suppression ? { status: 'suppressed', resolved_at: now } : {}));
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

/** A new alert row for a hit: `new` and unanswered unless `state` says otherwise. */
function alertRow(hit: RuleHit & HitKeys & { now: Date; id: string; conversationId: string }, state: Partial<NewAlertRow>): NewAlertRow {
  const { eventId, event, match, now } = hit;
  return {
    id: hit.id,
    event_id: eventId,
    status: 'new',
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
    dedupe_key: hit.dedupeKey,
    conversation_id: hit.conversationId,
    session_key: hit.sessionKey,
    shape_key: hit.shapeKey,
    last_joined_at: now,
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
    resolved_at: null,
    reviewed_by: null,
    reviewed_at: null,
    review_note: null,
    created_at: now,
    updated_at: now,
    ...state,
  };
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
