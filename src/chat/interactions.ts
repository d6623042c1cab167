import type { MessageRef } from './chat-port.js';

/** A click on one of an alert's buttons (`vouch.confirm` / `vouch.deny`). */
export interface ButtonClick {
  alertId: string;
  /** Who clicked: only the alert's owner may change it. */
  chatUserId: string;
  /** Valid for about 3 s; needed to open the justification form. */
  triggerId: string;
  /** The message the button was on. */
  question: MessageRef | null;
}

/** A submitted justification form (`vouch.justify`, field `reason`). */
export interface JustificationSubmission {
  alertId: string;
  chatUserId: string;
  reason: string;
  question: MessageRef | null;
  /** The submitted form's view id: only the form Vouch opened for this alert and person counts. */
  viewId: string | null;
  /** The key Vouch put in the form it opened (see ChatPort.openJustificationForm), if any. */
  formKey: string | null;
}

/** A form submission is either accepted or rejected with per-field messages (keyed by action id). */
export type SubmissionResult = { ok: true } | { ok: false; errors: Record<string, string> };

/** A slash command (`/vouch ...`). */
export interface ChatCommand {
  chatUserId: string;
  channel: string;
  text: string;
}

/**
 * What the chat receiver calls once a request is verified and parsed. The receiver acks Slack
 * first (3 s limit) for clicks; a submission's result becomes the ack itself.
 */
export interface InteractionHandlers {
  onConfirm(click: ButtonClick): Promise<void>;
  onDeny(click: ButtonClick): Promise<void>;
  onJustify(submission: JustificationSubmission): Promise<SubmissionResult>;
  /** Returns the text of an ephemeral reply. */
  onCommand(command: ChatCommand): Promise<string>;
}
