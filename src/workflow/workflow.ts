import type { Kysely, Transaction } from 'kysely';
import { FINISHED_STATUSES, JUSTIFICATION_LENGTH, type AlertStatus, type EscalationReason } from '../alerts/alert.js';
import type { IdentityResolver } from '../alerts/identity.js';
import type { ChatPort, MessageRef, PostPlace, PostPurpose } from '../chat/chat-port.js';
import type { ButtonClick, ChatCommand, InteractionHandlers, JustificationSubmission, SubmissionResult } from '../chat/interactions.js';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { findAlert, listAlerts, lockAlert, toAlertView, updateAlert } from '../store/queries/alerts.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { cancelJobs, notifyJobsDue, scheduleJob, type JobKind } from '../store/queries/jobs.js';
import type { AlertRow, AlertUpdate, Database, JobRow } from '../store/schema.js';
import type { SecondFactorPort } from '../verify/second-factor-port.js';
import type { JobContext } from './job-runner.js';
import { humanDuration, secondFactorSentence } from '../alerts/wording.js';
import type { PagerPort } from '../page/pagerduty.js';
import { EscalationLadder, type LadderSettings } from './escalation-ladder.js';

export interface WorkflowTimings extends LadderSettings {
  escalateAfterMs: number;
  pushTimeoutMs: number;
  pushPollIntervalMs: number;
}

export interface WorkflowOptions {
  db: Kysely<Database>;
  chat: ChatPort;
  secondFactor: SecondFactorPort;
  identity: IdentityResolver;
  clock: Clock;
  logger: Logger;
  timings: WorkflowTimings;
  /** Called after a transaction scheduled work that is due now (wakes the job runner). */
  onScheduled?: () => void;
  /** Pages critical escalations (PagerDuty); absent or null: no paging. */
  pager?: PagerPort | null;
}

/** Shortest justification accepted, so "ok" or "." does not pass as an answer. */
const MIN_REASON_LENGTH = JUSTIFICATION_LENGTH.min;
const MAX_REASON_LENGTH = JUSTIFICATION_LENGTH.max;
/** Longest single auth_status long-poll. */
const MAX_POLL_WAIT_MS = 15_000;
/** How long Duo is given for its last word on a push whose deadline has passed. */
const FINAL_WORD_WAIT_MS = 1000;
/** Jobs that end with the conversation. */
const CONVERSATION_JOBS: readonly JobKind[] = ['ask', 'remind', 'contact', 'deadline', 'push', 'poll'];
/** Jobs whose failure must not end the conversation: the alert's own path still runs (or ran). */
const SIDE_JOBS: readonly JobKind[] = ['notify_security', 'update_dm', 'contact', 'announce', 'page'];

/**
 * The alert state machine. Every transition happens in one database transaction with the row
 * locked, its audit-trail step, and the jobs it schedules; chat and Duo calls happen in jobs, so a
 * failure is retried and a restart resumes where the database says the alert is.
 *
 *   new -> asked -> verifying -> verified
 *          asked -> escalated (denied_by_user | no_response)
 *      verifying -> escalated (second_factor_failed)
 *    new -> escalated (unknown_owner)
 */
export class Workflow implements InteractionHandlers {
  private readonly ladder: EscalationLadder;

  constructor(private readonly options: WorkflowOptions) {
    this.ladder = new EscalationLadder({
      ...options,
      settings: options.timings,
      pager: options.pager ?? null,
      steps: {
        postOnce: (alert, purpose, place, signal, post) => this.postOnce(alert, purpose, place, signal, post),
        transition: (alertId, actor, decide) => this.transition(alertId, actor, decide),
      },
    });
  }

  /** Runs one claimed job. Throwing makes the runner retry it later. */
  async handleJob(job: JobRow, context: JobContext = { signal: new AbortController().signal }): Promise<void> {
    const alert = await findAlert(this.options.db, job.alert_id);
    if (!alert) return;
    const { signal } = context;
    switch (job.kind) {
      case 'ask':
        return this.ask(alert, signal);
      case 'remind':
        return this.ladder.remind(alert, signal);
      case 'contact':
        return this.ladder.contact(alert, signal);
      case 'announce':
        return this.ladder.announce(alert, signal);
      case 'page':
        return this.ladder.page(alert);
      case 'deadline':
        return this.deadline(alert);
      case 'push':
        return this.push(alert, signal);
      case 'poll':
        return this.poll(alert);
      case 'notify_security':
        return this.notifySecurity(alert, signal);
      case 'update_dm':
        return this.updateDm(alert);
      default:
        this.options.logger.warn('unknown job kind ignored', { job: job.kind });
    }
  }

  /**
   * A job used up its attempts: the alert must not stay open with nobody asked, so it escalates
   * (`delivery_failed`) through the security channel, a path that does not depend on the DM or
   * the push that kept failing. A failing channel post stays parked and retried (`vouch doctor`
   * and /metrics show it); either way the audit trail records the failure.
   */
  async onJobExhausted(job: JobRow, error: Error): Promise<void> {
    const kind = job.kind;
    const detail = `Vouch could not ${JOB_PURPOSE[kind] ?? kind} after ${job.attempts} attempts: ${error.message}`;
    await this.options.db.transaction().execute((trx) =>
      appendAudit(trx, { alertId: job.alert_id, at: this.now(), actor: 'system', action: 'job_failed', detail: { job: kind, attempts: job.attempts, error: error.message } }),
    );
    if (SIDE_JOBS.includes(kind)) return;
    await this.transition(job.alert_id, 'system', (row, trx) =>
      FINISHED_STATUSES.includes(row.status as AlertStatus) ? null : this.escalateIn(trx, row, 'delivery_failed', detail.slice(0, 1000)),
    );
  }

  // ---- jobs ---------------------------------------------------------------------------------

  /**
   * Posts a message at most once as people see it: the attempt is recorded before the call, and
   * a re-run that finds an earlier attempt looks for that message (by its metadata) first.
   */
  private async postOnce(
    alert: AlertRow,
    purpose: PostPurpose,
    place: PostPlace,
    signal: AbortSignal,
    post: () => Promise<MessageRef>,
  ): Promise<MessageRef> {
    const column = REQUESTED_COLUMN[purpose];
    const requestedAt = alert[column];
    if (requestedAt) {
      const found = await this.options.chat.findPosted(alert.id, purpose, place, requestedAt);
      if (found) {
        this.options.logger.info('found the message an earlier attempt posted; not posting again', { alert: alert.id, purpose });
        return found;
      }
    }
    signal.throwIfAborted();
    if (!requestedAt) await updateAlert(this.options.db, alert.id, { [column]: this.now() });
    return post();
  }

  private async ask(alert: AlertRow, signal: AbortSignal): Promise<void> {
    if (alert.status !== 'new') return;
    if (!alert.owner) {
      return this.transition(alert.id, 'system', (row, trx) =>
        row.status === 'new' ? this.escalateIn(trx, row, 'unknown_owner', 'the command ran with no login user (a system process)') : null,
      );
    }
    const owner = await this.options.identity.resolve(alert.owner);
    if (!owner.chatUserId) {
      const detail = owner.email ? `no Slack user has the email ${owner.email}` : `no Slack user or email is configured for ${alert.owner}`;
      return this.transition(alert.id, 'system', (row, trx) => (row.status === 'new' ? this.escalateIn(trx, row, 'unknown_owner', detail) : null));
    }
    const { deferred, timeZone } = await this.ladder.deferral(alert, owner.chatUserId);
    if (deferred) return;
    // Record who may answer before the question exists, so a click that arrives the instant the
    // DM is posted already passes the owner check.
    await updateAlert(this.options.db, alert.id, { chat_user_id: owner.chatUserId, second_factor_user: owner.secondFactorUser });
    const chatUserId = owner.chatUserId;
    const question = await this.postOnce(alert, 'question', { chatUserId }, signal, () => this.options.chat.askOwner(toAlertView(alert), chatUserId));
    const now = this.now();
    await this.transition(alert.id, 'system', async (row, trx) => {
      const refs = { dm_channel: question.channel, dm_ts: question.ts, asked_at: now };
      const detail = { chat_user: owner.chatUserId, channel: question.channel, ts: question.ts };
      if (row.status !== 'new') {
        // Answered before this transaction: keep the DM's address and show the outcome there.
        await scheduleJob(trx, row.id, 'update_dm', now);
        await this.ladder.afterChange(trx, { ...row, asked_at: now }, now);
        return { changes: refs, action: 'asked', detail };
      }
      await this.ladder.scheduleLadder(trx, row, now, timeZone);
      return { changes: { status: 'asked', ...refs }, action: 'asked', detail };
    });
  }

  private async deadline(alert: AlertRow): Promise<void> {
    if (alert.status !== 'asked') return;
    // Out-of-hours waits can stretch a low or medium deadline past escalate_after: say how long it was.
    const configured = this.options.timings.escalateAfterMs;
    const elapsed = alert.asked_at ? this.now().getTime() - alert.asked_at.getTime() : configured;
    const waited = humanDuration(elapsed > configured + 60_000 ? Math.round(elapsed / 60_000) * 60_000 : configured);
    await this.transition(alert.id, 'system', (row, trx) =>
      row.status === 'asked' ? this.escalateIn(trx, row, 'no_response', `no answer within ${waited}`) : null,
    );
  }

  private async push(alert: AlertRow, signal: AbortSignal): Promise<void> {
    if (alert.status !== 'verifying' || alert.push_txid) return;
    if (alert.push_requested_at) {
      // An earlier attempt asked Duo for a push and never learnt its txid (a crash inside the
      // /auth round trip): a push may be on the phone. A second one is sent only once the first
      // would have expired, so the person never sees two live pushes for one question.
      const expiresAt = new Date(alert.push_requested_at.getTime() + this.options.timings.pushTimeoutMs);
      if (this.now() < expiresAt) {
        await this.options.db.transaction().execute(async (trx) => {
          await appendAudit(trx, { alertId: alert.id, at: this.now(), actor: 'system', action: 'push_outcome_unknown', detail: { retry_at: expiresAt.toISOString() } });
          await scheduleJob(trx, alert.id, 'push', expiresAt);
        });
        return;
      }
    }
    signal.throwIfAborted();
    const requested = await this.options.db
      .updateTable('alerts')
      .set({ push_requested_at: this.now() })
      .where('id', '=', alert.id)
      .where('status', '=', 'verifying')
      .where('push_txid', 'is', null)
      .executeTakeFirst();
    if (requested.numUpdatedRows === 0n) return;
    const view = toAlertView(alert);
    let outcome: Awaited<ReturnType<SecondFactorPort['startPush']>>;
    try {
      outcome = await this.options.secondFactor.startPush({
        username: alert.second_factor_user ?? alert.owner ?? '',
        title: 'Vouch: confirm a command',
        details: { host: view.host, command: view.command, rule: view.ruleName, alert: view.id },
      });
    } catch (error) {
      return this.failSecondFactor(alert.id, 'error', `Duo unreachable: ${coerceError(error).message}`);
    }
    if (outcome.kind === 'refused') {
      return this.failSecondFactor(alert.id, outcome.reason, `Duo sent no push: ${secondFactorSentence(outcome.reason)} (${outcome.message})`);
    }
    const now = this.now();
    await this.transition(alert.id, 'duo', async (row, trx) => {
      if (row.status !== 'verifying') return null;
      await scheduleJob(trx, row.id, 'poll', now);
      return { changes: { push_txid: outcome.transactionId, push_started_at: now }, action: 'push_sent', detail: { txid: outcome.transactionId } };
    });
  }

  private async poll(alert: AlertRow): Promise<void> {
    if (alert.status !== 'verifying' || !alert.push_txid || !alert.push_started_at) return;
    const deadline = alert.push_started_at.getTime() + this.options.timings.pushTimeoutMs;
    const remaining = deadline - this.now().getTime();
    // Past the deadline Duo still gets the last word: the person may have approved while no
    // worker was polling (a restart), and an approval is never turned into "not answered".
    const waitMs = remaining > 0 ? Math.min(remaining, MAX_POLL_WAIT_MS) : FINAL_WORD_WAIT_MS;
    let status: Awaited<ReturnType<SecondFactorPort['pushStatus']>>;
    try {
      status = await this.options.secondFactor.pushStatus(alert.push_txid, { waitMs });
    } catch (error) {
      const message = coerceError(error).message;
      if (remaining > 0) {
        // A blip before the deadline: ask again shortly; the push on the phone is still live.
        this.options.logger.warn('Duo push status unavailable; asking again', { alert: alert.id, error: message });
        await this.schedulePoll(alert.id, deadline);
        return;
      }
      return this.failSecondFactor(alert.id, 'error', `Duo unreachable: ${message}`);
    }
    if (status.result === 'allow') return this.verify(alert.id, status.status);
    if (status.result === 'deny') {
      return this.failSecondFactor(alert.id, status.status || 'deny', `Duo push ${status.status || 'denied'}: ${status.message}`);
    }
    if (this.now().getTime() >= deadline) return this.failSecondFactor(alert.id, 'timeout', 'the Duo push was not answered in time');
    await this.schedulePoll(alert.id, deadline);
  }

  private async schedulePoll(alertId: string, deadline: number): Promise<void> {
    const next = Math.min(this.now().getTime() + this.options.timings.pushPollIntervalMs, deadline);
    await scheduleJob(this.options.db, alertId, 'poll', new Date(next));
  }

  private async notifySecurity(alert: AlertRow, signal: AbortSignal): Promise<void> {
    if (alert.status !== 'escalated' || alert.escalation_ts) return;
    const posted = await this.postOnce(alert, 'escalation', 'security', signal, () => this.options.chat.escalate(toAlertView(alert)));
    await this.transition(alert.id, 'system', () => ({
      changes: { escalation_channel: posted.channel, escalation_ts: posted.ts },
      action: 'security_notified',
      detail: { channel: posted.channel, ts: posted.ts },
    }));
  }

  private async updateDm(alert: AlertRow): Promise<void> {
    const question = questionOf(alert);
    if (question) await this.options.chat.showOutcome(toAlertView(alert), question);
    await this.ladder.showRemindersEnded(alert);
  }

  // ---- interactions (called by the chat receiver after it verified the request) -------------

  async onConfirm(click: ButtonClick): Promise<void> {
    const alert = await this.ownedAlert(click.alertId, click.chatUserId, click.question);
    if (!alert) return;
    if (!isAnswerable(alert)) {
      return this.tell(click, alreadyAnswered(alert));
    }
    // The trigger id expires about 3 s after the click: open the form before anything slow.
    await this.options.chat.openJustificationForm(click.triggerId, toAlertView(alert), questionOf(alert) ?? click.question ?? { channel: '', ts: '' });
    await this.options.db.transaction().execute((trx) =>
      appendAudit(trx, { alertId: alert.id, at: this.now(), actor: click.chatUserId, action: 'confirm_clicked', detail: {} }),
    );
  }

  async onDeny(click: ButtonClick): Promise<void> {
    const alert = await this.ownedAlert(click.alertId, click.chatUserId, click.question);
    if (!alert) return;
    let changed = false;
    await this.transition(alert.id, click.chatUserId, (row, trx) => {
      if (!isAnswerable(row)) return null;
      changed = true;
      return this.escalateIn(trx, row, 'denied_by_user', 'the owner said they did not run this command', { answered_at: this.now() });
    });
    if (!changed) await this.tell(click, alreadyAnswered(alert));
  }

  async onJustify(submission: JustificationSubmission): Promise<SubmissionResult> {
    const alert = await findAlert(this.options.db, submission.alertId);
    if (!alert || alert.chat_user_id !== submission.chatUserId) {
      await this.recordForeignAnswer(submission.alertId, submission.chatUserId, alert);
      return { ok: false, errors: { reason: 'Only the person this alert is about can answer it.' } };
    }
    const reason = submission.reason.trim();
    if (reason.length < MIN_REASON_LENGTH) {
      return { ok: false, errors: { reason: `Please say why in at least ${MIN_REASON_LENGTH} characters.` } };
    }
    if (reason.length > MAX_REASON_LENGTH) {
      return { ok: false, errors: { reason: `Please keep it under ${MAX_REASON_LENGTH} characters.` } };
    }
    let accepted = false;
    const now = this.now();
    await this.transition(alert.id, submission.chatUserId, async (row, trx) => {
      if (!isAnswerable(row)) return null;
      accepted = true;
      await cancelJobs(trx, row.id, ['remind', 'contact', 'deadline']);
      await scheduleJob(trx, row.id, 'push', now);
      await scheduleJob(trx, row.id, 'update_dm', now);
      await this.ladder.afterChange(trx, row, now);
      return { changes: { status: 'verifying', justification: reason, answered_at: now }, action: 'justified', detail: { reason } };
    });
    return accepted ? { ok: true } : { ok: false, errors: { reason: alreadyAnswered(alert) } };
  }

  async onCommand(command: ChatCommand): Promise<string> {
    const open = await listAlerts(this.options.db, { chatUserId: command.chatUserId, status: ['asked', 'verifying'], limit: 20 });
    if (open.length === 0) return 'Nothing is waiting for you. Vouch will message you if a command of yours needs an answer.';
    const lines = open.map((row) => `• ${row.rule_name} (${row.severity}), ${row.status === 'asked' ? 'waiting for your answer' : 'waiting for your Duo push'}`);
    return [`You have ${open.length} alert${open.length === 1 ? '' : 's'} open:`, ...lines].join('\n');
  }

  // ---- transitions --------------------------------------------------------------------------

  private verify(alertId: string, status: string): Promise<void> {
    const now = this.now();
    return this.transition(alertId, 'duo', async (row, trx) => {
      if (row.status !== 'verifying') return null;
      await cancelJobs(trx, row.id, CONVERSATION_JOBS);
      await scheduleJob(trx, row.id, 'update_dm', now);
      await this.ladder.afterChange(trx, row, now);
      return { changes: { status: 'verified', second_factor: status || 'allow', resolved_at: now }, action: 'verified', detail: { second_factor: status } };
    });
  }

  private failSecondFactor(alertId: string, result: string, detail: string): Promise<void> {
    return this.transition(alertId, 'duo', (row, trx) =>
      row.status === 'verifying' ? this.escalateIn(trx, row, 'second_factor_failed', detail, { second_factor: result }) : null,
    );
  }

  /** The escalation transition: ends the conversation and schedules the security-channel post. */
  private async escalateIn(
    trx: Transaction<Database>,
    row: AlertRow,
    reason: EscalationReason,
    detail: string,
    extra: AlertUpdate = {},
  ): Promise<TransitionResult> {
    const now = this.now();
    await cancelJobs(trx, row.id, CONVERSATION_JOBS);
    await scheduleJob(trx, row.id, 'notify_security', now);
    if (questionOf(row)) await scheduleJob(trx, row.id, 'update_dm', now);
    await this.ladder.afterEscalation(trx, row, now);
    return {
      changes: { ...extra, status: 'escalated', escalation_reason: reason, escalation_detail: detail, resolved_at: now },
      action: 'escalated',
      detail: { reason, detail, ...(extra.second_factor ? { second_factor: extra.second_factor } : {}) },
    };
  }

  /**
   * Locks the alert, lets `decide` look at its current row and return the change (or null for
   * none), then writes the change and its audit step in the same transaction.
   */
  private async transition(
    alertId: string,
    actor: string,
    decide: (row: AlertRow, trx: Transaction<Database>) => TransitionResult | null | Promise<TransitionResult | null>,
  ): Promise<void> {
    const step = await this.options.db.transaction().execute(async (trx) => {
      const row = await lockAlert(trx, alertId);
      if (!row) return null;
      const result = await decide(row, trx);
      if (!result) return null;
      const at = this.now();
      await updateAlert(trx, alertId, { ...result.changes, updated_at: at });
      await appendAudit(trx, { alertId, at, actor, action: result.action, detail: { from: row.status, ...result.detail } });
      // Other replicas learn of what this step scheduled when it commits.
      await notifyJobsDue(trx);
      return { from: row.status, result };
    });
    if (!step) return;
    // Logged after the commit, so a rolled-back or retried step is never reported as done.
    this.options.logger.info(`alert ${step.result.action}`, stepLogFields(alertId, actor, step.from, step.result));
    this.options.onScheduled?.();
  }

  private async ownedAlert(alertId: string, chatUserId: string, question: MessageRef | null): Promise<AlertRow | null> {
    const alert = await findAlert(this.options.db, alertId);
    if (alert && alert.chat_user_id === chatUserId) return alert;
    await this.recordForeignAnswer(alertId, chatUserId, alert);
    if (question) {
      await this.options.chat.tellUser(question.channel, chatUserId, 'Only the person this alert is about can answer it. Nothing was changed.');
    }
    return null;
  }

  private async recordForeignAnswer(alertId: string, chatUserId: string, alert: AlertRow | undefined): Promise<void> {
    this.options.logger.warn('answer from someone other than the owner ignored', { alert: alertId, chatUser: chatUserId });
    if (!alert) return;
    await this.options.db.transaction().execute((trx) =>
      appendAudit(trx, { alertId: alert.id, at: this.now(), actor: chatUserId, action: 'foreign_answer_ignored', detail: {} }),
    );
  }

  private async tell(click: ButtonClick, text: string): Promise<void> {
    if (click.question) await this.options.chat.tellUser(click.question.channel, click.chatUserId, text);
  }

  private now(): Date {
    return this.options.clock.now();
  }
}

/** Which intent column records an attempt to post for each purpose. */
const REQUESTED_COLUMN = {
  question: 'dm_requested_at',
  reminder: 'reminder_requested_at',
  escalation: 'escalation_requested_at',
  contact: 'contact_requested_at',
  announcement: 'announce_requested_at',
  outcome: 'outcome_requested_at',
} as const satisfies Record<PostPurpose, keyof AlertRow>;

/** What each job was for, in the words of an escalation's detail. */
const JOB_PURPOSE: Partial<Record<JobKind, string>> = {
  ask: 'send the question',
  remind: 'send the reminder',
  contact: 'tell the escalation contact',
  announce: 'post the heads-up in the security channel',
  page: 'page through PagerDuty',
  deadline: 'close the unanswered question',
  push: 'send the Duo push',
  poll: 'get the Duo push result',
};

interface TransitionResult {
  changes: AlertUpdate;
  action: string;
  detail: Record<string, unknown>;
}

/**
 * Whether the owner can still answer: asked, or `new` while the question is being posted (the
 * owner is recorded first, so a click can beat the row's own update).
 */
function isAnswerable(row: AlertRow): boolean {
  return row.status === 'asked' || (row.status === 'new' && row.chat_user_id !== null);
}

function questionOf(row: AlertRow): MessageRef | null {
  return row.dm_channel && row.dm_ts ? { channel: row.dm_channel, ts: row.dm_ts } : null;
}

function alreadyAnswered(alert: AlertRow): string {
  return alert.status === 'verifying'
    ? 'You already answered; check your phone for the Duo push.'
    : `This alert is already closed (${alert.status}).`;
}


/**
 * What an info-level step log says: ids, states and reason codes only. Never the justification,
 * the command or anything else a person typed, which is attacker-controlled and may hold secrets.
 */
function stepLogFields(alertId: string, actor: string, from: string, result: TransitionResult): Record<string, unknown> {
  const fields: Record<string, unknown> = { alert: alertId, actor, from, to: result.changes.status ?? from };
  if (result.changes.escalation_reason) fields.reason = result.changes.escalation_reason;
  if (result.changes.second_factor) fields.second_factor = result.changes.second_factor;
  return fields;
}
