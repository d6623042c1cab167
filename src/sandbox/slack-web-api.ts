/**
 * The simulated Slack Web API: `POST <base>/<method>` with a bearer token and a form (or JSON)
 * body, answered with HTTP 200 JSON (`ok:true` plus fields, or `ok:false` plus an error code), or
 * 429 + Retry-After. Messages and modals are checked against Block Kit's limits, so a test that
 * posts through it proves the message would be accepted.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../errors.js';
import { bearerToken } from '../http/bearer-token.js';
import { readBody } from '../http/request-body.js';
import { validateBlocks, validateModal } from './block-kit-validation.js';
import { initialState, messageJson, parseJson, record, viewJson } from './slack-payloads.js';
import {
  BOT,
  TEAM,
  TRIGGER_TTL_MS,
  dmIdFor,
  type SimulatedMetadata,
  type SimulatedUser,
  type SimulatedView,
  type WorkspaceState,
} from './slack-workspace.js';

export interface SimulatedCall {
  method: string;
  /** Form or JSON arguments, with `blocks`, `view` and `attachments` JSON-decoded; token removed. */
  args: Record<string, unknown>;
  at: Date;
  /** HTTP status answered (200 or 429). */
  status: number;
  /** The JSON answered (for a 429, `{ ok: false, error: 'ratelimited' }`). */
  response: Record<string, unknown>;
}

/** Web API request bodies larger than this are refused. */
const API_BODY_LIMIT = 8 * 1024 * 1024;

/** An `ok:false` answer from a Web API method. */
class ApiFailure extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

type Args = Record<string, unknown>;
type Method = (args: Args) => Record<string, unknown>;

export class SlackWebApi {
  private readonly recorded: SimulatedCall[] = [];
  private readonly rateLimits = new Map<string, { count: number; retryAfter: number }>();
  private readonly failures = new Map<string, string[]>();
  private readonly lostResponses = new Map<string, number>();
  private readonly droppedRequests = new Map<string, number>();
  private readonly methods: Record<string, Method>;

  constructor(
    private readonly state: WorkspaceState,
    private readonly botToken: string,
  ) {
    this.methods = {
      'auth.test': () => authTest(),
      'users.lookupByEmail': (args) => ({ user: userJson(this.userByEmail(args.email)) }),
      'users.info': (args) => ({ user: userJson(this.userById(args.user)) }),
      'conversations.open': (args) => this.conversationsOpen(args),
      'chat.postMessage': (args) => this.postMessage(args),
      'chat.update': (args) => this.updateMessage(args),
      'chat.postEphemeral': (args) => this.postEphemeral(args),
      'conversations.history': (args) => this.conversationsHistory(args),
      'conversations.replies': (args) => this.conversationsReplies(args),
      'views.open': (args) => this.openView(args),
    };
  }

  /** Serves one Web API request; `path` is the method path, e.g. `/chat.postMessage`. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [methodPath = '', query = ''] = path.split('?', 2);
    const method = methodPath.replace(/^\/+/, '');
    let args: Args = {};
    try {
      const raw = await readBodyText(req);
      args = { ...Object.fromEntries(new URLSearchParams(query)), ...parseArgs(raw, req.headers['content-type']) };
      const token = bearerToken(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
      delete args.token;
      if (token === undefined) throw new ApiFailure('not_authed');
      if (token !== this.botToken) throw new ApiFailure('invalid_auth');
      const limit = this.rateLimits.get(method);
      if (limit !== undefined && limit.count > 0) {
        limit.count -= 1;
        return this.answer(res, method, args, 429, { ok: false, error: 'ratelimited' }, limit.retryAfter);
      }
      const failure = this.failures.get(method)?.shift();
      if (failure !== undefined) throw new ApiFailure(failure);
      const dropped = this.droppedRequests.get(method) ?? 0;
      if (dropped > 0) {
        this.droppedRequests.set(method, dropped - 1);
        this.recorded.push({ method, args, at: this.state.clock.now(), status: 0, response: { ok: false, error: 'dropped before it was carried out' } });
        req.socket.destroy();
        return;
      }
      const implementation = this.methods[method];
      if (implementation === undefined) throw new ApiFailure('unknown_method');
      const body = { ok: true, ...implementation(args) };
      const lost = this.lostResponses.get(method) ?? 0;
      if (lost > 0) {
        this.lostResponses.set(method, lost - 1);
        this.recorded.push({ method, args, at: this.state.clock.now(), status: 0, response: body });
        req.socket.destroy();
        return;
      }
      this.answer(res, method, args, 200, body);
    } catch (error) {
      // Slack answers its own failures, even internal ones, as HTTP 200 with ok:false.
      const failure = error instanceof ApiFailure ? error : new ApiFailure('fatal_error');
      if (!res.headersSent) this.answer(res, method, args, 200, { ok: false, error: failure.code, ...failure.extra });
    }
  }

  calls(method?: string): SimulatedCall[] {
    return this.recorded.filter((call) => method === undefined || call.method === method);
  }

  rateLimitNext(method: string, count: number, retryAfterSeconds: number): void {
    this.rateLimits.set(method, { count, retryAfter: retryAfterSeconds });
  }

  failNext(method: string, errorCode: string, count = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(errorCode);
    this.failures.set(method, queue);
  }

  /** Carries out the next `count` calls of `method` and drops the connection instead of answering. */
  loseResponseNext(method: string, count = 1): void {
    this.lostResponses.set(method, (this.lostResponses.get(method) ?? 0) + count);
  }

  /** Drops the connection of the next `count` calls of `method` without carrying them out. */
  dropRequestNext(method: string, count = 1): void {
    this.droppedRequests.set(method, (this.droppedRequests.get(method) ?? 0) + count);
  }

  private answer(
    res: ServerResponse,
    method: string,
    args: Args,
    status: number,
    body: Record<string, unknown>,
    retryAfter?: number,
  ): void {
    this.recorded.push({ method, args, at: this.state.clock.now(), status, response: body });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  // --- Methods -----------------------------------------------------------------------------

  private conversationsOpen(args: Args): Record<string, unknown> {
    const users = typeof args.users === 'string' ? args.users.split(',').filter((id) => id !== '') : [];
    if (users.length === 0) throw new ApiFailure('users_list_not_supplied');
    // Group DMs are not needed by Vouch; say so rather than pretend.
    if (users.length > 1) throw new ApiFailure('not_supported');
    const user = this.userById(users[0]);
    const existed = this.state.channels.has(dmIdFor(user.id));
    return { no_op: existed, already_open: existed, channel: { id: this.state.dmChannelFor(user.id) } };
  }

  private postMessage(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const { text, blocks } = this.messageContent(args);
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : null;
    const metadata = messageMetadata(args.metadata);
    const message = this.state.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs, ephemeralTo: null, metadata });
    return { channel, ts: message.ts, message: messageJson(message) };
  }

  /**
   * conversations.history: a channel's top-level messages (thread replies are not listed; their
   * parents are), newest first, from `oldest` and before `latest`, `limit` per page with a cursor.
   * Metadata is included only with `include_all_metadata`, as Slack does.
   */
  private conversationsHistory(args: Args): Record<string, unknown> {
    // A channel nothing was posted in yet exists all the same (the bot was invited): it lists nothing.
    const channel = this.resolveChannel(args.channel);
    const oldest = Number(args.oldest ?? 0);
    const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest);
    const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100) || 100));
    const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new ApiFailure('invalid_cursor');
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
    const listed = this.state.log
      .filter((m) => m.channel === channel && m.ephemeralTo === null && (m.threadTs === null || m.threadTs === m.ts))
      .filter((m) => Number(m.ts) >= oldest && Number(m.ts) < latest)
      .reverse();
    const page = listed.slice(offset, offset + limit);
    const hasMore = offset + limit < listed.length;
    return {
      messages: page.map((m) => ({ ...messageJson(m), ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) })),
      has_more: hasMore,
      pin_count: 0,
      response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
    };
  }

  /**
   * conversations.replies: a thread's parent and its replies, oldest first, `limit` per page with a
   * cursor; metadata only with `include_all_metadata`. An unknown parent is `thread_not_found`.
   */
  private conversationsReplies(args: Args): Record<string, unknown> {
    if (typeof args.channel !== 'string' || !this.state.channels.has(args.channel)) throw new ApiFailure('channel_not_found');
    const channel = args.channel;
    const parent = this.state.log.find((m) => m.channel === channel && m.ts === args.ts && m.ephemeralTo === null);
    if (parent === undefined) throw new ApiFailure('thread_not_found');
    const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100) || 100));
    const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new ApiFailure('invalid_cursor');
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
    const thread = [parent, ...this.state.log.filter((m) => m.channel === channel && m.ephemeralTo === null && m.threadTs === parent.ts && m.ts !== parent.ts)];
    const page = thread.slice(offset, offset + limit);
    const hasMore = offset + limit < thread.length;
    return {
      messages: page.map((m) => ({ ...messageJson(m), ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) })),
      has_more: hasMore,
      response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
    };
  }

  private updateMessage(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const message = this.state.log.find((m) => m.channel === channel && m.ts === args.ts && m.ephemeralTo === null);
    if (message === undefined) throw new ApiFailure('message_not_found');
    if (message.botId !== BOT.botId) throw new ApiFailure('cant_update_message');
    const text = args.text === undefined ? message.text : args.text;
    const blocks = args.blocks === undefined ? message.blocks : args.blocks;
    const content = this.messageContent({ text, blocks });
    // As Slack does: metadata given to chat.update replaces the message's; none given keeps it.
    const metadata = args.metadata === undefined ? message.metadata : messageMetadata(args.metadata);
    message.edits.push({ text: message.text, blocks: message.blocks, editedAt: this.state.clock.now() });
    message.text = content.text;
    message.blocks = content.blocks;
    message.metadata = metadata;
    return { channel, ts: message.ts, text: message.text, message: messageJson(message) };
  }

  private postEphemeral(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const user = this.userById(args.user);
    const { text, blocks } = this.messageContent(args);
    const message = this.state.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs: null, ephemeralTo: user.id });
    return { message_ts: message.ts };
  }

  private openView(args: Args): Record<string, unknown> {
    const triggerId = typeof args.trigger_id === 'string' ? args.trigger_id : undefined;
    if (triggerId === undefined) throw new ApiFailure('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
    const view = record(args.view);
    if (view === null) throw new ApiFailure('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view'] } });
    const userId = this.redeemTrigger(triggerId);
    const problems = validateModal(view);
    if (problems.length > 0) throw new ApiFailure('invalid_arguments', { response_metadata: { messages: problems } });
    const id = `V${this.state.nextId()}`;
    const now = this.state.clock.now();
    const simulated: SimulatedView = {
      id,
      userId,
      callbackId: typeof view.callback_id === 'string' ? view.callback_id : '',
      privateMetadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
      hash: `${Math.floor(now.getTime() / 1000)}.${randomBytes(4).toString('hex')}`,
      view,
      openedAt: now,
      open: true,
      errors: null,
    };
    this.state.views.set(id, simulated);
    return { view: viewJson(simulated, initialState(view)) };
  }

  /** Slack's trigger rules: issued by an interaction, used once, within about 3 s. */
  private redeemTrigger(triggerId: string): string {
    const trigger = this.state.triggers.get(triggerId);
    if (trigger === undefined) throw new ApiFailure('invalid_trigger_id');
    if (trigger.used) throw new ApiFailure('exchanged_trigger_id');
    if (this.state.clock.now().getTime() - trigger.issuedAt > TRIGGER_TTL_MS) throw new ApiFailure('expired_trigger_id');
    trigger.used = true;
    return trigger.userId;
  }

  private messageContent(args: Args): { text: string; blocks: unknown[] } {
    const text = typeof args.text === 'string' ? args.text : '';
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) throw new ApiFailure('invalid_blocks_format');
    const blocks = (args.blocks as unknown[] | undefined) ?? [];
    if (text === '' && blocks.length === 0) throw new ApiFailure('no_text');
    if (text.length > 40_000) throw new ApiFailure('msg_too_long');
    const problems = validateBlocks(blocks, 50, '/blocks');
    if (problems.length > 0) throw new ApiFailure('invalid_blocks', { response_metadata: { messages: problems } });
    return { text, blocks };
  }

  /** Channel ids as Slack accepts them: a DM, a user id (meaning the DM), or any C/G channel. */
  private resolveChannel(value: unknown): string {
    if (typeof value !== 'string' || value === '') throw new ApiFailure('channel_not_found');
    if (this.state.channels.has(value)) return value;
    if (/^[UW]/.test(value) && this.state.people.has(value)) return this.state.dmChannelFor(value);
    if (/^[CG][A-Z0-9]+$/.test(value)) {
      this.state.channels.set(value, { id: value, name: value.toLowerCase(), dmUser: null });
      return value;
    }
    throw new ApiFailure('channel_not_found');
  }

  private userById(id: unknown): SimulatedUser {
    const user = typeof id === 'string' ? this.state.people.get(id) : undefined;
    if (user === undefined) throw new ApiFailure('user_not_found');
    return user;
  }

  private userByEmail(email: unknown): SimulatedUser {
    const wanted = typeof email === 'string' ? email.toLowerCase() : '';
    const user = [...this.state.people.values()].find((candidate) => candidate.email.toLowerCase() === wanted);
    if (user === undefined) throw new ApiFailure('users_not_found');
    return user;
  }
}

function authTest(): Record<string, unknown> {
  return {
    url: `https://${TEAM.domain}.slack.com/`,
    team: TEAM.name,
    user: BOT.name,
    team_id: TEAM.id,
    user_id: BOT.userId,
    bot_id: BOT.botId,
    is_enterprise_install: false,
  };
}

/** The zone's current offset from UTC in seconds, as Slack's `tz_offset` reports it. */
function timeZoneOffsetSeconds(timeZone: string): number {
  try {
    const now = new Date();
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        .formatToParts(now)
        .map((part) => [part.type, Number(part.value)]),
    );
    const wall = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
    return Math.round((wall - Math.floor(now.getTime() / 1000) * 1000) / 1000);
  } catch {
    return 0;
  }
}

function userJson(user: SimulatedUser): Record<string, unknown> {
  return {
    id: user.id,
    team_id: user.teamId,
    name: user.name,
    deleted: false,
    real_name: user.realName,
    is_bot: false,
    tz: user.tz,
    tz_label: user.tz,
    tz_offset: timeZoneOffsetSeconds(user.tz),
    profile: { email: user.email, real_name: user.realName, display_name: user.name },
  };
}

/** The body as UTF-8; one over the limit is Slack's `request_too_large`. */
async function readBodyText(req: IncomingMessage): Promise<string> {
  try {
    return (await readBody(req, API_BODY_LIMIT)).toString('utf8');
  } catch (error) {
    throw new ApiFailure(error instanceof RequestError && error.status === 413 ? 'request_too_large' : 'invalid_arguments');
  }
}

/** Form fields (the SDK's encoding, with JSON strings for objects) or a JSON body. */
function parseArgs(raw: string, contentType: string | undefined): Args {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/json') {
    const parsed = record(parseJson(raw));
    if (parsed === null) throw new ApiFailure('invalid_json');
    return parsed;
  }
  const args: Args = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'view', 'attachments', 'metadata']) {
    const value = args[key];
    if (typeof value !== 'string') continue;
    const decoded = parseJson(value);
    if (decoded === undefined) throw new ApiFailure(key === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments');
    args[key] = decoded;
  }
  return args;
}

/** The `metadata` of chat.postMessage and chat.update: an event_type and an object payload, or nothing. */
function messageMetadata(value: unknown): SimulatedMetadata | null {
  if (value === undefined || value === null || value === '') return null;
  const metadata = record(value);
  const payload = metadata === null ? null : record(metadata.event_payload);
  if (metadata === null || typeof metadata.event_type !== 'string' || payload === null) throw new ApiFailure('invalid_metadata_format');
  return { event_type: metadata.event_type, event_payload: payload };
}
