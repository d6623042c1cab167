import type { AlertView } from '../alerts/alert.js';
import type { HealthNoticeView, SystemDigestView } from './quiet-views.js';

/** Where a posted message lives, so it can be updated later. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** A justification form that was opened; `viewId` identifies its submission. */
export interface JustificationForm {
  viewId: string;
}

/**
 * What a message Vouch posts is for. Each post carries it with the alert id (as Slack message
 * metadata), so a job re-run after a crash can find the message it may already have posted.
 */
export type PostPurpose = 'question' | 'reminder' | 'escalation' | 'contact' | 'announcement' | 'outcome';

/** Where a post goes: the DM with a person, the security channel, or a thread in it. */
export type PostPlace = { chatUserId: string } | 'security' | { thread: MessageRef };

/** What a posted message is about: the alert, and its round of questions (absent: 0). */
export interface PostedAbout {
  id: string;
  round?: number;
}

/** The escalation contact: a person (sent a DM), or a user group (mentioned in the security channel). */
export type ContactTarget = { chatUserId: string } | { userGroupId: string };

/**
 * Everything the workflow asks of a chat service. Implementations render and escape; the workflow
 * never sees vendor payloads. All methods throw ChatError when the service refuses or is down.
 */
export interface ChatPort {
  /** The chat user id for an email address, or null when nobody has it. */
  lookupUserByEmail(email: string): Promise<string | null>;
  /** Opens (or reuses) the DM with a user and posts the question with confirm/deny buttons. */
  askOwner(alert: AlertView, chatUserId: string): Promise<MessageRef>;
  /** Posts a reminder about a question that has not been answered yet, in the same DM. */
  remindOwner(alert: AlertView, question: MessageRef): Promise<MessageRef>;
  /** Redraws the question with the alert's current state (buttons removed once answered). */
  showOutcome(alert: AlertView, question: MessageRef): Promise<void>;
  /** Posts the alert with its full context to the security channel. */
  escalate(alert: AlertView): Promise<MessageRef>;
  /**
   * Opens the justification form. `triggerId` expires about 3 s after the click, so callers
   * must call this before any slow work. `question` is carried in the form so the submission can
   * update the DM, and so is `formKey` (when given), which the submission carries back as
   * JustificationSubmission.formKey. Returns the opened form's id, which the submission carries too.
   */
  openJustificationForm(triggerId: string, alert: AlertView, question: MessageRef, formKey?: string): Promise<JustificationForm>;
  /**
   * The message of `purpose` about this round of `alert` posted in `place` since `since`, or null
   * when there is none. Jobs ask before posting again after an attempt whose outcome they did not see.
   */
  findPosted(alert: PostedAbout, purpose: PostPurpose, place: PostPlace, since: Date): Promise<MessageRef | null>;
  /**
   * Replies in an escalation's thread that its conversation was seen again (host, command, when):
   * the repeats from number `from` on (counted from 0), marked so findRepeatsNoted finds the reply.
   */
  noteRepeats(alert: AlertView, escalation: MessageRef, repeats: ReadonlyArray<{ host: string; command: string; occurredAt: Date }>, from: number): Promise<void>;
  /** How many repeats the reply noteRepeats posted from number `from` on lists; null when there is none. */
  findRepeatsNoted(alert: PostedAbout, escalation: MessageRef, from: number): Promise<number | null>;
  /** The person's IANA time zone (Slack's `tz`), or null when chat does not say. */
  userTimeZone(chatUserId: string): Promise<string | null>;
  /** Rewrites a reminder whose conversation ended, so it no longer points at buttons that are gone. */
  showReminderEnded(alert: AlertView, reminder: MessageRef): Promise<void>;
  /** Tells the escalation contact that the owner has not answered for `waitedMs`. */
  notifyContact(alert: AlertView, target: ContactTarget, waitedMs: number): Promise<MessageRef>;
  /** Rewrites the contact's message once the conversation ended, so nobody chases a closed question. */
  showContactEnded(alert: AlertView, contact: MessageRef): Promise<void>;
  /** Posts a critical alert's heads-up to the security channel when its owner is asked. */
  announce(alert: AlertView): Promise<MessageRef>;
  /** Rewrites the heads-up with the alert's current state (the answer, the outcome). */
  updateAnnouncement(alert: AlertView, announcement: MessageRef): Promise<void>;
  /**
   * Turns a critical alert's heads-up into its escalation: the message is rewritten with the
   * escalation's content and message metadata, so the channel carries one message (repeating it is
   * harmless). Resolves false when the service refuses to edit it (deleted, or no longer
   * editable): the caller then posts the escalation on its own.
   */
  escalateInPlace(alert: AlertView, announcement: MessageRef): Promise<boolean>;
  /** Replies in the heads-up's thread with the alert's outcome. */
  postOutcome(alert: AlertView, announcement: MessageRef): Promise<MessageRef>;
  /** A message only `chatUserId` sees in `channel` (e.g. "this alert is not yours"). */
  tellUser(channel: string, chatUserId: string, text: string): Promise<void>;
  /** Posts one period's digest of system-actor commands to the security channel. */
  postDigest(digest: SystemDigestView): Promise<MessageRef>;
  /** Posts a pipeline health notice (auditd stopped, events lost, a silent host...) to the security channel. */
  postHealthNotice(notice: HealthNoticeView): Promise<MessageRef>;
  /** Posts a notice's recovery as a reply in the notice's thread. */
  postHealthRecovery(notice: HealthNoticeView, thread: MessageRef): Promise<MessageRef>;
}
