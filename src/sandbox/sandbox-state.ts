/**
 * The snapshot the sandbox page polls: each engineer's DM, open modal and phone, the security
 * channel, and the newest alerts. Everything is plain JSON; the page renders it with textContent,
 * so no value here is ever treated as markup.
 */
import type { AlertView } from '../alerts/alert.js';
import type { ProgressNote } from '../alerts/progress-wording.js';
import { alertShortCode } from '../alerts/short-code.js';
import type { Clock } from '../clock.js';
import { terminalText, visibleText } from '../terminal-text.js';
import { listAlerts, toAlertView } from '../store/queries/alerts.js';
import type { VouchDatabase } from '../store/database.js';
import { DEMO_PEOPLE } from './demo-log.js';
import type { DuoSimulatedPush, DuoSimulator } from './duo-simulator.js';
import { alertProgress } from './sandbox-alert-progress.js';
import type { SimulatedMessage, SimulatedView, SlackSimulator } from './slack-simulator.js';

/** Newest messages kept per channel and alerts listed; older ones stay in the simulator and store. */
export const STATE_MESSAGE_LIMIT = 50;
export const STATE_ALERT_LIMIT = 50;
/** Commands longer than this are cut in the alerts table (the DM shows Slack's own cut). */
const COMMAND_PREVIEW_LENGTH = 2000;

export interface SandboxMessage {
  channel: string;
  ts: string;
  /** The notification text (mrkdwn-escaped, as Slack receives it). */
  text: string;
  /** Block Kit blocks exactly as the service sent them. */
  blocks: unknown[];
  threadTs: string | null;
  postedAt: string;
  /** True once the service has replaced the message with chat.update. */
  edited: boolean;
}

export interface SandboxView {
  id: string;
  callbackId: string;
  title: string;
  submit: string;
  close: string;
  blocks: unknown[];
  /** Per-block errors from the service's last `response_action: errors` answer. */
  errors: Record<string, string> | null;
}

export interface SandboxPush {
  txid: string;
  username: string;
  type: string;
  pushinfo: Record<string, string>;
  createdAt: string;
}

export interface SandboxUser {
  id: string;
  name: string;
  realName: string;
  /** The demo phone: `none` means Duo knows the person but they have no device to push to. */
  device: 'push' | 'none';
  dm: SandboxMessage[];
  /** The newest open modal, or null. */
  view: SandboxView | null;
  /** Pending pushes for this person's Duo username (their Slack name). */
  pushes: SandboxPush[];
}

export interface SandboxAlert {
  id: string;
  /** The short code the DM and the Duo push show, and the notes use to point at a question. */
  code: string;
  /** The conversation's lead (the alert's own id on a lead). */
  conversationId: string;
  occurredAt: string;
  owner: string | null;
  host: string;
  command: string;
  rule: string;
  severity: string;
  status: string;
  escalationReason: string | null;
  secondFactor: string | null;
  justification: string | null;
  occurrences: number;
  /** What the engine did or waits for, in sentences (progress-wording.ts); plain text. */
  notes: ProgressNote[];
}

export interface SandboxState {
  users: SandboxUser[];
  security: SandboxMessage[];
  alerts: SandboxAlert[];
}

export interface SandboxStateSources {
  slack: SlackSimulator;
  duo: DuoSimulator;
  store: VouchDatabase;
  securityChannel: string;
  /** The service's clock: "in 30 minutes" is measured from its now. */
  clock: Clock;
}

/** Reads the simulators and the store; cheap enough to answer a poll every second. */
export async function sandboxState(sources: SandboxStateSources): Promise<SandboxState> {
  const { slack, duo, store, securityChannel, clock } = sources;
  const pending = duo.pendingPushes();
  const users = slack.users().map((user): SandboxUser => {
    const dm = slack
      .messages(slack.dmChannelFor(user.id))
      .filter((message) => message.ephemeralTo === null || message.ephemeralTo === user.id);
    const views = slack.openViews(user.id);
    return {
      id: user.id,
      name: user.name,
      realName: user.realName,
      device: DEMO_PEOPLE.find((person) => person.login === user.name)?.device ?? 'push',
      dm: newest(dm).map(messageState),
      view: views.length === 0 ? null : viewState(newestView(views)),
      pushes: pending.filter((push) => push.username === user.name).map(pushState),
    };
  });
  const security = newest(slack.messages(securityChannel).filter((message) => message.ephemeralTo === null)).map(messageState);
  const rows = await listAlerts(store.db, { limit: STATE_ALERT_LIMIT });
  const names = new Map(slack.users().map((user) => [user.id, user.name]));
  const progress = await alertProgress(rows, { db: store.db, now: clock.now(), chatUserName: (id) => names.get(id) ?? null });
  const alerts = rows.map((row) => alertState(toAlertView(row), row.conversation_id, progress.get(row.id) ?? []));
  return { users, security, alerts };
}

function newest(messages: SimulatedMessage[]): SimulatedMessage[] {
  return messages.slice(-STATE_MESSAGE_LIMIT);
}

function newestView(views: SimulatedView[]): SimulatedView {
  return views.reduce((latest, view) => (view.openedAt.getTime() >= latest.openedAt.getTime() ? view : latest));
}

function messageState(message: SimulatedMessage): SandboxMessage {
  return {
    channel: message.channel,
    ts: message.ts,
    text: message.text,
    blocks: message.blocks,
    threadTs: message.threadTs,
    postedAt: message.postedAt.toISOString(),
    edited: message.edits.length > 0,
  };
}

function viewState(view: SimulatedView): SandboxView {
  return {
    id: view.id,
    callbackId: view.callbackId,
    title: textOf(view.view.title),
    submit: textOf(view.view.submit) || 'Submit',
    close: textOf(view.view.close) || 'Cancel',
    blocks: Array.isArray(view.view.blocks) ? view.view.blocks : [],
    errors: view.errors,
  };
}

/** The text of a Block Kit text object; '' for anything else. */
function textOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '';
  const text = (value as { text?: unknown }).text;
  return typeof text === 'string' ? text : '';
}

function pushState(push: DuoSimulatedPush): SandboxPush {
  return { txid: push.txid, username: push.username, type: push.type, pushinfo: push.pushinfo, createdAt: push.createdAt.toISOString() };
}

/**
 * An alert as the sandbox page shows it. The page puts text in as text (never as markup), but a
 * log's and a person's words can still hold control, bidi and zero-width characters that reorder
 * or hide part of a table cell: those are made visible here, as the review console does.
 */
function alertState(alert: AlertView, conversationId: string, notes: ProgressNote[]): SandboxAlert {
  const command = alert.command.length > COMMAND_PREVIEW_LENGTH ? `${alert.command.slice(0, COMMAND_PREVIEW_LENGTH)}…` : alert.command;
  return {
    id: alert.id,
    code: alertShortCode(alert.id),
    conversationId,
    occurredAt: alert.occurredAt.toISOString(),
    owner: alert.owner === null ? null : terminalText(alert.owner),
    host: terminalText(alert.host),
    command: visibleText(command, { keepLineBreaks: true }),
    rule: terminalText(alert.ruleName),
    severity: alert.severity,
    status: alert.status,
    escalationReason: alert.escalationReason,
    secondFactor: alert.secondFactor,
    justification: alert.justification === null ? null : visibleText(alert.justification, { keepLineBreaks: true }),
    occurrences: alert.occurrences,
    notes: notes.map((note) => ({ ...note, text: visibleText(note.text, { keepLineBreaks: true }) })),
  };
}
