import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { FINISHED_STATUSES, JUSTIFICATION_LENGTH, SEVERITIES, type AlertStatus, type AlertView, type EscalationReason } from '../alerts/alert.js';
import { alertShortCode } from '../alerts/short-code.js';
import type { IdentityResolver } from '../alerts/identity.js';
import type { ChatPort, MessageRef, PostPlace, PostPurpose } from '../chat/chat-port.js';
import type { ButtonClick, ChatCommand, InteractionHandlers, JustificationSubmission, SubmissionResult } from '../chat/interactions.js';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { conversationSummary, findAlert, listAlerts, lockAlert, toAlertView, updateAlert } from '../store/queries/alerts.js';
import { appendAudit, appendAuditEntries } from '../store/queries/audit-trail.js';
import { cancelJobs, notifyJobsDue, scheduleJob, type JobKind } from '../store/queries/jobs.js';
import { claimTxid, pauseSecondFactor } from '../store/queries/second-factor.js';
import { SQLSTATE, sqlState } from '../store/database-errors.js';
import type { AlertRow, AlertUpdate, Database, JobRow, SecondFactorPauseRow } from '../store/schema.js';
import type { SecondFactorPort } from '../verify/second-factor-port.js';
import type { JobContext } from './job-runner.js';
import type { DigestCadence } from '../digest/digest-period.js';
import { digestInstead } from '../digest/system-digest.js';
import { admitPush } from './push-gate.js';
import { humanDuration, plural, secondFactorSentence } from '../alerts/wording.js';
import type { PagerPort } from '../page/pagerduty.js';
import { EscalationLadder, announcementOf, type LadderSettings } from './escalation-ladder.js';

export interface WorkflowTimings extends LadderSettings {
  escalateAfterMs: number;
  pushTimeoutMs: number;
  pushPollIntervalMs: number;
  /** Pushes one Duo account may get within `pushRateWindowMs`; more wait for a free slot. */
  maxPushesPerPerson: number;
  pushRateWindowMs: number;
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
  /**
   * Where alerts with no login user go: listed in the security channel's digest of this cadence,
   * or, when null or absent, escalated one by one as `unknown_owner`.
   */
  systemDigest?: DigestCadence | null;
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
/**
 * How long past a push's deadline Duo is asked again for its final word when it cannot be
 * reached; then the alert escalates as a second-factor error (never as "not answered").
 */
export const FINAL_WORD_GRACE_MS = 5 * 60_000;
/** Jobs that end with the conversation. */
const CONVERSATION_JOBS: readonly JobKind[] = ['ask', 'remind', 'contact', 'deadline', 'push', 'poll'];
/** Jobs whose failure must not end the conversation: the alert's own path still runs (or ran). */
const SIDE_JOBS: readonly JobKind[] = ['notify_security', 'update_dm', 'notify_repeat', 'contact', 'announce', 'page'];
/**
 * How long an open justification form holds: a repeated confirm within it opens no second form.
 * Slack does not say when a person cancels a modal, so after this a confirm may open a fresh one
 * (whose id then replaces the old one's: only the newest form is accepted).
 */
export const JUSTIFY_FORM_HOLD_MS = 2 * 60_000;
/**
 * How long a reservation whose form was never recorded as opened holds. Slack's trigger id dies
 * about 3 s after the click, so a reservation still without a view id after this belongs to a
 * confirm whose replica died before opening the form (or before recording it): the next confirm
 * opens a fresh one instead of telling the person for two minutes that a form is open.
 */
export const UNOPENED_FORM_HOLD_MS = 10_000;
/** Duo's status for "Report fraud" on the push. */
const FRAUD_STATUS = 'fraud';

/**
 * The alert state machine. Every transition happens in one database transaction with the row
 * locked, its audit-trail step, and the jobs it schedules; chat and Duo calls happen in jobs, so a
 * failure is retried and a restart resumes where the database says the alert is.
 *
 *   new -> asked -> verifying -> verified
 *          asked -> escalated (denied_by_user | no_response)
 *      verifying -> escalated (second_factor_failed | fraud_reported | second_factor_paused)
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
        view: (alert) => this.view(alert),
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
      case 'notify_repeat':
        return this.notifyRepeat(alert, signal);
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
    const recordFailure = (trx: Transaction<Database>) =>
      appendAudit(trx, { alertId: job.alert_id, at: this.now(), actor: 'system', action: 'job_failed', detail: { job: kind, attempts: job.attempts, error: error.message } });
    if (SIDE_JOBS.includes(kind)) {
      await this.options.db.transaction().execute(recordFailure);
      return;
    }
    // The failure and the escalation commit together: a retry after a blip records neither twice.
    await this.transition(job.alert_id, 'system', async (row, trx) => {
      await recordFailure(trx);
      return FINISHED_STATUSES.includes(row.status as AlertStatus) ? null : this.escalateIn(trx, row, 'delivery_failed', detail.slice(0, 1000));
    });
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
    /** The intent was recorded by this very run (nothing can have been posted yet). */
    intentJustRecorded = false,
  ): Promise<MessageRef> {
    const column = REQUESTED_COLUMN[purpose];
    const requestedAt = alert[column];
    if (requestedAt && !intentJustRecorded) {
      const found = await this.options.chat.findPosted(alert, purpose, place, requestedAt);
      if (found) {
        this.options.logger.info('found the message an earlier attempt posted; not posting again', { alert: alert.id, purpose });
        return found;
      }
    }
    signal.throwIfAborted();
    if (!requestedAt) await updateAlert(this.options.db, alert.id, { [column]: this.now() });
    return post();
  }

  /**
   * At most one open question per person: the question of this conversation is posted only when
   * none of the person's other conversations is asked, being verified, or about to be asked.
   * Checked and recorded (the DM's intent) under a lock on the person's open conversations, so
   * two replicas cannot both decide to ask. `taken`: this run recorded the intent; `resumed`: an
   * earlier attempt did (it may have posted); `wait`: another question of theirs is open.
   */
  private async takeTurn(alert: AlertRow): Promise<'taken' | 'resumed' | 'wait'> {
    if (alert.dm_requested_at) return 'resumed';
    return this.options.db.transaction().execute(async (trx) => {
      const open = await trx
        .selectFrom('alerts')
        .select(['id', 'status', 'dm_requested_at'])
        .where('owner', '=', alert.owner)
        .whereRef('id', '=', 'conversation_id')
        .where('status', 'in', ['new', 'asked', 'verifying'])
        // The order intake locks them in (loadConversations), so the two never deadlock.
        .orderBy('created_at')
        .orderBy('id')
        .forUpdate()
        .execute();
      const mine = open.find((row) => row.id === alert.id);
      // Another run took the turn since this job read the alert (its lease ran out mid-run): this
      // one reconciles with what that run may have posted rather than posting too.
      if (mine?.dm_requested_at) return 'resumed';
      const busy = open.some((other) => other.id !== alert.id && (other.status !== 'new' || other.dm_requested_at !== null));
      if (busy || !mine || mine.status !== 'new') return 'wait';
      await updateAlert(trx, alert.id, { dm_requested_at: this.now() });
      return 'taken';
    });
  }

  /** The alert as messages show it: a conversation's lead lists what the conversation holds. */
  private async view(alert: AlertRow): Promise<AlertView> {
    const view = toAlertView(alert);
    if (alert.conversation_id !== alert.id) return view;
    const summary = await conversationSummary(this.options.db, alert.id);
    return summary.size > 1 ? { ...view, conversation: summary } : view;
  }

  private async ask(alert: AlertRow, signal: AbortSignal): Promise<void> {
    if (alert.status !== 'new') return;
    if (!alert.owner) {
      return this.transition(alert.id, 'system', (row, trx) => (row.status === 'new' ? this.systemActorIn(trx, row) : null));
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
    const turn = await this.takeTurn(alert);
    if (turn === 'wait') {
      // Another question of theirs is open: this one waits its turn (and gathers what arrives
      // meanwhile). The end of that conversation asks this one at once; this is the fallback.
      this.options.logger.info('question waits behind another open question of the same person', { alert: alert.id });
      await scheduleJob(this.options.db, alert.id, 'ask', new Date(this.now().getTime() + PACE_RECHECK_MS));
      // A critical command does not wait to be known: the channel's heads-up goes out now.
      if (alert.severity === 'critical' && !alert.announce_ts && !alert.announce_requested_at) await scheduleJob(this.options.db, alert.id, 'announce', this.now());
      return;
    }
    const fresh = (await findAlert(this.options.db, alert.id)) ?? alert;
    const shown = await this.view(fresh);
    const question = await this.postOnce(fresh, 'question', { chatUserId }, signal, () => this.options.chat.askOwner(shown, chatUserId), turn === 'taken');
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
      // would have expired, so the person never sees two live pushes for one question. The first
      // reached Duo some time after it was recorded, at most startPushWithinMs later.
      const reachedBy = alert.push_requested_at.getTime() + (this.options.secondFactor.startPushWithinMs ?? 0);
      const expiresAt = new Date(reachedBy + this.options.timings.pushTimeoutMs);
      if (this.now() < expiresAt) {
        await this.options.db.transaction().execute(async (trx) => {
          await appendAudit(trx, { alertId: alert.id, at: this.now(), actor: 'system', action: 'push_outcome_unknown', detail: { retry_at: expiresAt.toISOString() } });
          await scheduleJob(trx, alert.id, 'push', expiresAt);
        });
        return;
      }
    }
    const duoUser = username(alert);
    if (!(await this.admitPush(alert, duoUser))) return;
    signal.throwIfAborted();
    const requested = await this.options.db
      .updateTable('alerts')
      .set({ push_requested_at: this.now() })
      .where('id', '=', alert.id)
      .where('status', '=', 'verifying')
      .where('push_txid', 'is', null)
      .executeTakeFirst();
    if (requested.numUpdatedRows === 0n) return;
    const view = await this.view(alert);
    const covers: Record<string, string> = view.conversation ? { covers: coverage(view.conversation) } : {};
    let outcome: Awaited<ReturnType<SecondFactorPort['startPush']>>;
    try {
      outcome = await this.options.secondFactor.startPush({
        username: duoUser,
        title: view.conversation ? 'Vouch: confirm your commands' : 'Vouch: confirm a command',
        // The code first: it is what the person matches against the DM, and it survives any cut.
        details: { code: alertShortCode(view.id), host: view.host, command: view.command, ...covers, rule: view.ruleName, alert: view.id },
      });
    } catch (error) {
      return this.failSecondFactor(alert.id, 'error', `Duo unreachable: ${coerceError(error).message}`);
    }
    if (outcome.kind === 'refused') {
      return this.failSecondFactor(alert.id, outcome.reason, `Duo sent no push: ${secondFactorSentence(outcome.reason)} (${outcome.message})`);
    }
    await this.bindPush(alert.id, outcome.transactionId);
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
      if (this.now().getTime() < deadline + FINAL_WORD_GRACE_MS) return this.awaitFinalWord(alert.id, 'Duo push status unavailable after the deadline', { error: message });
      return this.failSecondFactor(alert.id, 'error', `Duo unreachable: ${message}`);
    }
    if (status.result === 'allow') return this.verify(alert.id, status.status);
    if (status.result === 'deny' && status.status === FRAUD_STATUS) return this.reportFraud(alert.id, username(alert));
    if (status.result === 'deny') {
      return this.failSecondFactor(alert.id, status.status || 'deny', `Duo push ${status.status || 'denied'}: ${status.message}`);
    }
    if (this.now().getTime() >= deadline) {
      // Duo said nothing at all (a push past its deadline has long expired there, and Duo says so
      // at once): a stalled Duo, asked again like one that errs.
      if (status.noAnswer && this.now().getTime() < deadline + FINAL_WORD_GRACE_MS) return this.awaitFinalWord(alert.id, 'Duo gave no answer after the deadline');
      return this.failSecondFactor(alert.id, 'timeout', 'the Duo push was not answered in time');
    }
    await this.schedulePoll(alert.id, deadline);
  }

  /**
   * Past a push's deadline Duo's last word is still owed (the person may have approved in time):
   * a Duo that errs or stalls then is asked again shortly, for up to FINAL_WORD_GRACE_MS; only one
   * that stays away escalates.
   */
  private async awaitFinalWord(alertId: string, why: string, fields: Record<string, unknown> = {}): Promise<void> {
    this.options.logger.warn(`${why}; asking again for its final word`, { alert: alertId, ...fields });
    await scheduleJob(this.options.db, alertId, 'poll', new Date(this.now().getTime() + Math.max(1000, this.options.timings.pushPollIntervalMs)));
  }

  private async schedulePoll(alertId: string, deadline: number): Promise<void> {
    const next = Math.min(this.now().getTime() + this.options.timings.pushPollIntervalMs, deadline);
    await scheduleJob(this.options.db, alertId, 'poll', new Date(next));
  }

  /**
   * The escalation reaches the security channel once. A critical alert's heads-up becomes the
   * escalation (rewritten in place); while that heads-up is still being posted this waits a
   * little, and never for long: the escalation is posted on its own when the heads-up is late.
   */
  private async notifySecurity(alert: AlertRow, signal: AbortSignal): Promise<void> {
    if (alert.status !== 'escalated' || alert.escalation_ts) return;
    if (this.headsUpInFlight(alert)) {
      this.options.logger.info('the heads-up is being posted; the escalation waits to become it', { alert: alert.id });
      await scheduleJob(this.options.db, alert.id, 'notify_security', new Date(this.now().getTime() + HEADS_UP_RECHECK_MS));
      return;
    }
    const heads = announcementOf(alert);
    const posted = await this.deliverEscalation(alert, heads, signal);
    const inPlace = posted.ts === heads?.ts;
    const now = this.now();
    await this.transition(alert.id, 'system', async (row, trx) => {
      // Asked again while this post was on its way: it was the round before's, not this one's.
      if (row.escalation_ts || row.round !== alert.round || row.status !== 'escalated') return null;
      // The announce job draws the message as the escalation from now on, which also undoes a
      // heads-up rewrite of an older announce run that raced this one.
      if (inPlace) await scheduleJob(trx, row.id, 'announce', now);
      return {
        changes: { escalation_channel: posted.channel, escalation_ts: posted.ts },
        action: 'security_notified',
        detail: { channel: posted.channel, ts: posted.ts, ...(inPlace ? { in_place_of: 'heads_up' } : {}) },
      };
    });
  }

  /** Rewrites the heads-up as the escalation when there is one (and Slack lets it), else posts it. */
  private async deliverEscalation(alert: AlertRow, heads: MessageRef | null, signal: AbortSignal): Promise<MessageRef> {
    const shown = await this.view(alert);
    const post = () => this.postOnce(alert, 'escalation', 'security', signal, () => this.options.chat.escalate(shown));
    if (!heads) return post();
    if (alert.escalation_requested_at) {
      // An earlier attempt posted it on its own (the heads-up came late): that post is the one.
      const earlier = await this.options.chat.findPosted(alert, 'escalation', 'security', alert.escalation_requested_at);
      if (earlier) return earlier;
    }
    signal.throwIfAborted();
    // Rewriting the heads-up again after a crash is harmless, so it needs no intent of its own.
    return (await this.options.chat.escalateInPlace(shown, heads)) ? heads : post();
  }

  /** A critical alert's heads-up was started and is not recorded yet, recently enough to wait for. */
  private headsUpInFlight(alert: AlertRow): boolean {
    const started = alert.announce_requested_at;
    // Once the escalation was started on its own, it is finished that way (postOnce finds it).
    if (alert.severity !== 'critical' || !started || alert.announce_ts || alert.escalation_requested_at) return false;
    return this.now().getTime() - started.getTime() < HEADS_UP_WAIT_MS;
  }

  private async updateDm(alert: AlertRow): Promise<void> {
    const question = questionOf(alert);
    if (question) await this.options.chat.showOutcome(await this.view(alert), question);
    await this.ladder.showRemindersEnded(alert);
  }

  /**
   * Repeats of an escalated conversation: no new question, one reply in the escalation's thread
   * listing what was seen again since the last reply. Once: a run after one that posted the
   * reply but could not record it (a crash, the database gone) finds that reply in the thread by
   * its metadata and records what it listed instead of posting again.
   */
  private async notifyRepeat(lead: AlertRow, signal: AbortSignal): Promise<void> {
    if (lead.status !== 'escalated' || lead.conversation_id !== lead.id) return;
    if (!lead.escalation_channel || !lead.escalation_ts) {
      // The escalation itself is not posted yet; its thread comes after it.
      await scheduleJob(this.options.db, lead.id, 'notify_repeat', new Date(this.now().getTime() + 30_000));
      return;
    }
    const repeats = await this.options.db
      .selectFrom('alerts')
      .select(['host', 'command', 'occurred_at', 'occurrences'])
      .where('conversation_id', '=', lead.id)
      .where('id', '!=', lead.id)
      .where('created_at', '>=', lead.resolved_at ?? lead.created_at)
      .orderBy('created_at')
      .orderBy('id')
      .offset(lead.repeats_posted)
      .limit(REPEATS_PER_REPLY)
      .execute();
    if (repeats.length === 0) return;
    // The first repeat is noted at once, and a full reply's worth whenever it has gathered; a
    // trickle (a cron job running it every few minutes) waits to be noted together.
    const quietUntil = lead.repeats_noted_at ? lead.repeats_noted_at.getTime() + REPEAT_REPLY_INTERVAL_MS : 0;
    if (repeats.length < REPEATS_PER_REPLY && this.now().getTime() < quietUntil) {
      await scheduleJob(this.options.db, lead.id, 'notify_repeat', new Date(quietUntil));
      return;
    }
    // Only a run about to post looks in the thread for a reply an earlier one posted.
    const escalation = { channel: lead.escalation_channel, ts: lead.escalation_ts };
    const noted = await this.options.chat.findRepeatsNoted(lead, escalation, lead.repeats_posted);
    if (noted !== null) {
      this.options.logger.info('found the repeats reply an earlier attempt posted; not posting again', { alert: lead.id, from: lead.repeats_posted });
      await this.recordRepeatsNoted(lead.id, lead.repeats_posted, noted);
      await scheduleJob(this.options.db, lead.id, 'notify_repeat', this.now());
      return;
    }
    // A run whose lease another took over stops before posting: that one posts, or finds the post.
    signal.throwIfAborted();
    await this.options.chat.noteRepeats(
      toAlertView(lead),
      escalation,
      repeats.map((row) => ({ host: row.host, command: row.command, occurredAt: row.occurred_at })),
      lead.repeats_posted,
    );
    await this.recordRepeatsNoted(lead.id, lead.repeats_posted, repeats.length);
    if (repeats.length === REPEATS_PER_REPLY) await scheduleJob(this.options.db, lead.id, 'notify_repeat', this.now());
  }

  /**
   * Records that the reply listing repeats from number `from` on listed `count` of them. Only
   * while the record still stands at `from`: a run that overlapped this one (its lease ran out)
   * and recorded the same reply first is not counted twice.
   */
  private async recordRepeatsNoted(leadId: string, from: number, count: number): Promise<void> {
    await this.options.db
      .updateTable('alerts')
      .set({ repeats_posted: from + count, repeats_noted_at: this.now() })
      .where('id', '=', leadId)
      .where('repeats_posted', '=', from)
      .execute();
  }

  // ---- interactions (called by the chat receiver after it verified the request) -------------

  /**
   * Opens the justification form, once: while a form opened for this alert is held (see
   * JUSTIFY_FORM_HOLD_MS), a repeated or replayed confirm opens none and tells the person the
   * form is already open. The form's view id is kept; only its submission is accepted. A confirm
   * never changes the alert's status.
   */
  onConfirm(click: ButtonClick): Promise<void> {
    return this.answering(click, () => this.confirm(click));
  }

  /** A "No, not me" click: the alert escalates as denied_by_user. */
  onDeny(click: ButtonClick): Promise<void> {
    return this.answering(click, () => this.deny(click));
  }

  /**
   * Runs a button's handling; when it fails (the database unreachable, Slack refusing the form),
   * the click was already acknowledged to Slack, so the person is told that nothing was recorded
   * and to click again, rather than left believing their answer (a denial above all) was taken.
   */
  private async answering(click: ButtonClick, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      await this.tell(click, ANSWER_NOT_RECORDED).catch(() => undefined);
      throw error;
    }
  }

  private async confirm(click: ButtonClick): Promise<void> {
    const alert = await this.ownedAlert(click.alertId, click.chatUserId, click.question);
    if (!alert) return;
    if (!isAnswerable(alert)) {
      return this.tell(click, alreadyAnswered(alert));
    }
    const reservation = await this.reserveForm(alert.id, click.chatUserId, click.question);
    if (!reservation) {
      await this.audit(alert.id, click.chatUserId, 'confirm_repeated', {});
      return this.tell(click, 'Your answer form for this alert is already open. Nothing was changed.');
    }
    let form: { viewId: string };
    try {
      // The trigger id expires about 3 s after the click: the reservation above is one quick write.
      const question = questionOf(alert) ?? click.question ?? { channel: '', ts: '' };
      // The form lists what the answer covers: the whole conversation as it stands now.
      form = await this.options.chat.openJustificationForm(click.triggerId, await this.view(alert), question, reservation.formKey);
    } catch (error) {
      // No form is open, so the next click may try again.
      await this.releaseForm(alert.id, reservation);
      throw error;
    }
    await this.transition(alert.id, click.chatUserId, (row) =>
      row.justify_form_key === reservation.formKey
        ? { changes: { justify_view_id: form.viewId }, action: 'confirm_clicked', detail: { view: form.viewId } }
        : null,
    );
  }

  private async deny(click: ButtonClick): Promise<void> {
    const alert = await this.ownedAlert(click.alertId, click.chatUserId, click.question);
    if (!alert) return;
    let changed = false;
    await this.transition(alert.id, click.chatUserId, (row, trx) => {
      if (!isAnswerable(row) || !isCurrentQuestion(row, click.question)) return null;
      changed = true;
      return this.escalateIn(trx, row, 'denied_by_user', 'the owner said they did not run this command', { answered_at: this.now() });
    });
    if (!changed) await this.tell(click, alreadyAnswered(alert));
  }

  async onJustify(submission: JustificationSubmission): Promise<SubmissionResult> {
    const alert = await findAlert(this.options.db, submission.alertId);
    if (!alert || alert.chat_user_id !== submission.chatUserId || alert.conversation_id !== alert.id) {
      await this.recordForeignAnswer(submission.alertId, submission.chatUserId, alert);
      return { ok: false, errors: { reason: 'Only the person this alert is about can answer it.' } };
    }
    if (!isBoundForm(alert, submission)) {
      await this.audit(alert.id, submission.chatUserId, 'unbound_answer_ignored', { view: submission.viewId });
      return { ok: false, errors: { reason: FORM_OUT_OF_DATE } };
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
    let stale = false;
    await this.transition(alert.id, submission.chatUserId, async (row, trx) => {
      if (!isAnswerable(row)) return null;
      // Checked again under the lock: a newer form may have replaced this one meanwhile.
      if (!isBoundForm(row, submission)) {
        stale = true;
        return null;
      }
      accepted = true;
      await cancelJobs(trx, row.id, ['remind', 'contact', 'deadline']);
      await scheduleJob(trx, row.id, 'push', now);
      await scheduleJob(trx, row.id, 'update_dm', now);
      await this.ladder.afterChange(trx, row, now);
      return { changes: { status: 'verifying', justification: reason, answered_at: now }, action: 'justified', detail: { reason } };
    });
    if (stale) return { ok: false, errors: { reason: FORM_OUT_OF_DATE } };
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
      await this.settleLateMembers(trx, row, now);
      await cancelJobs(trx, row.id, CONVERSATION_JOBS);
      await scheduleJob(trx, row.id, 'update_dm', now);
      await this.ladder.afterChange(trx, row, now);
      return { changes: { status: 'verified', second_factor: status || 'allow', resolved_at: now }, action: 'verified', detail: { second_factor: status } };
    });
  }

  /**
   * Hits that joined after the person opened the answer form were never shown to them: the answer
   * covers them only as a verification covers a new hit (the same login session, or the same
   * command line on another host, and not a critical rule), and the others leave together for a
   * conversation of their own, asked next. Runs in the verification's transaction, before the
   * members follow the lead.
   */
  private async settleLateMembers(trx: Transaction<Database>, lead: AlertRow, now: Date): Promise<void> {
    const opened = lead.justify_opened_at;
    if (!opened) return;
    const members = await trx
      .selectFrom('alerts')
      .select(['id', 'session_key', 'rule_id', 'command', 'severity', 'created_at'])
      .where('conversation_id', '=', lead.id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const shown = members.filter((m) => m.id === lead.id || m.created_at <= opened);
    const sessions = new Set(shown.map((m) => m.session_key));
    const commands = new Set(shown.map((m) => `${m.rule_id}\u0000${m.command}`));
    const covered = (m: (typeof members)[number]) =>
      m.severity !== 'critical' && ((m.session_key !== null && sessions.has(m.session_key)) || commands.has(`${m.rule_id}\u0000${m.command}`));
    const separate = members.filter((m) => m.id !== lead.id && m.created_at > opened && !covered(m));
    const first = separate[0];
    if (!first) return;
    const severity = separate.reduce((most, m) => (SEVERITIES.indexOf(m.severity) > SEVERITIES.indexOf(most) ? m.severity : most), first.severity);
    const ids = separate.map((m) => m.id);
    await trx
      .updateTable('alerts')
      .set({ conversation_id: first.id, status: 'new', asked_at: null, answered_at: null, justification: null, updated_at: now })
      .where('id', 'in', ids)
      .execute();
    await updateAlert(trx, first.id, { severity, last_joined_at: now });
    const detail = { conversation: lead.id, new_conversation: first.id, reason: 'joined after the answer form was opened' };
    await appendAuditEntries(trx, ids.map((alertId) => ({ alertId, at: now, actor: 'system', action: 'left_conversation', detail })));
    await scheduleJob(trx, first.id, 'ask', now);
  }

  /**
   * Passes the push through the per-person gate (see push-gate.ts). Returns true when it may be
   * sent now; otherwise the alert escalated (pushes paused) or the push was rescheduled for when
   * the rate limit has room, and nothing is sent.
   */
  private async admitPush(alert: AlertRow, duoUser: string): Promise<boolean> {
    const { maxPushesPerPerson: maxPushes, pushRateWindowMs: windowMs } = this.options.timings;
    const admission = await admitPush(this.options.db, { username: duoUser, alertId: alert.id, now: this.now(), limit: { maxPushes, windowMs } });
    if (admission.kind === 'send') return true;
    if (admission.kind === 'paused') {
      await this.escalatePaused(alert.id, admission.pause);
      return false;
    }
    this.options.logger.info('push waits for the per-person rate limit', { alert: alert.id, until: admission.until.toISOString(), sent: admission.sentInWindow });
    await scheduleJob(this.options.db, alert.id, 'push', admission.until);
    return false;
  }

  /**
   * Records the txid Duo's `/auth` answered with, or escalates when that txid was ever bound
   * before (to another alert, or to an earlier round of this one, which "Ask again" started
   * afresh): an answer to a different question never verifies this one. push_txids settles a race
   * between two replicas the same way, and the unique index on push_txid stays as a second guard.
   */
  private async bindPush(alertId: string, txid: string): Promise<void> {
    const now = this.now();
    try {
      await this.transition(alertId, 'duo', async (row, trx) => {
        if (row.status !== 'verifying') return null;
        const earlier = await claimTxid(trx, txid, row, now);
        if (earlier) return this.escalateIn(trx, row, 'second_factor_failed', txidReusedDetail(txid, earlier, row), { second_factor: TXID_REUSED });
        await scheduleJob(trx, row.id, 'poll', now);
        return { changes: { push_txid: txid, push_started_at: now }, action: 'push_sent', detail: { txid } };
      });
    } catch (error) {
      if (sqlState(error) !== SQLSTATE.uniqueViolation) throw error;
      await this.failSecondFactor(alertId, TXID_REUSED, txidReusedDetail(txid, null, null));
    }
  }

  /** "Report fraud" on the push: escalates loudly and pauses pushes to that account. */
  private reportFraud(alertId: string, duoUser: string): Promise<void> {
    return this.transition(alertId, 'duo', async (row, trx) => {
      if (row.status !== 'verifying') return null;
      const at = this.now();
      await pauseSecondFactor(trx, { username: duoUser, login: row.owner, alertId: row.id, reason: 'fraud_reported', at });
      const detail = `the owner answered the Duo push with "Report fraud"; pushes to ${duoUser} are paused until a reviewer resumes them`;
      return this.escalateIn(trx, row, 'fraud_reported', detail, { second_factor: FRAUD_STATUS });
    });
  }

  private escalatePaused(alertId: string, pause: SecondFactorPauseRow): Promise<void> {
    const detail =
      `no push sent: pushes to ${pause.username} are paused since ${pause.paused_at.toISOString()} after a fraud report on alert ${pause.alert_id}; ` +
      `a reviewer resumes them with POST /api/people/${pause.username}/second-factor/resume`;
    return this.transition(alertId, 'system', (row, trx) =>
      row.status === 'verifying' ? this.escalateIn(trx, row, 'second_factor_paused', detail, { second_factor: 'paused' }) : null,
    );
  }

  /**
   * Reserves the alert's justification form for `chatUserId`, unless a form is already held, and
   * mints the key the form will carry. Returns null when a form is open. The form it replaces is
   * kept in the reservation: if the new one cannot be opened (a replayed click whose trigger id
   * is dead), releaseForm binds the old one again, so a replay never cancels a form in use.
   */
  private reserveForm(alertId: string, chatUserId: string, question: MessageRef | null): Promise<FormReservation | null> {
    const now = this.now();
    const formKey = randomBytes(16).toString('base64url');
    return this.options.db.transaction().execute(async (trx) => {
      const row = await lockAlert(trx, alertId);
      // Asked again since the click was read: the click belongs to the round before.
      if (!row || isFormHeld(row, now) || !isCurrentQuestion(row, question)) return null;
      const previous = { justify_view_id: row.justify_view_id, justify_view_user: row.justify_view_user, justify_opened_at: row.justify_opened_at, justify_form_key: row.justify_form_key };
      await updateAlert(trx, alertId, { justify_view_id: null, justify_view_user: chatUserId, justify_opened_at: now, justify_form_key: formKey });
      return { formKey, previous };
    });
  }

  /** A reserved form that did not open: the form before it (if any) is the bound one again. */
  private async releaseForm(alertId: string, reservation: FormReservation): Promise<void> {
    await this.options.db
      .updateTable('alerts')
      .set(reservation.previous)
      .where('id', '=', alertId)
      .where('justify_form_key', '=', reservation.formKey)
      .execute();
  }

  private async audit(alertId: string, actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.options.db.transaction().execute((trx) => appendAudit(trx, { alertId, at: this.now(), actor, action, detail }));
  }

  private failSecondFactor(alertId: string, result: string, detail: string): Promise<void> {
    return this.transition(alertId, 'duo', (row, trx) =>
      row.status === 'verifying' ? this.escalateIn(trx, row, 'second_factor_failed', detail, { second_factor: result }) : null,
    );
  }

  /**
   * An alert with no login user: listed in the digest, or escalated on its own. A critical one is
   * always posted at once: a web shell's reverse shell runs with no login user too, and must not
   * wait for tomorrow's digest.
   */
  private async systemActorIn(trx: Transaction<Database>, row: AlertRow): Promise<TransitionResult> {
    const cadence = this.options.systemDigest;
    if (!cadence || row.severity === 'critical') {
      return this.escalateIn(trx, row, 'unknown_owner', 'the command ran with no login user (a system process)');
    }
    await cancelJobs(trx, row.id, CONVERSATION_JOBS);
    return digestInstead(trx, { alertId: row.id, now: this.now(), cadence });
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
      if (result.changes.status && result.changes.status !== row.status) await this.followLead(trx, row, result, actor, at);
      // Other replicas learn of what this step scheduled when it commits.
      await notifyJobsDue(trx);
      return { from: row.status, result };
    });
    if (!step) return;
    // Logged after the commit, so a rolled-back or retried step is never reported as done.
    this.options.logger.info(`alert ${step.result.action}`, stepLogFields(alertId, actor, step.from, step.result));
    this.options.onScheduled?.();
  }

  /**
   * A conversation's members follow its lead: those still in the lead's old status take the new
   * one with the answer, second factor and escalation, each with its own audit step. When the
   * conversation ends, the person's next waiting question is asked at once.
   */
  private async followLead(trx: Transaction<Database>, lead: AlertRow, result: TransitionResult, actor: string, at: Date): Promise<void> {
    const changes = result.changes;
    const shared: AlertUpdate = { status: changes.status, updated_at: at };
    for (const key of MEMBER_FIELDS) if (changes[key] !== undefined) Object.assign(shared, { [key]: changes[key] });
    const moved = await trx
      .updateTable('alerts')
      .set(shared)
      .where('conversation_id', '=', lead.id)
      .where('id', '!=', lead.id)
      .where('status', '=', lead.status)
      .returning('id')
      .execute();
    if (moved.length > 0) {
      await appendAuditEntries(
        trx,
        moved.map((member) => ({ alertId: member.id, at, actor, action: result.action, detail: { from: lead.status, conversation: lead.id } })),
      );
    }
    if (lead.owner && changes.status && FINISHED_STATUSES.includes(changes.status)) {
      const next = await trx
        .selectFrom('alerts')
        .select('id')
        .where('owner', '=', lead.owner)
        .whereRef('id', '=', 'conversation_id')
        .where('id', '!=', lead.id)
        .where('status', '=', 'new')
        .orderBy('created_at')
        .limit(1)
        .executeTakeFirst();
      if (next) await scheduleJob(trx, next.id, 'ask', at);
    }
  }

  private async ownedAlert(alertId: string, chatUserId: string, question: MessageRef | null): Promise<AlertRow | null> {
    const alert = await findAlert(this.options.db, alertId);
    // Buttons carry a conversation's lead; a member's id in one was not put there by Vouch.
    if (alert && alert.chat_user_id === chatUserId && alert.conversation_id === alert.id) {
      if (isCurrentQuestion(alert, question)) return alert;
      // A button on an earlier round's question (before "Ask again"): it answered that round.
      await this.audit(alert.id, chatUserId, 'stale_answer_ignored', { question: question ?? null });
      if (question) await this.options.chat.tellUser(question.channel, chatUserId, STALE_QUESTION);
      return null;
    }
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

/** `3 commands on 2 hosts`: what one push answers for, in a conversation of several commands. */
function coverage(conversation: { size: number; hostCount: number }): string {
  return `${plural(conversation.size, 'command')} on ${plural(conversation.hostCount, 'host')}`;
}

/** What a person is told when their click could not be recorded. */
export const ANSWER_NOT_RECORDED = 'Vouch could not record your answer just now, so nothing was changed. Please click the button again in a minute.';

/** How often a question waiting behind another one checks again (its turn normally wakes it). */
const PACE_RECHECK_MS = 60_000;
/**
 * How long an escalation waits for a heads-up still being posted, to become it. Longer means the
 * announce job is failing: the escalation is then posted on its own.
 */
const HEADS_UP_WAIT_MS = 2 * 60_000;
/** How often an escalation waiting for its heads-up looks again. */
const HEADS_UP_RECHECK_MS = 5000;
/** Repeats listed per thread reply about an escalated conversation. */
const REPEATS_PER_REPLY = 10;
/** After a reply about repeats, fewer than a reply's worth wait this long to be noted together. */
export const REPEAT_REPLY_INTERVAL_MS = 60 * 60_000;
/** What a conversation's members take from their lead when it moves on. */
const MEMBER_FIELDS = ['escalation_reason', 'escalation_detail', 'second_factor', 'justification', 'answered_at', 'resolved_at', 'asked_at', 'chat_user_id'] as const;

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

const FORM_OUT_OF_DATE = 'This form is out of date. Please click "Yes, it was me" on the question again.';
/** second_factor of an alert whose push came back with another alert's txid. */
const TXID_REUSED = 'txid_reused';

/** A justification form being opened, and the binding of the form it replaces. */
interface FormReservation {
  formKey: string;
  previous: Pick<AlertRow, 'justify_view_id' | 'justify_view_user' | 'justify_opened_at' | 'justify_form_key'>;
}

/**
 * A form is held while it was opened within JUSTIFY_FORM_HOLD_MS, or is being opened (reserved,
 * its view id not yet recorded) within UNOPENED_FORM_HOLD_MS.
 */
function isFormHeld(row: AlertRow, now: Date): boolean {
  if (row.justify_opened_at === null) return false;
  const age = now.getTime() - row.justify_opened_at.getTime();
  return age < (row.justify_view_id === null ? UNOPENED_FORM_HOLD_MS : JUSTIFY_FORM_HOLD_MS);
}

/**
 * Whether a submission comes from the form Vouch opened for this alert, by the person it was
 * opened for: it carries that opening's key, and its view id is the one views.open returned
 * (unless the submission beat the write of that id, in the instant after the form opened).
 */
function isBoundForm(row: AlertRow, submission: JustificationSubmission): boolean {
  return (
    row.justify_form_key !== null &&
    submission.formKey === row.justify_form_key &&
    row.justify_view_user === submission.chatUserId &&
    (row.justify_view_id === null || submission.viewId === row.justify_view_id)
  );
}

function txidReusedDetail(txid: string, earlier: { alertId: string; round: number } | null, alert: { id: string } | null): string {
  const owner = earlier === null ? 'another alert' : earlier.alertId === alert?.id ? 'an earlier round of this alert' : `alert ${earlier.alertId}`;
  return `Duo answered the push with transaction ${txid}, which belongs to ${owner}: an answer to another question, not trusted`;
}

/** The Duo account an alert's pushes go to. */
function username(alert: AlertRow): string {
  return alert.second_factor_user ?? alert.owner ?? '';
}

/** Told to a person who clicked a button of a question that was asked again since. */
const STALE_QUESTION = 'This question was asked again since: please answer the newest message about it. Nothing was changed.';

/** How far Slack's message times may run behind this clock, when a question's time is compared with ours. */
const SLACK_CLOCK_SLACK_MS = 60_000;

/**
 * Whether a click came from the alert's current question. Its DM is known once posted; while it
 * is being posted (the instant after the post, before it is recorded), a message no older than
 * the post's recorded intent is taken to be it: an earlier round's question is older still. A
 * click with no message (never one of Vouch's buttons) is judged by the owner check alone.
 */
function isCurrentQuestion(row: AlertRow, question: MessageRef | null): boolean {
  if (question === null) return true;
  if (row.dm_channel && row.dm_ts) return question.channel === row.dm_channel && question.ts === row.dm_ts;
  if (!row.dm_requested_at) return false;
  const postedMs = Number(question.ts) * 1000;
  return Number.isFinite(postedMs) && postedMs >= row.dm_requested_at.getTime() - SLACK_CLOCK_SLACK_MS;
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
