/**
 * Gathers, for the alerts the sandbox page lists, what the engine did or is waiting for (the
 * facts progress-wording.ts puts into sentences). A handful of queries for the whole list, so a
 * poll every second stays cheap.
 */
import type { Kysely } from 'kysely';
import { progressNotes, type LadderStepKind, type ProgressFacts, type ProgressNote, type QuestionRef } from '../alerts/progress-wording.js';
import { fromStoredProvenance } from '../sources/provenance.js';
import { alertSummaries, conversationSizes, openQuestionsOf } from '../store/queries/alerts.js';
import { auditStepsOf } from '../store/queries/audit-trail.js';
import { cachedTimeZones } from '../store/queries/identities.js';
import { scheduledJobsOf } from '../store/queries/jobs.js';
import type { AlertRow, AuditTrailRow, Database } from '../store/schema.js';

export interface ProgressSources {
  db: Kysely<Database>;
  now: Date;
  /** The chat name of a user id (a manager told by DM), or null when chat does not know it. */
  chatUserName(chatUserId: string): string | null;
}

/** The trail steps whose details the notes need (the rest of an alert's story is in its columns). */
const TRAIL_ACTIONS = ['deferred', 'contact_notified', 'contact_skipped', 'security_heads_up'] as const;
type TrailAction = (typeof TRAIL_ACTIONS)[number];
type TrailStep = Pick<AuditTrailRow, 'alert_id' | 'action' | 'at' | 'detail'>;

const LADDER_STEPS: readonly LadderStepKind[] = ['remind', 'contact', 'deadline'];

/** Notes for each listed alert, by alert id. */
export async function alertProgress(rows: readonly AlertRow[], sources: ProgressSources): Promise<Map<string, ProgressNote[]>> {
  const context = await loadContext(rows, sources);
  return new Map(rows.map((row) => [row.id, progressNotes(factsOf(row, context, sources), sources.now)]));
}

interface Context {
  refs: Map<string, QuestionRef>;
  sizes: Map<string, { size: number; hostCount: number }>;
  trail: Map<string, Map<TrailAction, TrailStep>>;
  nextSteps: Map<string, { kind: LadderStepKind; at: Date }>;
  openQuestions: Map<string, QuestionRef[]>;
  zones: Map<string, string>;
}

async function loadContext(rows: readonly AlertRow[], sources: ProgressSources): Promise<Context> {
  const { db } = sources;
  const ids = rows.map((row) => row.id);
  const leads = rows.filter(isLead);
  const listed = new Set(ids);
  const missingLeads = unique(rows.filter((row) => !isLead(row) && !listed.has(row.conversation_id)).map((row) => row.conversation_id));
  const waitingOwners = unique(leads.flatMap((row) => (row.status === 'new' && row.owner ? [row.owner] : [])));
  const [summaries, sizes, steps, jobs, open, zones] = await Promise.all([
    alertSummaries(db, missingLeads),
    conversationSizes(db, leads.map((row) => row.id)),
    auditStepsOf(db, ids, TRAIL_ACTIONS),
    scheduledJobsOf(db, leads.filter((row) => row.status === 'asked').map((row) => row.id), LADDER_STEPS),
    openQuestionsOf(db, waitingOwners),
    cachedTimeZones(db, unique(rows.flatMap((row) => (row.owner ? [row.owner] : [])))),
  ]);
  const refs = new Map<string, QuestionRef>([...rows, ...summaries].map((row) => [row.id, { id: row.id, command: row.command, host: row.host }]));
  const trail = new Map<string, Map<TrailAction, TrailStep>>();
  // Oldest first: a later step of the same action (a second deferral) replaces the earlier one.
  for (const step of steps) {
    if (!step.alert_id) continue;
    const byAction = trail.get(step.alert_id) ?? new Map<TrailAction, TrailStep>();
    byAction.set(step.action as TrailAction, step);
    trail.set(step.alert_id, byAction);
  }
  const nextSteps = new Map<string, { kind: LadderStepKind; at: Date }>();
  // Soonest first: the first job seen for an alert is its next step.
  for (const job of jobs) if (!nextSteps.has(job.alert_id)) nextSteps.set(job.alert_id, { kind: job.kind as LadderStepKind, at: job.run_at });
  const openQuestions = new Map<string, QuestionRef[]>();
  for (const question of open) {
    if (!question.owner) continue;
    openQuestions.set(question.owner, [...(openQuestions.get(question.owner) ?? []), question]);
  }
  return { refs, sizes, trail, nextSteps, openQuestions, zones };
}

function factsOf(row: AlertRow, context: Context, sources: ProgressSources): ProgressFacts {
  const steps = context.trail.get(row.id);
  const lead = isLead(row);
  return {
    id: row.id,
    status: row.status,
    owner: row.owner,
    timeZone: row.owner ? (context.zones.get(row.owner) ?? null) : null,
    conversation: lead ? (context.sizes.get(row.id) ?? null) : null,
    partOf: lead ? null : (context.refs.get(row.conversation_id) ?? { id: row.conversation_id, command: '(not listed)', host: 'unknown host' }),
    deferral: row.deferred_until ? deferralOf(row.deferred_until, steps?.get('deferred')) : null,
    waitingBehind: lead && row.status === 'new' && row.owner ? (context.openQuestions.get(row.owner)?.find((other) => other.id !== row.id) ?? null) : null,
    remindersSent: row.reminders_sent,
    lastReminderAt: row.reminded_at,
    nextStep: context.nextSteps.get(row.id) ?? null,
    contact: contactOf(steps?.get('contact_notified'), sources),
    contactSkipped: row.contact_ts ? null : detailText(steps?.get('contact_skipped'), 'reason'),
    headsUp: row.announce_ts ? { at: steps?.get('security_heads_up')?.at ?? row.announce_requested_at, outcomePosted: row.outcome_ts !== null } : null,
    page: row.paged_at ? { triggeredAt: row.paged_at, resolvedAt: row.page_resolved_at } : null,
    escalationReason: row.escalation_reason,
    escalationDetail: row.escalation_detail,
    secondFactor: row.second_factor,
    provenance: fromStoredProvenance(row.provenance),
  };
}

function deferralOf(until: Date, step: TrailStep | undefined): ProgressFacts['deferral'] {
  return { until, workingHours: detailText(step, 'working_hours'), timeZone: detailText(step, 'time_zone') };
}

/** Who was told, from the trail's `contact_notified` step: `{ contact: kind, to: user or group id }`. */
function contactOf(step: TrailStep | undefined, sources: ProgressSources): ProgressFacts['contact'] {
  const kind = detailText(step, 'contact');
  const to = detailText(step, 'to');
  if (!step || !to || (kind !== 'manager' && kind !== 'user_group')) return null;
  const name = kind === 'manager' ? sources.chatUserName(to) : null;
  return { kind, who: name ? `@${name}` : to, at: step.at };
}

function detailText(step: TrailStep | undefined, key: string): string | null {
  const value = step?.detail[key];
  return typeof value === 'string' ? value : null;
}

function isLead(row: AlertRow): boolean {
  return row.id === row.conversation_id;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
