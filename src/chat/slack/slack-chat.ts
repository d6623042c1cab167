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
import type { ChatPort, ContactTarget, JustificationForm, MessageRef, PostPlace, PostPurpose, PostedAbout } from '../chat-port.js';
import type { HealthNoticeView, SystemDigestView } from '../quiet-views.js';
import { digestMessage, healthNoticeMessage, healthRecoveryMessage } from './quiet-blocks.js';
import {
  escalationMessage,
  justificationModal,
  outcomeMessage,
  questionMessage,
  reminderMessage,
  repeatsMessage,
  SLACK_LIMITS,
  type SlackMessage,
} from './blocks.js';
import { escapeMrkdwn, replaceControlChars, truncateEscaped } from './escape.js';
import { announcementMessage, contactEndedMessage, contactMessage, outcomeReplyMessage, reminderEndedMessage } from './ladder-blocks.js';

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
  /**
   * Posts go through a client that never retries by itself: a post whose answer was lost may
   * have happened, and only a look at the channel (findPosted) can tell before trying again.
   */
  private readonly poster: WebClient;
  private readonly securityChannel: string;
  /** Tries of a post Slack answers with 429: the configured retries, plus the first try. */
  private readonly postAttempts: number;
  private readonly logger: SlackLogger | undefined;

  constructor(options: SlackChatOptions) {
    this.securityChannel = options.securityChannel;
    this.postAttempts = 1 + (options.retryConfig ?? FIVE_RETRIES_IN_FIVE_MINUTES).retries!;
    this.logger = options.logger;
    const common = {
      slackApiUrl: options.apiUrl,
      timeout: options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
      // The SDK logs every rate-limit pause at info level; our callers see failures as ChatError.
      ...(options.logger === undefined ? { logLevel: LogLevel.WARN } : { logger: toSdkLogger(options.logger) }),
    };
    this.client = new WebClient(options.botToken, { ...common, retryConfig: options.retryConfig ?? FIVE_RETRIES_IN_FIVE_MINUTES });
    this.poster = new WebClient(options.botToken, { ...common, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
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
    return this.post(channel, questionMessage(alert), postKey(alert, 'question'));
  }

  async remindOwner(alert: AlertView, question: MessageRef): Promise<MessageRef> {
    return this.post(question.channel, reminderMessage(alert), postKey(alert, 'reminder'));
  }

  async showOutcome(alert: AlertView, question: MessageRef): Promise<void> {
    // A question still waiting for its answer keeps its buttons (its conversation grew).
    const message = alert.status === 'asked' || alert.status === 'new' ? questionMessage(alert) : outcomeMessage(alert);
    await this.call('chat.update', () =>
      this.client.chat.update({ channel: question.channel, ts: question.ts, text: message.text, blocks: message.blocks }),
    );
  }

  async escalate(alert: AlertView): Promise<MessageRef> {
    return this.post(this.securityChannel, escalationMessage(alert), postKey(alert, 'escalation'));
  }

  async noteRepeats(alert: AlertView, escalation: MessageRef, repeats: ReadonlyArray<{ host: string; command: string; occurredAt: Date }>, from: number): Promise<void> {
    await this.post(escalation.channel, repeatsMessage(alert, repeats), { ...postKey(alert, 'repeats'), part: from, count: repeats.length }, escalation.ts);
  }

  async findRepeatsNoted(alert: PostedAbout, escalation: MessageRef, from: number): Promise<number | null> {
    const found = await this.findInThreadWith(escalation, { ...postKey(alert, 'repeats'), part: from });
    const count = found?.payload.count;
    return found === null ? null : typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 1;
  }

  async findPosted(alert: PostedAbout, purpose: PostPurpose, place: PostPlace, since: Date): Promise<MessageRef | null> {
    const key = postKey(alert, purpose);
    if (place !== 'security' && 'thread' in place) return this.findInThread(place.thread, key);
    const channel = place === 'security' ? this.securityChannel : await this.openDm(place.chatUserId);
    return this.findInHistory(channel, key, since);
  }

  async userTimeZone(chatUserId: string): Promise<string | null> {
    const result = await this.call('users.info', () => this.client.users.info({ user: chatUserId }));
    const tz = result.user?.tz;
    return typeof tz === 'string' && tz !== '' ? tz : null;
  }

  async showReminderEnded(alert: AlertView, reminder: MessageRef): Promise<void> {
    await this.update(reminder, reminderEndedMessage(alert));
  }

  async notifyContact(alert: AlertView, target: ContactTarget, waitedMs: number): Promise<MessageRef> {
    const channel = 'chatUserId' in target ? await this.openDm(target.chatUserId) : this.securityChannel;
    return this.post(channel, contactMessage(alert, target, waitedMs), postKey(alert, 'contact'));
  }

  async showContactEnded(alert: AlertView, contact: MessageRef): Promise<void> {
    await this.update(contact, contactEndedMessage(alert));
  }

  async announce(alert: AlertView): Promise<MessageRef> {
    return this.post(this.securityChannel, announcementMessage(alert), postKey(alert, 'announcement'));
  }

  async updateAnnouncement(alert: AlertView, announcement: MessageRef): Promise<void> {
    await this.update(announcement, announcementMessage(alert));
  }

  async escalateInPlace(alert: AlertView, announcement: MessageRef): Promise<boolean> {
    try {
      await this.update(announcement, escalationMessage(alert), postKey(alert, 'escalation'));
      return true;
    } catch (error) {
      // Slack answered no (message_not_found, cant_update_message...): the escalation must still
      // reach the channel, as a post of its own. A transport failure is retried instead.
      if (error instanceof ChatError && error.cause instanceof WebAPIPlatformError) return false;
      throw error;
    }
  }

  async postOutcome(alert: AlertView, announcement: MessageRef): Promise<MessageRef> {
    return this.post(announcement.channel, outcomeReplyMessage(alert), postKey(alert, 'outcome'), announcement.ts);
  }

  /** Rewrites a message; with a key, its metadata too (what findPosted then sees). */
  private async update(ref: MessageRef, message: SlackMessage, key?: PostKey): Promise<void> {
    await this.call('chat.update', () =>
      this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks, ...(key ? { metadata: metadataOf(key) } : {}) }),
    );
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

  async postDigest(digest: SystemDigestView): Promise<MessageRef> {
    return this.post(this.securityChannel, digestMessage(digest));
  }

  async postHealthNotice(notice: HealthNoticeView): Promise<MessageRef> {
    return this.post(this.securityChannel, healthNoticeMessage(notice));
  }

  async postHealthRecovery(notice: HealthNoticeView, thread: MessageRef): Promise<MessageRef> {
    return this.post(thread.channel, healthRecoveryMessage(notice), undefined, thread.ts);
  }

  private async openDm(chatUserId: string): Promise<string> {
    const result = await this.call('conversations.open', () => this.client.conversations.open({ users: chatUserId }));
    const id = result.channel?.id;
    if (id === undefined) throw new ChatError('Slack conversations.open failed: no channel id in the response');
    return id;
  }

  /**
   * Posts once. When the answer is lost (a timeout, a dropped connection) the post may still have
   * happened: the channel is looked at before the failure is reported, so the caller's retry
   * does not post a second copy. Posts with no key (digests, health notices) carry no metadata;
   * their callers claim them in the database before posting.
   */
  private async post(channel: string, message: SlackMessage, key?: PostKey, threadTs?: string): Promise<MessageRef> {
    let result: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      result = await this.postRateLimited(() =>
        this.poster.chat.postMessage({
          channel,
          ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
          text: message.text,
          blocks: message.blocks,
          ...(key ? { metadata: metadataOf(key) } : {}),
          // Never let Slack fetch previews of URLs that appear in attacker-controlled text.
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    } catch (error) {
      const failure = toChatError('chat.postMessage', error);
      if (!key || !outcomeUnknown(error)) throw failure;
      // Newest first and no lower bound: this clock and Slack's may disagree, and a message just
      // posted is among the newest anyway.
      const lookup = threadTs ? this.findInThread({ channel, ts: threadTs }, key) : this.findInHistory(channel, key, null);
      const found = await lookup.catch(() => null);
      if (found) return found;
      throw failure;
    }
    if (result.channel === undefined || result.ts === undefined) {
      throw new ChatError('Slack chat.postMessage failed: no channel or ts in the response');
    }
    return { channel: result.channel, ts: result.ts };
  }

  /** A rate-limited post was not made: it is safe to wait as Slack asks and send it again. */
  private async postRateLimited<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof WebAPIRateLimitedError) || attempt >= this.postAttempts) throw error;
        this.logger?.warn(`Slack rate limit on chat.postMessage; retrying in ${error.retryAfter} s`, { attempt });
        await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfter, 30) * 1000));
      }
    }
  }

  /** Pages through the channel's history since `since` for the message carrying `key`. */
  private async findInHistory(channel: string, key: PostKey, since: Date | null): Promise<MessageRef | null> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page += 1) {
      const result = await this.call('conversations.history', () =>
        this.client.conversations.history({
          channel,
          ...(since ? { oldest: (Math.max(0, since.getTime() - HISTORY_SLACK_MS) / 1000).toFixed(6) } : {}),
          limit: 200,
          include_all_metadata: true,
          ...(cursor ? { cursor } : {}),
        }),
      );
      for (const message of result.messages ?? []) {
        const metadata = message.metadata;
        if (carriesKey(metadata, key) && message.ts) {
          return { channel, ts: message.ts };
        }
      }
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!result.has_more || !cursor) return null;
    }
    return null;
  }

  /** Looks through a thread's replies (conversations.replies) for the message carrying `key`. */
  private async findInThread(thread: MessageRef, key: PostKey): Promise<MessageRef | null> {
    return (await this.findInThreadWith(thread, key))?.ref ?? null;
  }

  /** A reply in `thread` that carries `key`, and its metadata's payload. */
  private async findInThreadWith(thread: MessageRef, key: PostKey): Promise<{ ref: MessageRef; payload: Record<string, unknown> } | null> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page += 1) {
      const result = await this.call('conversations.replies', () =>
        this.client.conversations.replies({ channel: thread.channel, ts: thread.ts, limit: 200, include_all_metadata: true, ...(cursor ? { cursor } : {}) }),
      );
      for (const message of result.messages ?? []) {
        const metadata = message.metadata;
        if (message.ts !== thread.ts && carriesKey(metadata, key) && message.ts) {
          return { ref: { channel: thread.channel, ts: message.ts }, payload: (metadata?.event_payload ?? {}) as Record<string, unknown> };
        }
      }
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!result.has_more || !cursor) return null;
    }
    return null;
  }

  private async call<T>(method: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toChatError(method, error);
    }
  }
}

interface PostKey {
  alertId: string;
  purpose: PostPurpose | 'repeats';
  /** The alert's round: a message of an earlier round (before "Ask again") is not this one's. */
  round: number;
  /** Which of several posts of one purpose (a repeats reply: the first repeat it lists). */
  part?: number;
  /** Carried in the metadata, not compared: how many repeats the reply lists. */
  count?: number;
}

function postKey(alert: PostedAbout, purpose: PostKey['purpose']): PostKey {
  return { alertId: alert.id, purpose, round: alert.round ?? 0 };
}

/** Clocks differ: history is searched from a little before the time asked for. */
const HISTORY_SLACK_MS = 60_000;
/** A search gives up after this many pages of 200 (a channel busier than that is not a DM). */
const HISTORY_MAX_PAGES = 10;

function eventTypeOf(purpose: PostKey['purpose']): string {
  return `vouch_${purpose}`;
}

/** The message metadata that names what a message is for and which alert it is about. */
function metadataOf(key: PostKey): { event_type: string; event_payload: { alert_id: string; round: number; part?: number; count?: number } } {
  const payload = { alert_id: key.alertId, round: key.round, ...(key.part === undefined ? {} : { part: key.part }), ...(key.count === undefined ? {} : { count: key.count }) };
  return { event_type: eventTypeOf(key.purpose), event_payload: payload };
}

/** True when a message's metadata is the one `key` describes (messages posted before rounds existed are round 0). */
function carriesKey(metadata: { event_type?: string; event_payload?: unknown } | undefined, key: PostKey): boolean {
  if (metadata?.event_type !== eventTypeOf(key.purpose)) return false;
  const payload = metadata.event_payload as Record<string, unknown> | undefined;
  return payload?.alert_id === key.alertId && (payload.round ?? 0) === key.round && (key.part === undefined || payload.part === key.part);
}

/**
 * Whether a failed call may still have been carried out: the request may have reached Slack and
 * only its answer was lost. A platform error (`ok:false`) or a rate limit means it was not.
 */
function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof WebAPIPlatformError || error instanceof WebAPIRateLimitedError);
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
