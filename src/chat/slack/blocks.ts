/**
 * Block Kit rendering of alerts: the question DM, the reminder, the outcome that replaces the
 * question, the security-channel escalation and the justification modal.
 *
 * Every value that came from a log line or a person (command, host, paths, user names, reasons,
 * second-factor results, escalation details) goes through escape.ts before it lands in mrkdwn, and
 * every text object is cut to Slack's limits, so a 1 MB command still renders as a valid message.
 */
import { JUSTIFICATION_LENGTH, type AlertView, type EscalationReason, type Severity } from '../../alerts/alert.js';
import { alertShortCode } from '../../alerts/short-code.js';
import { describeProvenance } from '../../sources/provenance.js';
import { escalationReasonText, knownSecondFactorSentence } from '../../alerts/wording.js';
import type { MessageRef } from '../chat-port.js';
import { visibleText } from '../../terminal-text.js';
import { escapeMrkdwn, inlineCode, plainMrkdwn, sanitizeText, truncateEscaped, truncatePlain, untrustedMrkdwn } from './escape.js';

/** Button action ids and modal ids: part of the product's public contract (see DESIGN.md). */
export const CONFIRM_ACTION_ID = 'vouch.confirm';
export const DENY_ACTION_ID = 'vouch.deny';
export const JUSTIFY_CALLBACK_ID = 'vouch.justify';
export const REASON_ACTION_ID = 'reason';
/** The block holding the reason input; modal errors are keyed by block id. */
export const REASON_BLOCK_ID = 'vouch.reason';
/** The actions block holding the confirm/deny buttons. */
export const ANSWER_BLOCK_ID = 'vouch.answer';

/** Slack's documented limits that our messages must respect. */
export const SLACK_LIMITS = {
  /** Any text object, and a section's text. */
  text: 3000,
  /** One section field. */
  field: 2000,
  header: 150,
  buttonText: 75,
  blocks: 50,
  /** Our own cap for the top-level fallback (Slack truncates at 40,000; notifications are short). */
  fallback: 4000,
  modalTitle: 24,
  privateMetadata: 3000,
} as const;

/** Length bounds of the reason typed in the justification form (the workflow checks the same). */
export const REASON_MIN_LENGTH = JUSTIFICATION_LENGTH.min;
export const REASON_MAX_LENGTH = JUSTIFICATION_LENGTH.max;

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
  /** true: Slack does not auto-link URLs or channel names in this text. */
  verbatim?: boolean;
}
export type TextObject = PlainText | MrkdwnText;

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainText;
  value: string;
  style?: 'primary' | 'danger';
}
export interface PlainTextInputElement {
  type: 'plain_text_input';
  action_id: string;
  multiline?: boolean;
  min_length?: number;
  max_length?: number;
  placeholder?: PlainText;
}
export type Block =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] }
  | { type: 'input'; block_id: string; label: PlainText; element: PlainTextInputElement; hint?: PlainText };

/** A message: blocks plus the escaped top-level `text` Slack uses for notifications. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export interface ModalView {
  type: 'modal';
  callback_id: string;
  private_metadata: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  blocks: Block[];
}

/** What the justification form carries so its submission can find the alert and update the DM. */
export interface JustifyMetadata {
  alertId: string;
  question: MessageRef | null;
  /** The key of this opening of the form (see ChatPort.openJustificationForm); null on older forms. */
  formKey: string | null;
}

/** The question DM: what ran, where, when, as whom, which rule; buttons to confirm or deny. */
export function questionMessage(alert: AlertView): SlackMessage {
  return {
    text: fallback(`Was this you? ${commandPreview(alert)} on ${alert.host}`),
    blocks: [
      header('Was this you?'),
      mrkdwnSection(
        `Someone using your account${owner(alert)} ran this command on ${inlineCode(alert.host, 500)}. ` +
          'If it was you, tell us why; if not, say so and the security team will look into it.',
      ),
      commandSection(alert.command),
      ...conversationBlocks(alert, 'owner'),
      detailFields(alert),
      shortCodeSection(alert),
      {
        type: 'actions',
        block_id: ANSWER_BLOCK_ID,
        elements: [
          button(CONFIRM_ACTION_ID, 'Yes, it was me', alert.id, 'primary'),
          button(DENY_ACTION_ID, 'No, not me', alert.id, 'danger'),
        ],
      },
      ...provenanceContext(alert),
      alertContext(alert),
    ],
  };
}

/** A reminder posted in the same DM; it points at the question instead of repeating the buttons. */
export function reminderMessage(alert: AlertView): SlackMessage {
  return {
    text: fallback(`Reminder: was this you? ${commandPreview(alert)} on ${alert.host}`),
    blocks: [
      mrkdwnSection(
        `:bell: *Reminder:* we still need your answer about this command on ${inlineCode(alert.host, 500)}. ` +
          'Please use the buttons on the question above.',
      ),
      commandSection(alert.command, 1000),
      ...provenanceContext(alert),
      alertContext(alert),
    ],
  };
}

/** A reply in an escalation's thread: the escalated activity was seen again. */
export function repeatsMessage(alert: AlertView, repeats: ReadonlyArray<{ host: string; command: string; occurredAt: Date }>): SlackMessage {
  const lines = repeats.map((repeat) => `${slackDate(repeat.occurredAt)} on ${inlineCode(repeat.host, 200)}`);
  const commands = [...new Set(repeats.map((repeat) => repeat.command.slice(0, 300)))].slice(0, 5).join('\n');
  return {
    text: fallback(`Seen again: ${repeats.length} more command${repeats.length === 1 ? '' : 's'} like ${commandPreview(alert)}`),
    blocks: [
      mrkdwnSection(`:repeat: *Seen again* (${repeats.length} more): ${lines.join(', ')}. Nobody was asked: this activity is already escalated.`),
      commandSection(commands, 2000),
    ],
  };
}

/** Replaces the question once something happened: the details stay, the buttons go. */
export function outcomeMessage(alert: AlertView): SlackMessage {
  const blocks: Block[] = [
    header('Was this you?'),
    commandSection(alert.command),
    ...conversationBlocks(alert, 'owner'),
    detailFields(alert),
    mrkdwnSection(ownerStatusText(alert)),
  ];
  if (alert.justification !== null) blocks.push(quoteSection('Your reason', alert.justification));
  blocks.push(...provenanceContext(alert), alertContext(alert));
  return { text: fallback(`${plainStatus(alert)} ${commandPreview(alert)} on ${alert.host}`), blocks };
}

/** The security channel's copy: everything a reviewer needs without opening another tool. */
export function escalationMessage(alert: AlertView): SlackMessage {
  const reason = escalationTitle(alert.escalationReason);
  const blocks: Block[] = [
    ...fraudWarning(alert),
    header(`🚨 ${reason}: ${alert.ruleName}`),
    mrkdwnSection(escalationSummary(alert)),
    commandSection(alert.command),
    ...conversationBlocks(alert, 'security'),
    fieldsSection([
      ['Owner', alert.owner === null ? '_system actor_' : inlineCode(alert.owner, 500)],
      ['Host', inlineCode(alert.host, 500)],
      ['Run as', alert.runAs === null ? '_same user_' : inlineCode(alert.runAs, 500)],
      ['Directory', alert.cwd === null ? '_unknown_' : inlineCode(alert.cwd, 1000)],
      ['When', whenText(alert)],
      ['Occurrences', String(alert.occurrences)],
    ]),
    fieldsSection([
      ['Rule', `${inlineCode(alert.ruleName, 500)} (${inlineCode(alert.ruleId, 200)})`],
      ['Severity', severityText(alert.severity)],
      ['ATT&CK', attackText(alert.attack)],
      ['Second factor', alert.secondFactor === null ? '_not attempted_' : secondFactorText(alert.secondFactor)],
      ['Reason', escapeMrkdwn(alert.escalationReason === null ? 'none' : escalationReasonText(alert.escalationReason))],
      ['Status', escapeMrkdwn(alert.status)],
    ]),
  ];
  if (alert.justification !== null) blocks.push(quoteSection('Justification', alert.justification));
  if (alert.escalationDetail !== null) blocks.push(quoteSection('Detail', alert.escalationDetail));
  blocks.push(...provenanceContext(alert), alertContext(alert));
  return {
    text: fallback(`${alert.escalationReason === 'fraud_reported' ? 'FRAUD REPORTED. ' : ''}${reason}: ${commandPreview(alert)} on ${alert.host} by ${alert.owner ?? 'a system actor'}`),
    blocks,
  };
}

/** The justification form opened by "Yes, it was me". */
export function justificationModal(alert: AlertView, question: MessageRef, formKey?: string): ModalView {
  const metadata = { alertId: alert.id, channel: question.channel, ts: question.ts, ...(formKey === undefined ? {} : { form: formKey }) };
  return {
    type: 'modal',
    callback_id: JUSTIFY_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: plain('Vouch for a command', SLACK_LIMITS.modalTitle),
    submit: plain('Continue', SLACK_LIMITS.modalTitle),
    close: plain('Cancel', SLACK_LIMITS.modalTitle),
    blocks: [
      mrkdwnSection(`You said you ran this on ${inlineCode(alert.host, 500)}:`),
      commandSection(alert.command, 1500),
      // A conversation: the one answer covers every command it lists now.
      ...conversationBlocks(alert, 'owner'),
      {
        type: 'input',
        block_id: REASON_BLOCK_ID,
        label: plain('Why did you run it?'),
        element: {
          type: 'plain_text_input',
          action_id: REASON_ACTION_ID,
          multiline: true,
          min_length: REASON_MIN_LENGTH,
          max_length: REASON_MAX_LENGTH,
          placeholder: plain('e.g. rotating the TLS certificate for ticket OPS-123'),
        },
        hint: plain('After you continue, approve the Duo push on your phone to confirm it was you.'),
      },
    ],
  };
}

/** Reads a form's private_metadata back; null when it is not ours or is malformed. */
export function parseJustifyMetadata(raw: string | undefined): JustifyMetadata | null {
  if (raw === undefined || raw === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { alertId, channel, ts, form } = parsed as Record<string, unknown>;
  if (typeof alertId !== 'string' || alertId === '') return null;
  const question = typeof channel === 'string' && typeof ts === 'string' ? { channel, ts } : null;
  return { alertId, question, formKey: typeof form === 'string' && form !== '' ? form : null };
}

/** The owner-facing sentence for an alert's current state (mrkdwn, escaped). */
export function ownerStatusText(alert: AlertView): string {
  switch (alert.status) {
    case 'new':
    case 'asked':
      return ':hourglass_flowing_sand: Waiting for your answer.';
    case 'verifying':
      return `:iphone: Thanks. Approve the Duo push showing code *${alertShortCode(alert.id)}* on your phone to confirm it was you.`;
    case 'verified':
      return ':white_check_mark: *Verified.* You confirmed this and approved the Duo push. Thank you.';
    case 'suppressed':
      return ':white_check_mark: No action needed: this matches an approved exception.';
    case 'escalated':
      return ownerEscalationText(alert);
  }
}

function ownerEscalationText(alert: AlertView): string {
  switch (alert.escalationReason) {
    case 'denied_by_user':
      return ':rotating_light: You said this was not you. The security team has been alerted and will be in touch.';
    case 'no_response':
      return ':alarm_clock: We did not get an answer in time, so the security team has been notified.';
    case 'second_factor_failed':
      return `:rotating_light: The Duo check did not succeed (${secondFactorText(alert.secondFactor)}), so the security team has been notified.`;
    case 'delivery_failed':
      return ':rotating_light: Vouch could not finish checking this with you, so the security team has been notified.';
    case 'fraud_reported':
      return ':rotating_light: You reported the Duo push as fraud. The security team has been alerted, and no more pushes will be sent to you until they have looked into it.';
    case 'second_factor_paused':
      return ':rotating_light: Duo pushes to you are paused after a fraud report, so this could not be confirmed. The security team has been notified.';
    case 'unknown_owner':
    case 'system_actor':
    case null:
      return ':rotating_light: The security team has been notified.';
  }
}

function plainStatus(alert: AlertView): string {
  if (alert.status === 'escalated') return `${escalationTitle(alert.escalationReason)}:`;
  return `${alert.status[0]?.toUpperCase() ?? ''}${alert.status.slice(1)}:`;
}

/** The second factor's result as a sentence; a word Vouch does not know is shown as code. */
function secondFactorText(result: string | null): string {
  const known = knownSecondFactorSentence(result);
  return known === null ? `Duo answered ${inlineCode(result ?? '', 100)}` : escapeMrkdwn(known);
}

function escalationTitle(reason: EscalationReason | null): string {
  return escalationReasonText(reason);
}

/**
 * A fraud report means someone may be holding the owner's session right now: it opens the post
 * with a header and a line nobody scrolls past.
 */
function fraudWarning(alert: AlertView): Block[] {
  if (alert.escalationReason !== 'fraud_reported') return [];
  return [
    header('⚠️ FRAUD REPORTED: the owner rejected this Duo push as fraud'),
    mrkdwnSection(
      ':warning: *The owner says they did not start this push.* Their account may be in someone else\'s hands: ' +
        'act now. Further pushes to them are paused until a reviewer resumes them.',
    ),
  ];
}

/** The code the Duo push shows too, so the person can match the push to this question. */
function shortCodeSection(alert: AlertView): Block {
  return mrkdwnSection(`Code *${alertShortCode(alert.id)}*: the Duo push for this alert shows the same code.`);
}

function escalationSummary(alert: AlertView): string {
  const who = alert.owner === null ? 'a system actor' : inlineCode(alert.owner, 500);
  const rule = `${inlineCode(alert.ruleName, 500)} (${severityText(alert.severity)})`;
  return `Command by ${who} on ${inlineCode(alert.host, 500)} matched ${rule} and needs a human.`;
}

function detailFields(alert: AlertView): Block {
  const fields: Array<[string, string]> = [
    ['Host', inlineCode(alert.host, 500)],
    ['Run as', alert.runAs === null ? '_same user_' : inlineCode(alert.runAs, 500)],
    ['When', whenText(alert)],
    ['Directory', alert.cwd === null ? '_unknown_' : inlineCode(alert.cwd, 1000)],
    ['Rule', inlineCode(alert.ruleName, 500)],
    ['Severity', severityText(alert.severity)],
  ];
  if (alert.attack.length > 0) fields.push(['ATT&CK', attackText(alert.attack)]);
  if (alert.occurrences > 1) fields.push(['Occurrences', `${alert.occurrences} times`]);
  return fieldsSection(fields);
}

/** A short, single-purpose preview of the command for notifications (escaped later). */
export function commandPreview(alert: Pick<AlertView, 'command'>): string {
  const max = 150;
  // Only a bounded prefix is cleaned, so a 1 MB command costs nothing here.
  const clean = sanitizeText(alert.command.slice(0, 2 * max));
  return `“${truncatePlain(clean, max, false)}”`;
}

/** How many of a conversation's commands and hosts a message lists. */
const LISTED_COMMANDS = 5;
const LISTED_HOSTS = 10;

/**
 * Who reads a conversation's summary: its owner, whose one answer covers every command, or the
 * security channel, which is handed the whole activity at once.
 */
type ConversationReader = 'owner' | 'security';

const COVERS_ALL: Record<ConversationReader, string> = {
  owner: 'Your answer covers all of them.',
  security: 'This escalation covers all of them.',
};

/**
 * A conversation of several commands: how many, the first few (in one code block) and the hosts,
 * so one answer is given (or one escalation read) knowingly for everything it covers.
 */
export function conversationBlocks(alert: AlertView, reader: ConversationReader): Block[] {
  const conversation = alert.conversation;
  if (!conversation || conversation.size <= 1) return [];
  const more = conversation.size - Math.min(conversation.size, conversation.commands.length);
  const hosts = conversation.hosts.slice(0, LISTED_HOSTS).map((host) => inlineCode(host, 200)).join(', ');
  const otherHosts = conversation.hostCount - Math.min(conversation.hostCount, LISTED_HOSTS);
  // One line per command: a newline inside one is escaped, or it could draw a fake entry.
  const listed = conversation.commands
    .slice(0, LISTED_COMMANDS)
    .map((command) => visibleText(command.slice(0, 300)))
    .join('\n');
  return [
    mrkdwnSection(
      `*This is one activity of ${conversation.size} commands* on ${conversation.hostCount} host${conversation.hostCount === 1 ? '' : 's'}: ${hosts}` +
        `${otherHosts > 0 ? ` and ${otherHosts} more` : ''}. ${COVERS_ALL[reader]}`,
    ),
    commandSection(listed + (more > 0 ? `\n… and ${more} more` : ''), 2000),
  ];
}

/** The command in a code block: escaped, backticks neutralised, cut to fit one section. */
export function commandSection(command: string, max: number = SLACK_LIMITS.text): Block {
  const fence = '```';
  const body = command === '' ? '(empty command)' : untrustedMrkdwn(command, max - 2 * fence.length);
  return { type: 'section', text: { type: 'mrkdwn', text: `${fence}${body}${fence}`, verbatim: true } };
}

/**
 * Text a person typed (a justification, an escalation detail) under a bold label, in a code block:
 * its newlines stay, but none of its `*`, `_`, `>` or `<!channel>` is live markup.
 */
export function quoteSection(label: string, untrusted: string): Block {
  const fence = '```';
  const title = `*${escapeMrkdwn(label)}*\n`;
  const budget = SLACK_LIMITS.text - title.length - 2 * fence.length;
  const body = untrusted === '' ? '(empty)' : untrustedMrkdwn(untrusted, budget);
  return mrkdwnSection(`${title}${fence}${body}${fence}`);
}

export function fieldsSection(fields: Array<[string, string]>): Block {
  return {
    type: 'section',
    fields: fields.map(([label, value]) => ({
      type: 'mrkdwn',
      text: truncateEscaped(`*${escapeMrkdwn(label)}*\n${value}`, SLACK_LIMITS.field),
      verbatim: true,
    })),
  };
}

export function mrkdwnSection(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.text), verbatim: true } };
}

/**
 * Where the alert's event came from and how far its attribution can be trusted, as a context
 * line: "Source: auditd (kernel record)", or a warning for a record any local user could have
 * written (sudo syslog text) or an HTTP event whose host its source was not bound to. Nothing for
 * alerts raised before provenance was recorded.
 */
export function provenanceContext(alert: AlertView): Block[] {
  const provenance = alert.provenance;
  if (!provenance) return [];
  const warn = provenance.forgeable || provenance.hostBinding === 'unbound';
  // The format name comes from the database; escape it like any stored text.
  const text = `${warn ? ':warning: ' : ''}Source: ${untrustedMrkdwn(describeProvenance(provenance), 500)}`;
  return [{ type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] }];
}

export function alertContext(alert: AlertView): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: `Alert ${untrustedMrkdwn(alert.id, 200)}`, verbatim: true }] };
}

export function header(text: string): Block {
  return { type: 'header', text: plain(text, SLACK_LIMITS.header) };
}

function button(actionId: string, text: string, value: string, style: 'primary' | 'danger'): ButtonElement {
  return { type: 'button', action_id: actionId, text: plain(text, SLACK_LIMITS.buttonText), value, style };
}

/**
 * plain_text is never parsed for markup; it is one line (a header, a label, a button), so every
 * control character, newlines included, is made visible. `emoji: false` keeps a rule name such as
 * `:white_check_mark: ok` from drawing icons (our own emoji are literal characters). Only a
 * bounded prefix is read.
 */
function plain(text: string, max: number = SLACK_LIMITS.text): PlainText {
  return { type: 'plain_text', text: truncatePlain(visibleText(text.slice(0, 2 * max)), max), emoji: false };
}

/**
 * The top-level text for notifications: one line, escaped (notifications parse `&<>`), every
 * control character visible, no formatting character left to act (see plainMrkdwn),
 * length-capped. Only a bounded prefix of huge input is read.
 */
export function fallback(text: string): string {
  const max = SLACK_LIMITS.fallback;
  return truncateEscaped(plainMrkdwn(text.slice(0, 2 * max)), max);
}

/** A Slack date token: shown in the reader's own time zone, with the ISO time as fallback. */
/** A command read this much later than it ran is said to be: a backlog, a replayed log, a host whose clock is off. */
const LATE_MS = 3_600_000;

/**
 * When the command ran, and, when Vouch read it an hour or more later, how much later: so
 * whoever is asked about a week-old command at 03:00 sees that it is a week old.
 */
function whenText(alert: AlertView): string {
  const when = slackDate(alert.occurredAt);
  const late = alert.raisedAt === undefined ? 0 : alert.raisedAt.getTime() - alert.occurredAt.getTime();
  return late >= LATE_MS ? `${when} (read ${lateness(late)} later)` : when;
}

/** `3 hours`, `2 days`: the larger unit only. */
function lateness(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.floor(hours / 24);
  return `${days} days`;
}

function slackDate(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  if (!Number.isFinite(seconds)) return '_unknown_';
  return `<!date^${seconds}^{date_short_pretty} at {time_secs}|${date.toISOString()}>`;
}

const SEVERITY_MARKS: Record<Severity, string> = {
  low: ':white_circle: low',
  medium: ':large_yellow_circle: medium',
  high: ':large_orange_circle: high',
  critical: ':red_circle: critical',
};

export function severityText(severity: Severity): string {
  return SEVERITY_MARKS[severity] ?? escapeMrkdwn(String(severity));
}

/** ATT&CK ids link to MITRE only when they have the exact technique shape; others are escaped text. */
function attackText(ids: string[]): string {
  if (ids.length === 0) return '_none_';
  const rendered = ids.slice(0, 20).map((id) => {
    const match = /^T(\d{4})(?:\.(\d{3}))?$/.exec(id);
    if (match === null) return inlineCode(id, 50);
    const path = match[2] === undefined ? `T${match[1]}` : `T${match[1]}/${match[2]}`;
    return `<https://attack.mitre.org/techniques/${path}/|${id}>`;
  });
  return rendered.join(', ');
}

function owner(alert: AlertView): string {
  const login = alert.owner === null ? '' : ` ${inlineCode(alert.owner, 200)}`;
  const runAs = alert.runAs === null ? '' : ` (running as ${inlineCode(alert.runAs, 200)})`;
  return `${login}${runAs}`;
}
