/**
 * ChatPort over Slack's Web API (@slack/web-api WebClient). Rendering lives in blocks.ts; this file
 * only moves messages and turns every Slack failure into a ChatError naming the method and code.
 */
import {
  LogLevel,
  type Logger as SdkLogger,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type RetryOptions,
} from '@slack/web-api';
import type { AlertView } from '../../alerts/alert.js';
import { ChatError } from '../../errors.js';
import type { ChatPort, JustificationForm, MessageRef } from '../chat-port.js';
import {
  escalationMessage,
  justificationModal,
  outcomeMessage,
  questionMessage,
  reminderMessage,
  SLACK_LIMITS,
  type SlackMessage,
} from './blocks.js';
import { escapeMrkdwn, replaceControlChars, truncateEscaped } from './escape.js';

/**
 * The SDK's `retryPolicies.fiveRetriesInFiveMinutes`, spelled out: the SDK is CommonJS and Node's
 * ESM loader cannot see that export by name.
 */
const FIVE_RETRIES_IN_FIVE_MINUTES: RetryOptions = { retries: 5, factor: 3.86 };

export interface SlackChatOptions {
  /** Bot token (`xoxb-…`). */
  botToken: string;
  /** Web API base URL; default `https://slack.com/api/`. Point it at the simulator in tests. */
  apiUrl?: string;
  /** Channel id escalations are posted to; the bot must be a member. */
  securityChannel: string;
  /**
   * Retry policy for failed or rate-limited calls; default five retries over about five minutes
   * (the SDK's own default spans half an hour, too long for a worker holding a claimed timer).
   */
  retryConfig?: RetryOptions;
  /** Per-attempt timeout in ms; default 10,000. 0 means none. */
  timeoutMs?: number;
  /** Where the SDK's warnings go (retries, rate limits); default the console, warnings and up. */
  logger?: SlackLogger;
}

/** The logging the Slack adapters need; context values are plain data. */
export interface SlackLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** The Slack SDKs' logger interface over ours; their info chatter goes to debug. */
export function toSdkLogger(logger: SlackLogger): SdkLogger {
  const join = (parts: unknown[]): string => parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
  let level = LogLevel.WARN;
  return {
    debug: (...parts: unknown[]) => logger.debug(join(parts)),
    info: (...parts: unknown[]) => logger.debug(join(parts)),
    warn: (...parts: unknown[]) => logger.warn(join(parts)),
    error: (...parts: unknown[]) => logger.error(join(parts)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** Default per-attempt timeout: long enough for Slack, short enough not to stall a worker. */
export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/** Implements ChatPort with Slack DMs, message updates, a security channel and modals. */
export class SlackChat implements ChatPort {
  private readonly client: WebClient;
  private readonly securityChannel: string;

  constructor(options: SlackChatOptions) {
    this.securityChannel = options.securityChannel;
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      retryConfig: options.retryConfig ?? FIVE_RETRIES_IN_FIVE_MINUTES,
      timeout: options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
      // The SDK logs every rate-limit pause at info level; our callers see failures as ChatError.
      ...(options.logger === undefined ? { logLevel: LogLevel.WARN } : { logger: toSdkLogger(options.logger) }),
    });
  }

  async lookupUserByEmail(email: string): Promise<string | null> {
    try {
      const result = await this.client.users.lookupByEmail({ email });
      return result.user?.id ?? null;
    } catch (error) {
      if (error instanceof WebAPIPlatformError && error.data.error === 'users_not_found') return null;
      throw toChatError('users.lookupByEmail', error);
    }
  }

  async askOwner(alert: AlertView, chatUserId: string): Promise<MessageRef> {
    const channel = await this.openDm(chatUserId);
    return this.post(channel, questionMessage(alert));
  }

  async remindOwner(alert: AlertView, question: MessageRef): Promise<MessageRef> {
    return this.post(question.channel, reminderMessage(alert));
  }

  async showOutcome(alert: AlertView, question: MessageRef): Promise<void> {
    const message = outcomeMessage(alert);
    await this.call('chat.update', () =>
      this.client.chat.update({ channel: question.channel, ts: question.ts, text: message.text, blocks: message.blocks }),
    );
  }

  async escalate(alert: AlertView): Promise<MessageRef> {
    return this.post(this.securityChannel, escalationMessage(alert));
  }

  async openJustificationForm(triggerId: string, alert: AlertView, question: MessageRef, formKey?: string): Promise<JustificationForm> {
    const view = justificationModal(alert, question, formKey);
    const result = await this.call('views.open', () => this.client.views.open({ trigger_id: triggerId, view }));
    const viewId = result.view?.id;
    // Without the id no submission could ever be matched to this form: fail rather than orphan it.
    if (viewId === undefined || viewId === '') throw new ChatError('Slack views.open failed: no view id in the response');
    return { viewId };
  }

  async tellUser(channel: string, chatUserId: string, text: string): Promise<void> {
    // Callers may quote user-supplied text; escaping keeps it from becoming mentions or links.
    const safe = truncateEscaped(escapeMrkdwn(replaceControlChars(text)), SLACK_LIMITS.fallback);
    await this.call('chat.postEphemeral', () => this.client.chat.postEphemeral({ channel, user: chatUserId, text: safe }));
  }

  private async openDm(chatUserId: string): Promise<string> {
    const result = await this.call('conversations.open', () => this.client.conversations.open({ users: chatUserId }));
    const id = result.channel?.id;
    if (id === undefined) throw new ChatError('Slack conversations.open failed: no channel id in the response');
    return id;
  }

  private async post(channel: string, message: SlackMessage): Promise<MessageRef> {
    const result = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        // Never let Slack fetch previews of URLs that appear in attacker-controlled text.
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (result.channel === undefined || result.ts === undefined) {
      throw new ChatError('Slack chat.postMessage failed: no channel or ts in the response');
    }
    return { channel: result.channel, ts: result.ts };
  }

  private async call<T>(method: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toChatError(method, error);
    }
  }
}

/** Names the method and Slack's own error code (or the transport failure) in the message. */
export function toChatError(method: string, error: unknown): ChatError {
  return new ChatError(`Slack ${method} failed: ${describeSlackError(error)}`, { cause: error });
}

function describeSlackError(error: unknown): string {
  if (error instanceof WebAPIPlatformError) return error.data.error;
  if (error instanceof WebAPIRateLimitedError) return `rate_limited (retry after ${error.retryAfter} s)`;
  if (error instanceof WebAPIHTTPError) return `http_${error.statusCode} ${error.statusMessage}`;
  if (error instanceof WebAPIRequestError) return `request_failed (${error.original.message})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
