import type { Kysely, Transaction } from 'kysely';
import { FINISHED_STATUSES, type AlertStatus, type AlertView } from '../alerts/alert.js';
import type { IdentityResolver } from '../alerts/identity.js';
import { escalationReasonText, humanDuration } from '../alerts/wording.js';
import type { ChatPort, ContactTarget, MessageRef, PostPlace, PostPurpose } from '../chat/chat-port.js';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { EscalationContact } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { PagerPort } from '../page/pagerduty.js';
import { toAlertView } from '../store/queries/alerts.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { scheduleJob } from '../store/queries/jobs.js';
import type { AlertRow, AlertUpdate, Database } from '../store/schema.js';
import { isKnownTimeZone, nextWorkingStart, type WorkingHours } from './working-hours.js';

/** The ladder's settings (`workflow:` in the configuration). */
export interface LadderSettings {
  escalateAfterMs: number;
  /** Reminders, measured from the question. */
  reminderDelaysMs: readonly number[];
  escalationContact: EscalationContact | null;
  contactAfterMs: number;
  workingHours: WorkingHours | null;
}

export interface LadderStep {
  changes: AlertUpdate;
  action: string;
  detail: Record<string, unknown>;
}

/** What the ladder borrows from the workflow: its exactly-once post, its locked transition, its view. */
export interface WorkflowSteps {
  postOnce(alert: AlertRow, purpose: PostPurpose, place: PostPlace, signal: AbortSignal, post: () => Promise<MessageRef>): Promise<MessageRef>;
  transition(alertId: string, actor: string, decide: (row: AlertRow, trx: Transaction<Database>) => LadderStep | null | Promise<LadderStep | null>): Promise<void>;
  /** The alert as messages show it (a conversation's lead lists what it holds), as its escalation does. */
  view(alert: AlertRow): Promise<AlertView>;
}

export interface EscalationLadderOptions {
  db: Kysely<Database>;
  chat: ChatPort;
  identity: IdentityResolver;
  clock: Clock;
  logger: Logger;
  settings: LadderSettings;
  /** Pages critical escalations; null when PagerDuty is not configured. */
  pager: PagerPort | null;
  steps: WorkflowSteps;
}

/** Severities whose questions wait for working hours; high and critical run on the clock. */
const WAITS_FOR_WORKING_HOURS: ReadonlySet<string> = new Set(['low', 'medium']);

/**
 * The escalation ladder and everything around a question's timing: working hours (an out-of-hours
 * low or medium question waits for the person's morning), the reminders, the escalation contact
 * (the manager's DM or the on-call group mentioned in the channel) before the channel, a critical
 * alert's heads-up in the security channel with the outcome in its thread, and paging critical
 * escalations. Each step is a job, posted at most once through the workflow's postOnce.
 */
export class EscalationLadder {
  constructor(private readonly options: EscalationLadderOptions) {}

  /**
   * Whether a question about to be asked waits for working hours. When it does, the `ask` job is
   * moved to the next start of the person's working day and the trail records `deferred`.
   * Returns the person's time zone too (null when unknown), for the ladder's own schedule.
   */
  async deferral(alert: AlertRow, chatUserId: string): Promise<{ deferred: boolean; timeZone: string | null }> {
    const hours = this.options.settings.workingHours;
    if (!hours || !alert.owner || !WAITS_FOR_WORKING_HOURS.has(alert.severity)) return { deferred: false, timeZone: null };
    // An earlier attempt may already have posted the question: finish it rather than wait.
    if (alert.dm_requested_at) return { deferred: false, timeZone: await this.timeZoneOf(alert.owner, chatUserId) };
    const timeZone = await this.timeZoneOf(alert.owner, chatUserId);
    const now = this.now();
    // The morning it waited for has come: ask, even if a clock skew puts "now" a moment early.
    if (!timeZone || (alert.deferred_until && now >= alert.deferred_until)) return { deferred: false, timeZone };
    const start = nextWorkingStart(now, hours, timeZone);
    if (start.getTime() <= now.getTime()) return { deferred: false, timeZone };
    let deferred = false;
    await this.options.steps.transition(alert.id, 'system', async (row, trx) => {
      if (row.status !== 'new') return null;
      deferred = true;
      await scheduleJob(trx, row.id, 'ask', start);
      return {
        changes: { deferred_until: start },
        action: 'deferred',
        detail: { until: start.toISOString(), time_zone: timeZone, working_hours: hours.text, severity: row.severity },
      };
    });
    return { deferred, timeZone };
  }

  /**
   * Schedules the ladder when the question is asked: each reminder, the contact, the deadline; and
   * a critical alert's heads-up at once. Steps of a low or medium question that fall out of hours
   * move to the next working start (its deadline does not run overnight).
   */
  async scheduleLadder(trx: Transaction<Database>, row: AlertRow, askedAt: Date, timeZone: string | null): Promise<void> {
    const { reminderDelaysMs, escalationContact, contactAfterMs, escalateAfterMs } = this.options.settings;
    const at = (delayMs: number) => this.inWorkingTime(row, new Date(askedAt.getTime() + delayMs), timeZone);
    const firstReminder = reminderDelaysMs[0];
    if (firstReminder !== undefined) await scheduleJob(trx, row.id, 'remind', at(firstReminder));
    if (escalationContact) await scheduleJob(trx, row.id, 'contact', at(contactAfterMs));
    await scheduleJob(trx, row.id, 'deadline', at(escalateAfterMs));
    if (row.severity === 'critical') await scheduleJob(trx, row.id, 'announce', askedAt);
  }

  /** After an answer or an outcome: a critical alert's heads-up shows it. */
  async afterChange(trx: Transaction<Database>, row: AlertRow, now: Date): Promise<void> {
    if (row.severity === 'critical' && (row.asked_at || row.dm_requested_at)) await scheduleJob(trx, row.id, 'announce', now);
  }

  /** In the escalation transition: a critical escalation pages, when a pager is configured. */
  async afterEscalation(trx: Transaction<Database>, row: AlertRow, now: Date): Promise<void> {
    if (row.severity === 'critical' && this.options.pager && !row.paged_at) await scheduleJob(trx, row.id, 'page', now);
    await this.afterChange(trx, row, now);
  }

  /** The next reminder up the ladder; schedules the one after it. */
  async remind(alert: AlertRow, signal: AbortSignal): Promise<void> {
    const question = questionOf(alert);
    const sent = alert.reminders_sent;
    const delays = this.options.settings.reminderDelaysMs;
    if (alert.status !== 'asked' || !question || !alert.chat_user_id || sent >= delays.length) return;
    const chatUserId = alert.chat_user_id;
    const reminder = await this.options.steps.postOnce(alert, 'reminder', { chatUserId }, signal, () => this.options.chat.remindOwner(toAlertView(alert), question));
    const now = this.now();
    const timeZone = alert.owner && this.options.settings.workingHours ? await this.timeZoneOf(alert.owner, chatUserId) : null;
    await this.options.steps.transition(alert.id, 'system', async (row, trx) => {
      if (row.reminders_sent !== sent) return null;
      const next = delays[sent + 1];
      if (row.status === 'asked' && next !== undefined && row.asked_at) {
        await scheduleJob(trx, row.id, 'remind', this.inWorkingTime(row, new Date(row.asked_at.getTime() + next), timeZone));
      }
      // The conversation ended while the reminder was being posted: rewrite it to say so.
      if (row.status !== 'asked') await scheduleJob(trx, row.id, 'update_dm', now);
      return {
        changes: {
          reminded_at: now,
          reminders_sent: sent + 1,
          reminder_refs: JSON.stringify([...row.reminder_refs, reminder]),
          // The next reminder records its own intent; this one's is done.
          reminder_requested_at: null,
        },
        action: 'reminded',
        detail: { reminder: sent + 1, of: delays.length, channel: reminder.channel, ts: reminder.ts },
      };
    });
  }

  /**
   * Reminders posted earlier say the conversation ended (or was answered) instead of pointing at
   * gone buttons; once it finished, the contact's message says so too.
   */
  async showRemindersEnded(alert: AlertRow): Promise<void> {
    if (alert.status === 'asked' || alert.status === 'new') return;
    const view = toAlertView(alert);
    for (const reminder of alert.reminder_refs) await this.options.chat.showReminderEnded(view, reminder);
    if (FINISHED_STATUSES.includes(alert.status) && alert.contact_channel && alert.contact_ts) {
      await this.options.chat.showContactEnded(view, { channel: alert.contact_channel, ts: alert.contact_ts });
    }
  }

  /** The rung between the reminders and the channel: the manager or the on-call group. */
  async contact(alert: AlertRow, signal: AbortSignal): Promise<void> {
    const contact = this.options.settings.escalationContact;
    if (!contact || alert.status !== 'asked' || alert.contact_ts || !alert.owner) return;
    const target = await this.contactTarget(contact, alert.owner);
    if (!target) {
      await this.options.db.transaction().execute((trx) =>
        appendAudit(trx, { alertId: alert.id, at: this.now(), actor: 'system', action: 'contact_skipped', detail: { reason: `no manager configured for ${alert.owner}` } }),
      );
      return;
    }
    const place: PostPlace = 'chatUserId' in target ? { chatUserId: target.chatUserId } : 'security';
    const waitedMs = this.now().getTime() - (alert.asked_at ?? alert.created_at).getTime();
    const posted = await this.options.steps.postOnce(alert, 'contact', place, signal, () => this.options.chat.notifyContact(toAlertView(alert), target, waitedMs));
    await this.options.steps.transition(alert.id, 'system', (row) =>
      row.contact_ts
        ? null
        : {
            changes: { contact_channel: posted.channel, contact_ts: posted.ts },
            action: 'contact_notified',
            detail: { contact: contact.kind, to: 'chatUserId' in target ? target.chatUserId : target.userGroupId, waited: humanDuration(waitedMs) },
          },
    );
  }

  /**
   * A critical alert's heads-up in the security channel: posted once, then rewritten as the answer
   * comes in; an escalation becomes this message (notify_security). When the alert finished, the
   * outcome is replied in its thread (once), which is what tells the thread's followers.
   */
  async announce(alert: AlertRow, signal: AbortSignal): Promise<void> {
    // Asked, or waiting its turn behind another question of theirs (chat user known): either way
    // the channel hears of a critical command at once.
    if (alert.severity !== 'critical' || !(alert.asked_at || alert.dm_requested_at || alert.chat_user_id)) return;
    const view = toAlertView(alert);
    const heads = announcementOf(alert);
    const shown = await this.headsUpView(alert);
    const thread = heads ? await this.showHeadsUp(alert, heads, shown) : await this.postHeadsUp(alert, signal, shown);
    if (!FINISHED_STATUSES.includes(alert.status as AlertStatus) || alert.outcome_ts) return;
    const reply = await this.options.steps.postOnce(alert, 'outcome', { thread }, signal, () => this.options.chat.postOutcome(view, thread));
    await this.options.steps.transition(alert.id, 'system', (row) =>
      // A reply of the round before (Ask again since) is not this round's outcome.
      row.outcome_ts || row.round !== alert.round ? null : { changes: { outcome_ts: reply.ts }, action: 'outcome_posted', detail: { channel: reply.channel, ts: reply.ts, thread: thread.ts } },
    );
  }

  /**
   * Rewrites the heads-up with the alert's state. Once it became the escalation it is only ever
   * drawn as the escalation: that also undoes a heads-up rewrite by an older run of this job that
   * raced the escalation (notify_security runs this job again after it).
   */
  private async showHeadsUp(alert: AlertRow, heads: MessageRef, shown: AlertView): Promise<MessageRef> {
    const escalation = escalationOf(alert);
    if (escalation?.ts === heads.ts) {
      await this.options.chat.escalateInPlace(shown, heads);
    } else if (alert.status !== 'escalated' || escalation) {
      await this.options.chat.updateAnnouncement(shown, heads);
    }
    // Otherwise the alert escalated and notify_security is turning this message into the escalation.
    return heads;
  }

  /**
   * Posts the heads-up, once, and records it. When the escalation reached the channel first (the
   * heads-up came late), the escalation is the heads-up: nothing is posted and it is not rewritten.
   */
  private async postHeadsUp(alert: AlertRow, signal: AbortSignal, shown: AlertView): Promise<MessageRef> {
    const escalation = escalationOf(alert);
    const posted = escalation
      ? await this.adoptEscalation(alert, escalation)
      : await this.options.steps.postOnce(alert, 'announcement', 'security', signal, () => this.options.chat.announce(shown));
    const adopted = posted.ts === escalation?.ts;
    await this.options.steps.transition(alert.id, 'system', async (row, trx) => {
      if (row.announce_ts) return null;
      // The alert moved on while the heads-up was posted: show the news there too.
      if (row.status !== alert.status) await scheduleJob(trx, row.id, 'announce', this.now());
      return {
        changes: { announce_channel: posted.channel, announce_ts: posted.ts },
        action: 'security_heads_up',
        detail: { channel: posted.channel, ts: posted.ts, ...(adopted ? { adopted: 'escalation' } : {}) },
      };
    });
    return posted;
  }

  /**
   * What the heads-up shows: the conversation (its commands and hosts), and the critical hit by
   * name when it is not the lead, so the channel sees the reverse shell and not only the tcpdump
   * that opened the conversation.
   */
  private async headsUpView(alert: AlertRow): Promise<AlertView> {
    const view = await this.options.steps.view(alert);
    if (alert.conversation_id !== alert.id) return view;
    const db = this.options.db;
    // The lead's own severity is the conversation's: it was critical by itself unless a hit raised it.
    const raised = await db.selectFrom('audit_trail').select('id').where('alert_id', '=', alert.id).where('action', '=', 'severity_raised').limit(1).executeTakeFirst();
    if (!raised) return view;
    const critical = await db
      .selectFrom('alerts')
      .select(['rule_name', 'command', 'host'])
      .where('conversation_id', '=', alert.id)
      .where('id', '!=', alert.id)
      .where('severity', '=', 'critical')
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (!critical) return view;
    return { ...view, criticalHit: { ruleName: critical.rule_name, command: critical.command, host: critical.host } };
  }

  /** The escalation as the heads-up, unless an earlier attempt of this job did post one after all. */
  private async adoptEscalation(alert: AlertRow, escalation: MessageRef): Promise<MessageRef> {
    const started = alert.announce_requested_at;
    const earlier = started ? await this.options.chat.findPosted(alert, 'announcement', 'security', started) : null;
    if (!earlier) return escalation;
    // Its answer was lost and it still says "waiting": it shows the outcome like any heads-up.
    await this.options.chat.updateAnnouncement(toAlertView(alert), earlier);
    return earlier;
  }

  /**
   * Pages a critical escalation through PagerDuty, and resolves the incident once the alert was
   * reviewed. The conversation's id is the dedup key, so a retry after a lost answer, and a
   * critical repeat of an escalated conversation, fold into the same open incident instead of
   * paging again.
   */
  async page(alert: AlertRow): Promise<void> {
    const pager = this.options.pager;
    if (!pager) return;
    if (alert.status === 'escalated' && !alert.paged_at) return this.trigger(pager, alert);
    if (alert.paged_at && alert.reviewed_at && !alert.page_resolved_at) return this.resolvePage(pager, alert);
  }

  private async trigger(pager: PagerPort, alert: AlertRow): Promise<void> {
    const view = toAlertView(alert);
    const who = alert.owner ?? 'a system actor';
    await pager.trigger({
      dedupKey: alert.conversation_id,
      summary: `Vouch: ${escalationReasonText(alert.escalation_reason)}: ${alert.rule_name} on ${alert.host} by ${who}`,
      source: alert.host,
      severity: 'critical',
      customDetails: {
        alert: alert.id,
        owner: alert.owner,
        host: alert.host,
        command: view.command.slice(0, 2000),
        rule: alert.rule_id,
        reason: alert.escalation_reason,
        detail: alert.escalation_detail,
        occurred_at: alert.occurred_at.toISOString(),
      },
    });
    const now = this.now();
    await this.options.steps.transition(alert.id, 'system', async (row, trx) => {
      if (row.paged_at || row.round !== alert.round) return null;
      // Reviewed while the trigger was on its way: resolve it next.
      if (row.reviewed_at) await scheduleJob(trx, row.id, 'page', now);
      return { changes: { paged_at: now }, action: 'paged', detail: { service: 'pagerduty', dedup_key: row.conversation_id } };
    });
  }

  private async resolvePage(pager: PagerPort, alert: AlertRow): Promise<void> {
    await pager.resolve(alert.conversation_id);
    const now = this.now();
    await this.options.steps.transition(alert.id, 'system', (row) =>
      row.page_resolved_at ? null : { changes: { page_resolved_at: now }, action: 'page_resolved', detail: { service: 'pagerduty', dedup_key: row.conversation_id } },
    );
  }

  private async contactTarget(contact: EscalationContact, owner: string): Promise<ContactTarget | null> {
    if (contact.kind === 'user_group') return { userGroupId: contact.id };
    const manager = await this.options.identity.managerOf(owner);
    return manager ? { chatUserId: manager } : null;
  }

  private async timeZoneOf(login: string, chatUserId: string): Promise<string | null> {
    let timeZone: string | null;
    try {
      timeZone = await this.options.identity.timeZone(login, chatUserId);
    } catch (error) {
      // Holding a question back needs the zone; without it the question goes out now.
      this.options.logger.warn('could not read the time zone from chat; asking without waiting for working hours', { login, error: coerceError(error) });
      return null;
    }
    if (timeZone && isKnownTimeZone(timeZone)) return timeZone;
    // Without a usable zone nothing is held back: asking at once is the safe side.
    this.options.logger.warn('no usable time zone for the person; asking without waiting for working hours', { login, timeZone });
    return null;
  }

  private inWorkingTime(row: AlertRow, at: Date, timeZone: string | null): Date {
    const hours = this.options.settings.workingHours;
    if (!hours || !timeZone || !WAITS_FOR_WORKING_HOURS.has(row.severity)) return at;
    return nextWorkingStart(at, hours, timeZone);
  }

  private now(): Date {
    return this.options.clock.now();
  }
}

/** A critical alert's heads-up in the security channel, once posted. */
export function announcementOf(row: AlertRow): MessageRef | null {
  return row.announce_channel && row.announce_ts ? { channel: row.announce_channel, ts: row.announce_ts } : null;
}

function escalationOf(row: AlertRow): MessageRef | null {
  return row.escalation_channel && row.escalation_ts ? { channel: row.escalation_channel, ts: row.escalation_ts } : null;
}

function questionOf(row: AlertRow): MessageRef | null {
  return row.dm_channel && row.dm_ts ? { channel: row.dm_channel, ts: row.dm_ts } : null;
}
