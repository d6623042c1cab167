/**
 * The Slack side of `POST /slack/events`: reads and verifies the request, answers Slack's
 * handshakes, and hands interactivity to a Bolt App through a custom receiver. Bolt listeners only
 * read the payload, ack, and call InteractionHandlers; decisions live in the workflow.
 *
 * The response is written exactly once: by the listener's ack, by the ack deadline (Slack gives up
 * after 3 s, so we answer 200 at 2.5 s), or, when no listener acked, once Bolt has finished.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, LogLevel, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Clock } from '../../clock.js';
import { ConfigError, RequestError, coerceError } from '../../errors.js';
import { jsonObjectBody, readBody } from '../../http/request-body.js';
import type { MessageRef } from '../chat-port.js';
import type { ButtonClick, InteractionHandlers } from '../interactions.js';
import {
  CONFIRM_ACTION_ID,
  DENY_ACTION_ID,
  JUSTIFY_CALLBACK_ID,
  REASON_ACTION_ID,
  REASON_BLOCK_ID,
  parseJustifyMetadata,
} from './blocks.js';
import { escapeMrkdwn, replaceControlChars, truncateEscaped } from './escape.js';
import { toSdkLogger, type SlackLogger } from './slack-chat.js';
import { verifySlackRequest } from './request-verifier.js';

/** The slash command Vouch answers. */
export const VOUCH_COMMAND = '/vouch';
/** Largest request body accepted; Slack's payloads are far smaller. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** Answer 200 this long after a request arrived even if no listener acked (Slack waits 3 s). */
export const DEFAULT_ACK_TIMEOUT_MS = 2500;

/** What the receiver logs (the same shape SlackChat takes). */
export type SlackReceiverLogger = SlackLogger;

export interface SlackReceiverOptions {
  signingSecret: string;
  /** Used only by Bolt's per-request client; the receiver itself makes no Web API calls. */
  botToken: string;
  /** Web API base URL for that client; default Slack's. */
  apiUrl?: string;
  /** Judges request timestamps (5 minutes either way). */
  clock: Clock;
  handlers: InteractionHandlers;
  /** Default: console warnings and errors, no debug output. */
  logger?: SlackReceiverLogger;
  /** Default 2,500 ms. */
  ackTimeoutMs?: number;
  /** Default 1 MiB; larger bodies get 413. */
  bodyLimitBytes?: number;
}

export interface SlackReceiver {
  /**
   * Serves one request to the Slack endpoint. Resolves once the response is written and the
   * handlers it triggered have finished; never rejects.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Builds the receiver. Construction makes no network call. Throws ConfigError without secrets. */
export function createSlackReceiver(options: SlackReceiverOptions): SlackReceiver {
  if (options.signingSecret === '') throw new ConfigError('slack.signing_secret', 'is required (SLACK_SIGNING_SECRET)');
  if (options.botToken === '') throw new ConfigError('slack.bot_token', 'is required (SLACK_BOT_TOKEN)');
  const logger = options.logger ?? consoleLogger;
  const bridge = new BoltBridge();
  const app = new App({
    receiver: bridge,
    // A fixed authorization: Bolt would otherwise call auth.test (at start-up or per event).
    authorize: async () => ({ botToken: options.botToken }),
    clientOptions: { slackApiUrl: options.apiUrl, retryConfig: { retries: 0 } },
    logger: toSdkLogger(logger),
    logLevel: LogLevel.WARN,
    ignoreSelf: false,
    convoStore: false,
  });
  registerListeners(app, options.handlers, logger);
  const settings = {
    signingSecret: options.signingSecret,
    clock: options.clock,
    logger,
    bridge,
    ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
  };
  return { handle: (req, res) => handleRequest(settings, req, res) };
}

/** A Bolt receiver that owns no server: requests come in through handleRequest. */
class BoltBridge implements Receiver {
  private app: App | undefined;

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  dispatch(event: ReceiverEvent): Promise<void> {
    if (this.app === undefined) throw new Error('Slack receiver used before the Bolt app was initialised');
    return this.app.processEvent(event);
  }
}

interface RequestSettings {
  signingSecret: string;
  clock: Clock;
  logger: SlackReceiverLogger;
  bridge: BoltBridge;
  ackTimeoutMs: number;
  bodyLimitBytes: number;
}

async function handleRequest(settings: RequestSettings, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = new OnceResponse(res);
  try {
    if (req.method !== 'POST') throw new RequestError(405, 'only POST is accepted');
    const raw = await readBody(req, settings.bodyLimitBytes);
    const verdict = verifySlackRequest({
      signingSecret: settings.signingSecret,
      timestampHeader: req.headers['x-slack-request-timestamp'],
      signatureHeader: req.headers['x-slack-signature'],
      rawBody: raw,
      now: settings.clock.now(),
    });
    if (!verdict.ok) {
      settings.logger.warn('rejected a Slack request', { reason: verdict.reason });
      throw new RequestError(401, 'invalid request signature');
    }
    const parsed = parseSlackBody(new TextDecoder().decode(raw), req.headers['content-type']);
    if (parsed.kind === 'ssl_check') reply.send(200);
    else if (parsed.kind === 'url_verification') reply.send(200, { challenge: parsed.challenge });
    else await dispatch(settings, parsed.body, reply);
  } catch (error) {
    if (error instanceof RequestError) {
      reply.send(error.status, error.message);
      return;
    }
    settings.logger.error('Slack request failed', { error: coerceError(error).message });
    reply.send(500, 'internal error');
  }
}

async function dispatch(settings: RequestSettings, body: Record<string, unknown>, reply: OnceResponse): Promise<void> {
  const deadline = setTimeout(() => {
    if (reply.send(200)) settings.logger.warn('no ack within the deadline; answered 200', { ms: settings.ackTimeoutMs });
  }, settings.ackTimeoutMs);
  try {
    await settings.bridge.dispatch({
      body,
      ack: async (response?: unknown) => {
        if (!reply.send(200, response)) settings.logger.debug('late or repeated ack ignored');
      },
    });
  } catch (error) {
    // Listeners catch their own errors; this is Bolt itself failing (e.g. an unparseable body).
    settings.logger.error('Bolt failed to process a Slack request', { error: coerceError(error).message });
  } finally {
    clearTimeout(deadline);
    // Nothing acked (an unknown action, an event without listeners): Slack still wants a 200.
    reply.send(200);
  }
}

type ParsedBody =
  | { kind: 'ssl_check' }
  | { kind: 'url_verification'; challenge: string }
  | { kind: 'dispatch'; body: Record<string, unknown> };

/** Interactivity is form-encoded `payload=<json>`, slash commands plain form, events JSON. */
function parseSlackBody(text: string, contentTypeHeader: string | undefined): ParsedBody {
  const mediaType = (contentTypeHeader ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    const payload = form.get('payload');
    if (payload !== null) return { kind: 'dispatch', body: jsonObjectBody(payload) };
    if (form.get('ssl_check') !== null) return { kind: 'ssl_check' };
    if (form.get('command') !== null) return { kind: 'dispatch', body: Object.fromEntries(form) };
    throw new RequestError(400, 'form body has neither payload nor command');
  }
  if (mediaType === 'application/json') {
    const body = jsonObjectBody(text);
    if (body.type === 'url_verification') {
      if (typeof body.challenge !== 'string') throw new RequestError(400, 'url_verification without a challenge');
      return { kind: 'url_verification', challenge: body.challenge };
    }
    return { kind: 'dispatch', body };
  }
  throw new RequestError(415, 'expected application/x-www-form-urlencoded or application/json');
}

/** Writes the HTTP response at most once; later attempts report false. */
class OnceResponse {
  private sent = false;

  constructor(private readonly res: ServerResponse) {}

  send(status: number, body?: unknown): boolean {
    if (this.sent || this.res.headersSent || this.res.writableEnded) return false;
    this.sent = true;
    if (body === undefined || body === '') {
      this.res.writeHead(status, { 'content-length': '0' }).end();
    } else if (typeof body === 'string') {
      this.res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    } else {
      this.res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Listeners: read the payload, ack, call the handler. Payloads are read defensively (a signed
// request is from Slack, but its shape is still checked rather than trusted).

function registerListeners(app: App, handlers: InteractionHandlers, logger: SlackReceiverLogger): void {
  app.action(CONFIRM_ACTION_ID, async ({ ack, body }) => {
    await ack();
    await runButton('onConfirm', body, (click) => handlers.onConfirm(click), logger);
  });
  app.action(DENY_ACTION_ID, async ({ ack, body }) => {
    await ack();
    await runButton('onDeny', body, (click) => handlers.onDeny(click), logger);
  });
  app.view(JUSTIFY_CALLBACK_ID, async ({ ack, body }) => {
    await ack(await justify(body, handlers, logger));
  });
  app.command(VOUCH_COMMAND, async ({ ack, command }) => {
    await ack({ response_type: 'ephemeral', text: await commandReply(command, handlers, logger) });
  });
}

async function runButton(
  name: string,
  body: unknown,
  handler: (click: ButtonClick) => Promise<void>,
  logger: SlackReceiverLogger,
): Promise<void> {
  const click = toButtonClick(body);
  if (click === null) {
    logger.warn('ignored a button click without an alert id, user or trigger');
    return;
  }
  try {
    await handler(click);
  } catch (error) {
    logger.error(`${name} failed`, { alertId: click.alertId, error: coerceError(error).message });
  }
}

/** The click on a `vouch.confirm`/`vouch.deny` button, or null when the payload lacks a field. */
export function toButtonClick(body: unknown): ButtonClick | null {
  const root = record(body);
  const action = record(array(root.actions)[0]);
  const alertId = text(action.value);
  const chatUserId = text(record(root.user).id);
  const triggerId = text(root.trigger_id);
  if (alertId === undefined || chatUserId === undefined || triggerId === undefined) return null;
  return { alertId, chatUserId, triggerId, question: questionOf(root) };
}

function questionOf(root: Record<string, unknown>): MessageRef | null {
  const container = record(root.container);
  const channel = text(container.channel_id) ?? text(record(root.channel).id);
  const ts = text(container.message_ts) ?? text(record(root.message).ts);
  return channel !== undefined && ts !== undefined ? { channel, ts } : null;
}

type ViewAck = undefined | { response_action: 'errors'; errors: Record<string, string> };

async function justify(body: unknown, handlers: InteractionHandlers, logger: SlackReceiverLogger): Promise<ViewAck> {
  const root = record(body);
  const view = record(root.view);
  const values = stateValues(view);
  const metadata = parseJustifyMetadata(text(view.private_metadata));
  const chatUserId = text(record(root.user).id);
  if (metadata === null || chatUserId === undefined) {
    logger.warn('ignored a justification without alert metadata or user');
    return formErrors(values, { [REASON_ACTION_ID]: 'This form is out of date. Please click the button again.' });
  }
  const reason = findValue(values, REASON_ACTION_ID) ?? '';
  try {
    const result = await handlers.onJustify({ alertId: metadata.alertId, chatUserId, reason, question: metadata.question });
    return result.ok ? undefined : formErrors(values, result.errors);
  } catch (error) {
    logger.error('onJustify failed', { alertId: metadata.alertId, error: coerceError(error).message });
    return formErrors(values, { [REASON_ACTION_ID]: 'Something went wrong. Please try again.' });
  }
}

type StateValues = Record<string, Record<string, unknown>>;

function stateValues(view: Record<string, unknown>): StateValues {
  const values = record(record(view.state).values);
  return Object.fromEntries(Object.entries(values).map(([blockId, actions]) => [blockId, record(actions)]));
}

function findValue(values: StateValues, actionId: string): string | undefined {
  for (const actions of Object.values(values)) {
    if (Object.hasOwn(actions, actionId)) return text(record(actions[actionId]).value);
  }
  return undefined;
}

/** Slack keys modal errors by block id; handlers speak in action ids. */
function formErrors(values: StateValues, byAction: Record<string, string>): ViewAck {
  const errors: Record<string, string> = {};
  for (const [actionId, message] of Object.entries(byAction)) {
    const blockId = Object.keys(values).find((id) => Object.hasOwn(values[id] ?? {}, actionId));
    errors[blockId ?? (actionId === REASON_ACTION_ID ? REASON_BLOCK_ID : actionId)] = message;
  }
  return { response_action: 'errors', errors };
}

async function commandReply(command: unknown, handlers: InteractionHandlers, logger: SlackReceiverLogger): Promise<string> {
  const fields = record(command);
  const chatUserId = text(fields.user_id);
  const channel = text(fields.channel_id);
  if (chatUserId === undefined || channel === undefined) return 'This command needs a user and a channel.';
  try {
    const reply = await handlers.onCommand({ chatUserId, channel, text: typeof fields.text === 'string' ? fields.text : '' });
    // The reply may quote user-supplied text; escape it like every other message we send.
    return truncateEscaped(escapeMrkdwn(replaceControlChars(reply === '' ? 'Done.' : reply)), 3000);
  } catch (error) {
    logger.error('onCommand failed', { error: coerceError(error).message });
    return 'Sorry, that did not work. Please try again later.';
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Logging

const consoleLogger: SlackReceiverLogger = {
  debug: () => {},
  warn: (message, context) => console.warn(`[slack] ${message}`, context ?? ''),
  error: (message, context) => console.error(`[slack] ${message}`, context ?? ''),
};
