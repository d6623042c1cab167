/**
 * A Slack workspace in a box, speaking Slack's real wire protocols in both directions:
 *
 * - Web API: `POST <base>/<method>` with a bearer token and a form (or JSON) body, answered with
 *   HTTP 200 JSON (`ok:true` plus fields, or `ok:false` plus an error code), or 429 + Retry-After.
 *   Messages and modals are checked against Block Kit's limits, so a test that posts through it
 *   proves the message would be accepted.
 * - Interactivity: button clicks, modal submissions and slash commands are built in Slack's payload
 *   shapes, signed with the signing secret (v0 HMAC-SHA256) and POSTed to the app's request URL.
 *
 * It serves tests, the local sandbox (a person clicks through DMs in a browser) and benchmarks.
 * Only node built-ins are used. State lives in memory; it is a simulator, not a store.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError, NotFoundError } from '../errors.js';

export interface SlackSimulatorOptions {
  /** The only token the Web API accepts. */
  botToken: string;
  /** Signs interactivity requests, like the app's Slack signing secret. */
  signingSecret: string;
  /** Where interactivity goes, e.g. http://127.0.0.1:8080/slack/events; settable later. */
  requestUrl?: string;
  /** Drives message timestamps, trigger expiry and request signing; default the system clock. */
  clock?: Clock;
}

export interface SimulatedUser {
  id: string;
  teamId: string;
  name: string;
  realName: string;
  email: string;
}

export interface SimulatedEdit {
  text: string;
  blocks: unknown[];
  editedAt: Date;
}

export interface SimulatedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** The author when a person posted; for the bot this is the bot's user id. */
  user: string;
  /** Set when the bot posted. */
  botId: string | null;
  threadTs: string | null;
  /** Set for ephemeral messages: only this user sees them. */
  ephemeralTo: string | null;
  postedAt: Date;
  /** Earlier versions, oldest first; the current text and blocks are on the message itself. */
  edits: SimulatedEdit[];
  /** Message metadata the app attached (`metadata` of chat.postMessage), or null. */
  metadata?: SimulatedMetadata | null;
}

export interface SimulatedMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

export interface SimulatedView {
  id: string;
  userId: string;
  callbackId: string;
  privateMetadata: string;
  hash: string;
  /** The view as the app sent it (JSON-decoded). */
  view: Record<string, unknown>;
  openedAt: Date;
  open: boolean;
  /** Per-block errors from the last submission answered with `response_action: errors`. */
  errors: Record<string, string> | null;
}

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

/** What the app answered to an interaction the simulator sent. */
export interface InteractionResponse {
  status: number;
  body: string;
  /** The body parsed as JSON when it is JSON; otherwise undefined. */
  json: unknown;
}

export interface SignedRequestOptions {
  /** Unix seconds; default the simulator clock's now. */
  timestamp?: number | string;
  /** Default the simulator's signing secret. */
  secret?: string;
  /** Default exactly `application/x-www-form-urlencoded`, as Slack sends. */
  contentType?: string;
  /** Overrides the computed `X-Slack-Signature` header. */
  signature?: string;
}

export interface SlackSimulator {
  /** Serves one Web API request; `path` is the method path, e.g. `/chat.postMessage`. Never rejects. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Serves the Web API at `<url>` (ends with `/api/`) on 127.0.0.1; port 0 picks a free one. */
  listen(port?: number): Promise<{ url: string; close(): Promise<void> }>;
  setRequestUrl(url: string): void;
  addUser(user: { id?: string; name: string; email: string; realName?: string }): SimulatedUser;
  users(): SimulatedUser[];
  /** Messages, oldest first, optionally in one channel. */
  messages(channelId?: string): SimulatedMessage[];
  /** The DM channel between the bot and a user (the same id conversations.open returns). */
  dmChannelFor(userId: string): string;
  openViews(userId?: string): SimulatedView[];
  calls(method?: string): SimulatedCall[];
  /** The next `count` calls of `method` get HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(method: string, count: number, retryAfterSeconds: number): void;
  /** The next `count` (default 1) calls of `method` answer `ok:false` with `errorCode`. */
  failNext(method: string, errorCode: string, count?: number): void;
  /**
   * The next `count` (default 1) calls of `method` are carried out, then the connection is
   * dropped without an answer: the app cannot know the call worked (a post that happened but
   * whose answer was lost).
   */
  loseResponseNext(method: string, count?: number): void;
  clickButton(input: { userId: string; channel: string; ts: string; actionId: string }): Promise<InteractionResponse>;
  submitView(input: { userId: string; viewId: string; values: Record<string, string> }): Promise<InteractionResponse>;
  slashCommand(input: { userId: string; command: string; text: string; channel?: string }): Promise<InteractionResponse>;
  /** POSTs `body` signed like Slack (or not quite, via options) to the request URL. */
  sendSigned(body: string, options?: SignedRequestOptions): Promise<InteractionResponse>;
  /** The workspace's conversations (channels, messages, views, id sequence) as plain JSON. */
  snapshot(): SlackSimulatorState;
  /** Continues from a snapshot: every DM, post and view it holds can be answered again. */
  restore(state: SlackSimulatorState): void;
}

/** What a restarted sandbox needs to continue its Slack conversations; dates as ISO strings. */
export interface SlackSimulatorState {
  version: 1;
  sequence: number;
  channels: Array<{ id: string; name: string; dmUser: string | null }>;
  messages: unknown[];
  views: unknown[];
}

/** A trigger id from an interaction can open one view within this long. */
export const TRIGGER_TTL_MS = 3000;
/** Web API request bodies larger than this are refused. */
const API_BODY_LIMIT = 8 * 1024 * 1024;

const TEAM = { id: 'T0SANDBOX', domain: 'vouch-sandbox', name: 'Vouch Sandbox' };
const BOT = { userId: 'U0VOUCHBOT', botId: 'B0VOUCHBOT', appId: 'A0VOUCHAPP', name: 'vouch' };

/** Creates an empty workspace with a bot; add people with addUser. */
export function createSlackSimulator(options: SlackSimulatorOptions): SlackSimulator {
  return new Workspace(options);
}

/** An `ok:false` answer from a Web API method. */
class ApiFailure extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

interface Trigger {
  userId: string;
  issuedAt: number;
  used: boolean;
}

type Args = Record<string, unknown>;
type Method = (args: Args) => Record<string, unknown>;

class Workspace implements SlackSimulator {
  private readonly clock: Clock;
  private readonly botToken: string;
  private readonly signingSecret: string;
  private requestUrl: string | undefined;
  private readonly people = new Map<string, SimulatedUser>();
  private readonly channels = new Map<string, { id: string; name: string; dmUser: string | null }>();
  private readonly log: SimulatedMessage[] = [];
  private readonly views = new Map<string, SimulatedView>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly recorded: SimulatedCall[] = [];
  private readonly rateLimits = new Map<string, { count: number; retryAfter: number }>();
  private readonly failures = new Map<string, string[]>();
  private readonly lostResponses = new Map<string, number>();
  private sequence = 0;
  private readonly methods: Record<string, Method>;

  constructor(options: SlackSimulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.botToken = options.botToken;
    this.signingSecret = options.signingSecret;
    this.requestUrl = options.requestUrl;
    this.methods = {
      'auth.test': () => this.authTest(),
      'users.lookupByEmail': (args) => ({ user: this.userJson(this.userByEmail(args.email)) }),
      'users.info': (args) => ({ user: this.userJson(this.userById(args.user)) }),
      'conversations.open': (args) => this.conversationsOpen(args),
      'chat.postMessage': (args) => this.postMessage(args),
      'chat.update': (args) => this.updateMessage(args),
      'chat.postEphemeral': (args) => this.postEphemeral(args),
      'conversations.history': (args) => this.conversationsHistory(args),
      'views.open': (args) => this.openView(args),
    };
  }

  // --- Web API transport -------------------------------------------------------------------

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [methodPath = '', query = ''] = path.split('?', 2);
    const method = methodPath.replace(/^\/+/, '');
    let args: Args = {};
    try {
      const raw = await readAll(req, API_BODY_LIMIT);
      args = { ...Object.fromEntries(new URLSearchParams(query)), ...parseArgs(raw, req.headers['content-type']) };
      const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
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
      const implementation = this.methods[method];
      if (implementation === undefined) throw new ApiFailure('unknown_method');
      const body = { ok: true, ...implementation(args) };
      const lost = this.lostResponses.get(method) ?? 0;
      if (lost > 0) {
        this.lostResponses.set(method, lost - 1);
        this.recorded.push({ method, args, at: this.clock.now(), status: 0, response: body });
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

  private answer(
    res: ServerResponse,
    method: string,
    args: Args,
    status: number,
    body: Record<string, unknown>,
    retryAfter?: number,
  ): void {
    this.recorded.push({ method, args, at: this.clock.now(), status, response: body });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  async listen(port = 0): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => {
      const path = req.url ?? '/';
      if (!path.startsWith('/api/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      void this.handle(req, res, path.slice('/api'.length));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${bound}/api/`,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        }),
    };
  }

  // --- Workspace state ---------------------------------------------------------------------

  setRequestUrl(url: string): void {
    this.requestUrl = url;
  }

  addUser(input: { id?: string; name: string; email: string; realName?: string }): SimulatedUser {
    const id = input.id ?? `U${this.nextId()}`;
    if (this.people.has(id)) throw new ConfigError('user.id', `${id} already exists in the simulator`);
    const user: SimulatedUser = { id, teamId: TEAM.id, name: input.name, realName: input.realName ?? input.name, email: input.email };
    this.people.set(id, user);
    return { ...user };
  }

  users(): SimulatedUser[] {
    return [...this.people.values()].map((user) => ({ ...user }));
  }

  messages(channelId?: string): SimulatedMessage[] {
    return this.log
      .filter((message) => channelId === undefined || message.channel === channelId)
      .map((message) => ({ ...message, edits: [...message.edits] }));
  }

  dmChannelFor(userId: string): string {
    const user = this.people.get(userId);
    if (user === undefined) throw new NotFoundError(`no simulated user ${userId}`);
    const id = dmIdFor(user.id);
    if (!this.channels.has(id)) this.channels.set(id, { id, name: 'directmessage', dmUser: user.id });
    return id;
  }

  openViews(userId?: string): SimulatedView[] {
    return [...this.views.values()]
      .filter((view) => view.open && (userId === undefined || view.userId === userId))
      .map((view) => ({ ...view }));
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

  loseResponseNext(method: string, count = 1): void {
    this.lostResponses.set(method, (this.lostResponses.get(method) ?? 0) + count);
  }

  // --- Web API methods ---------------------------------------------------------------------

  private authTest(): Record<string, unknown> {
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

  private conversationsOpen(args: Args): Record<string, unknown> {
    const users = typeof args.users === 'string' ? args.users.split(',').filter((id) => id !== '') : [];
    if (users.length === 0) throw new ApiFailure('users_list_not_supplied');
    // Group DMs are not needed by Vouch; say so rather than pretend.
    if (users.length > 1) throw new ApiFailure('not_supported');
    const user = this.userById(users[0]);
    const existed = this.channels.has(dmIdFor(user.id));
    return { no_op: existed, already_open: existed, channel: { id: this.dmChannelFor(user.id) } };
  }

  private postMessage(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const { text, blocks } = this.messageContent(args);
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : null;
    const metadata = messageMetadata(args.metadata);
    const message = this.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs, ephemeralTo: null, metadata });
    return { channel, ts: message.ts, message: messageJson(message) };
  }

  /**
   * conversations.history: a channel's top-level messages (thread replies are not listed; their
   * parents are), newest first, from `oldest` and before `latest`, `limit` per page with a cursor.
   * Metadata is included only with `include_all_metadata`, as Slack does.
   */
  private conversationsHistory(args: Args): Record<string, unknown> {
    if (typeof args.channel !== 'string' || !this.channels.has(args.channel)) throw new ApiFailure('channel_not_found');
    const channel = args.channel;
    const oldest = Number(args.oldest ?? 0);
    const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest);
    const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100) || 100));
    const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new ApiFailure('invalid_cursor');
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
    const listed = this.log
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

  private updateMessage(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const message = this.log.find((m) => m.channel === channel && m.ts === args.ts && m.ephemeralTo === null);
    if (message === undefined) throw new ApiFailure('message_not_found');
    if (message.botId !== BOT.botId) throw new ApiFailure('cant_update_message');
    const text = args.text === undefined ? message.text : args.text;
    const blocks = args.blocks === undefined ? message.blocks : args.blocks;
    const content = this.messageContent({ text, blocks });
    message.edits.push({ text: message.text, blocks: message.blocks, editedAt: this.clock.now() });
    message.text = content.text;
    message.blocks = content.blocks;
    return { channel, ts: message.ts, text: message.text, message: messageJson(message) };
  }

  private postEphemeral(args: Args): Record<string, unknown> {
    const channel = this.resolveChannel(args.channel);
    const user = this.userById(args.user);
    const { text, blocks } = this.messageContent(args);
    const message = this.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs: null, ephemeralTo: user.id });
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
    const id = `V${this.nextId()}`;
    const simulated: SimulatedView = {
      id,
      userId,
      callbackId: typeof view.callback_id === 'string' ? view.callback_id : '',
      privateMetadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
      hash: `${Math.floor(this.clock.now().getTime() / 1000)}.${randomBytes(4).toString('hex')}`,
      view,
      openedAt: this.clock.now(),
      open: true,
      errors: null,
    };
    this.views.set(id, simulated);
    return { view: viewJson(simulated, initialState(view)) };
  }

  /** Slack's trigger rules: issued by an interaction, used once, within about 3 s. */
  private redeemTrigger(triggerId: string): string {
    const trigger = this.triggers.get(triggerId);
    if (trigger === undefined) throw new ApiFailure('invalid_trigger_id');
    if (trigger.used) throw new ApiFailure('exchanged_trigger_id');
    if (this.clock.now().getTime() - trigger.issuedAt > TRIGGER_TTL_MS) throw new ApiFailure('expired_trigger_id');
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

  private store(fields: Omit<SimulatedMessage, 'ts' | 'postedAt' | 'edits'>): SimulatedMessage {
    const now = this.clock.now();
    this.sequence += 1;
    const ts = `${Math.floor(now.getTime() / 1000)}.${String(this.sequence % 1_000_000).padStart(6, '0')}`;
    const message: SimulatedMessage = { ...fields, ts, postedAt: now, edits: [] };
    this.log.push(message);
    return message;
  }

  /** Channel ids as Slack accepts them: a DM, a user id (meaning the DM), or any C/G channel. */
  private resolveChannel(value: unknown): string {
    if (typeof value !== 'string' || value === '') throw new ApiFailure('channel_not_found');
    if (this.channels.has(value)) return value;
    if (/^[UW]/.test(value) && this.people.has(value)) return this.dmChannelFor(value);
    if (/^[CG][A-Z0-9]+$/.test(value)) {
      this.channels.set(value, { id: value, name: value.toLowerCase(), dmUser: null });
      return value;
    }
    throw new ApiFailure('channel_not_found');
  }

  private userById(id: unknown): SimulatedUser {
    const user = typeof id === 'string' ? this.people.get(id) : undefined;
    if (user === undefined) throw new ApiFailure('user_not_found');
    return user;
  }

  private userByEmail(email: unknown): SimulatedUser {
    const wanted = typeof email === 'string' ? email.toLowerCase() : '';
    const user = [...this.people.values()].find((candidate) => candidate.email.toLowerCase() === wanted);
    if (user === undefined) throw new ApiFailure('users_not_found');
    return user;
  }

  private userJson(user: SimulatedUser): Record<string, unknown> {
    return {
      id: user.id,
      team_id: user.teamId,
      name: user.name,
      deleted: false,
      real_name: user.realName,
      is_bot: false,
      profile: { email: user.email, real_name: user.realName, display_name: user.name },
    };
  }

  snapshot(): SlackSimulatorState {
    return JSON.parse(
      JSON.stringify({ version: 1, sequence: this.sequence, channels: [...this.channels.values()], messages: this.log, views: [...this.views.values()] }),
    ) as SlackSimulatorState;
  }

  restore(state: SlackSimulatorState): void {
    if (state.version !== 1) throw new Error(`unknown Slack simulator state version ${String(state.version)}`);
    this.sequence = Math.max(this.sequence, state.sequence);
    for (const channel of state.channels) this.channels.set(channel.id, channel);
    this.log.length = 0;
    for (const raw of state.messages as Array<SimulatedMessage & { postedAt: string; edits: Array<SimulatedEdit & { editedAt: string }> }>) {
      this.log.push({ ...raw, postedAt: new Date(raw.postedAt), edits: raw.edits.map((edit) => ({ ...edit, editedAt: new Date(edit.editedAt) })) });
    }
    this.views.clear();
    for (const raw of state.views as Array<SimulatedView & { openedAt: string }>) this.views.set(raw.id, { ...raw, openedAt: new Date(raw.openedAt) });
  }

  private nextId(): string {
    this.sequence += 1;
    return this.sequence.toString(36).toUpperCase().padStart(8, '0');
  }

  // --- Interactivity -----------------------------------------------------------------------

  async clickButton(input: { userId: string; channel: string; ts: string; actionId: string }): Promise<InteractionResponse> {
    const user = this.requireUser(input.userId);
    const message = this.log.find((m) => m.channel === input.channel && m.ts === input.ts);
    if (message === undefined) throw new NotFoundError(`no message ${input.ts} in ${input.channel}`);
    const found = findButton(message.blocks, input.actionId);
    if (found === null) throw new NotFoundError(`message ${input.ts} has no button ${input.actionId}`);
    const now = this.clock.now();
    const payload = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: user.teamId },
      api_app_id: BOT.appId,
      token: 'sandbox-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: message.ephemeralTo !== null },
      trigger_id: this.issueTrigger(user.id),
      team: { id: TEAM.id, domain: TEAM.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: message.channel, name: this.channels.get(message.channel)?.name ?? 'unknown' },
      message: messageJson(message),
      state: { values: {} },
      response_url: this.responseUrl(),
      actions: [
        {
          type: 'button',
          action_id: input.actionId,
          block_id: found.blockId,
          text: found.button.text,
          value: found.button.value,
          ...(found.button.style === undefined ? {} : { style: found.button.style }),
          action_ts: `${(now.getTime() / 1000).toFixed(6)}`,
        },
      ],
    };
    return this.sendSigned(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  async submitView(input: { userId: string; viewId: string; values: Record<string, string> }): Promise<InteractionResponse> {
    const user = this.requireUser(input.userId);
    const view = this.views.get(input.viewId);
    if (view === undefined || !view.open || view.userId !== user.id) {
      throw new NotFoundError(`no open view ${input.viewId} for ${input.userId}`);
    }
    const state = initialState(view.view);
    for (const [actionId, value] of Object.entries(input.values)) {
      const blockId = Object.keys(state).find((id) => Object.hasOwn(state[id] ?? {}, actionId));
      if (blockId === undefined) throw new NotFoundError(`view ${view.id} has no input ${actionId}`);
      const entry = state[blockId]?.[actionId];
      if (entry !== undefined) entry.value = value;
    }
    const payload = {
      type: 'view_submission',
      team: { id: TEAM.id, domain: TEAM.domain },
      user: { id: user.id, username: user.name, name: user.name, team_id: user.teamId },
      api_app_id: BOT.appId,
      token: 'sandbox-verification-token',
      trigger_id: this.issueTrigger(user.id),
      view: viewJson(view, state),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const response = await this.sendSigned(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    this.applyViewResponse(view, response);
    return response;
  }

  /** An empty 200 closes the modal; `errors` keeps it open; `update` replaces it. */
  private applyViewResponse(view: SimulatedView, response: InteractionResponse): void {
    if (response.status !== 200) return;
    const answer = record(response.json);
    const action = answer?.response_action;
    if (action === 'errors') {
      view.errors = Object.fromEntries(Object.entries(record(answer?.errors) ?? {}).map(([k, v]) => [k, String(v)]));
    } else if (action === 'update' && record(answer?.view) !== null) {
      view.view = record(answer?.view) ?? view.view;
      view.errors = null;
    } else {
      view.open = false;
      view.errors = null;
    }
  }

  async slashCommand(input: { userId: string; command: string; text: string; channel?: string }): Promise<InteractionResponse> {
    const user = this.requireUser(input.userId);
    const channel = input.channel ?? this.dmChannelFor(user.id);
    const form = new URLSearchParams({
      token: 'sandbox-verification-token',
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: channel,
      channel_name: this.channels.get(channel)?.name ?? 'directmessage',
      user_id: user.id,
      user_name: user.name,
      command: input.command,
      text: input.text,
      api_app_id: BOT.appId,
      is_enterprise_install: 'false',
      response_url: this.responseUrl(),
      trigger_id: this.issueTrigger(user.id),
    });
    const response = await this.sendSigned(form.toString());
    this.recordCommandReply(channel, user.id, response);
    return response;
  }

  /** A command's HTTP answer is shown to the person (ephemeral unless `in_channel`). */
  private recordCommandReply(channel: string, userId: string, response: InteractionResponse): void {
    if (response.status !== 200 || response.body === '') return;
    const answer = record(response.json);
    const text = answer === null ? response.body : typeof answer.text === 'string' ? answer.text : '';
    const blocks = Array.isArray(answer?.blocks) ? (answer?.blocks as unknown[]) : [];
    if (text === '' && blocks.length === 0) return;
    const ephemeralTo = answer?.response_type === 'in_channel' ? null : userId;
    this.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs: null, ephemeralTo });
  }

  async sendSigned(body: string, options: SignedRequestOptions = {}): Promise<InteractionResponse> {
    if (this.requestUrl === undefined) {
      throw new ConfigError('requestUrl', 'the Slack simulator has no request URL; call setRequestUrl() first');
    }
    const timestamp = String(options.timestamp ?? Math.floor(this.clock.now().getTime() / 1000));
    const secret = options.secret ?? this.signingSecret;
    const signature = options.signature ?? `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const response = await fetch(this.requestUrl, {
      method: 'POST',
      headers: {
        'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: text, json: parseJson(text) };
  }

  private issueTrigger(userId: string): string {
    const id = `${this.clock.now().getTime() % 1e12}.${TEAM.id.slice(1)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, issuedAt: this.clock.now().getTime(), used: false });
    this.forgetOldTriggers();
    return id;
  }

  private forgetOldTriggers(): void {
    const horizon = this.clock.now().getTime() - 10 * TRIGGER_TTL_MS;
    for (const [id, trigger] of this.triggers) if (trigger.issuedAt < horizon) this.triggers.delete(id);
  }

  private responseUrl(): string {
    return `https://hooks.slack.com/actions/${TEAM.id}/${this.nextId()}/${randomBytes(12).toString('hex')}`;
  }

  private requireUser(userId: string): SimulatedUser {
    const user = this.people.get(userId);
    if (user === undefined) throw new NotFoundError(`no simulated user ${userId}`);
    return user;
  }
}

// --- Payload shapes ----------------------------------------------------------------------------

/** chat.postMessage's `metadata`: an event_type and an object payload, or nothing. */
function messageMetadata(value: unknown): SimulatedMetadata | null {
  if (value === undefined || value === null || value === '') return null;
  const metadata = record(value);
  const payload = metadata === null ? null : record(metadata.event_payload);
  if (metadata === null || typeof metadata.event_type !== 'string' || payload === null) throw new ApiFailure('invalid_metadata_format');
  return { event_type: metadata.event_type, event_payload: payload };
}

function messageJson(message: SimulatedMessage): Record<string, unknown> {
  return {
    type: 'message',
    ...(message.botId === null ? {} : { subtype: 'bot_message', bot_id: message.botId, app_id: BOT.appId }),
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: TEAM.id,
    blocks: message.blocks,
    ...(message.threadTs === null ? {} : { thread_ts: message.threadTs }),
    ...(message.edits.length === 0 ? {} : { edited: { user: message.user, ts: message.ts } }),
  };
}

type StateMap = Record<string, Record<string, { type: string; value: string | null }>>;

function viewJson(view: SimulatedView, values: StateMap): Record<string, unknown> {
  return {
    ...view.view,
    id: view.id,
    team_id: TEAM.id,
    app_id: BOT.appId,
    bot_id: BOT.botId,
    callback_id: view.callbackId,
    private_metadata: view.privateMetadata,
    hash: view.hash,
    state: { values },
    root_view_id: view.id,
    previous_view_id: null,
    clear_on_close: false,
    notify_on_close: false,
  };
}

/** Every input block's element, keyed like Slack's `state.values[blockId][actionId]`. */
function initialState(view: Record<string, unknown>): StateMap {
  const state: StateMap = {};
  for (const block of Array.isArray(view.blocks) ? view.blocks : []) {
    const fields = record(block);
    const element = record(fields?.element);
    if (fields?.type !== 'input' || element === null || typeof element.action_id !== 'string') continue;
    const blockId = typeof fields.block_id === 'string' ? fields.block_id : `block_${Object.keys(state).length}`;
    const initial = typeof element.initial_value === 'string' ? element.initial_value : null;
    state[blockId] = { [element.action_id]: { type: String(element.type), value: initial } };
  }
  return state;
}

interface FoundButton {
  blockId: string;
  button: { text: unknown; value?: string; style?: string };
}

function findButton(blocks: unknown[], actionId: string): FoundButton | null {
  for (const [index, block] of blocks.entries()) {
    const fields = record(block);
    if (fields === null) continue;
    const candidates = [...(Array.isArray(fields.elements) ? fields.elements : []), fields.accessory];
    for (const candidate of candidates) {
      const element = record(candidate);
      if (element?.type !== 'button' || element.action_id !== actionId) continue;
      const blockId = typeof fields.block_id === 'string' ? fields.block_id : `block_${index}`;
      return {
        blockId,
        button: {
          text: element.text,
          ...(typeof element.value === 'string' ? { value: element.value } : {}),
          ...(typeof element.style === 'string' ? { style: element.style } : {}),
        },
      };
    }
  }
  return null;
}

// --- Block Kit limits (as Slack documents them) ------------------------------------------------

/** Checks a modal view against Slack's limits; returns Slack-style error messages. */
export function validateModal(view: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const add = (message: string, pointer: string): number => problems.push(`[ERROR] ${message} [json-pointer:/view${pointer}]`);
  if (view.type !== 'modal') add('must be "modal"', '/type');
  checkText(view.title, '/title', 24, true, add);
  if (view.submit !== undefined) checkText(view.submit, '/submit', 24, true, add);
  if (view.close !== undefined) checkText(view.close, '/close', 24, true, add);
  checkLength(view.callback_id, '/callback_id', 255, add);
  checkLength(view.private_metadata, '/private_metadata', 3000, add);
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  if (!Array.isArray(view.blocks)) add('must be an array', '/blocks');
  if (blocks.some((block) => record(block)?.type === 'input') && view.submit === undefined) {
    add('a view with input blocks needs a submit button', '/submit');
  }
  for (const problem of validateBlocks(blocks, 100, '/blocks')) problems.push(problem.replace('[json-pointer:', '[json-pointer:/view'));
  return problems;
}

/** Returns Slack-style `[ERROR] … [json-pointer:…]` messages; empty when the blocks are valid. */
export function validateBlocks(blocks: unknown[], maxBlocks: number, base: string): string[] {
  const problems: string[] = [];
  const add = (message: string, pointer: string): number => problems.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  if (blocks.length > maxBlocks) add(`no more than ${maxBlocks} items allowed`, base);
  const ids = new Set<string>();
  blocks.forEach((block, index) => {
    const at = `${base}/${index}`;
    const fields = record(block);
    if (fields === null) {
      add('must be an object', at);
      return;
    }
    if (fields.block_id !== undefined) {
      checkLength(fields.block_id, `${at}/block_id`, 255, add);
      if (typeof fields.block_id === 'string' && ids.has(fields.block_id)) add('duplicate block_id', `${at}/block_id`);
      if (typeof fields.block_id === 'string') ids.add(fields.block_id);
    }
    checkBlock(fields, at, add);
  });
  return problems;
}

type Add = (message: string, pointer: string) => unknown;

function checkBlock(block: Record<string, unknown>, at: string, add: Add): void {
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) add('must provide text or fields', at);
      if (block.text !== undefined) checkText(block.text, `${at}/text`, 3000, false, add);
      if (block.fields !== undefined) checkList(block.fields, `${at}/fields`, 10, add, (f, p) => checkText(f, p, 2000, false, add));
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, add);
      return;
    case 'header':
      return checkText(block.text, `${at}/text`, 150, true, add);
    case 'divider':
      return;
    case 'context':
      return checkList(block.elements, `${at}/elements`, 10, add, (e, p) => checkText(e, p, 3000, false, add));
    case 'actions':
      return checkList(block.elements, `${at}/elements`, 25, add, (e, p) => checkElement(e, p, add));
    case 'input':
      checkText(block.label, `${at}/label`, 2000, true, add);
      if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, 2000, true, add);
      return checkElement(block.element, `${at}/element`, add);
    default:
      add(`unsupported block type ${JSON.stringify(block.type)}`, `${at}/type`);
  }
}

function checkElement(value: unknown, at: string, add: Add): void {
  const element = record(value);
  if (element === null) {
    add('must be an element object', at);
    return;
  }
  if (element.action_id !== undefined) checkLength(element.action_id, `${at}/action_id`, 255, add);
  if (element.type === 'button') {
    checkText(element.text, `${at}/text`, 75, true, add);
    if (element.value !== undefined) checkLength(element.value, `${at}/value`, 2000, add);
    if (element.url !== undefined) checkLength(element.url, `${at}/url`, 3000, add);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      add('must be "primary" or "danger"', `${at}/style`);
    }
  } else if (element.type === 'plain_text_input') {
    if (element.placeholder !== undefined) checkText(element.placeholder, `${at}/placeholder`, 150, true, add);
    const min = element.min_length;
    const max = element.max_length;
    if (min !== undefined && !(Number.isInteger(min) && (min as number) >= 0 && (min as number) <= 3000)) add('must be 0..3000', `${at}/min_length`);
    if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 3000)) add('must be 1..3000', `${at}/max_length`);
    if (typeof min === 'number' && typeof max === 'number' && min > max) add('min_length exceeds max_length', `${at}/min_length`);
  } else {
    add(`unsupported element type ${JSON.stringify(element.type)}`, `${at}/type`);
  }
}

function checkText(value: unknown, at: string, max: number, plainOnly: boolean, add: Add): void {
  const text = record(value);
  if (text === null) {
    add('must be a text object', at);
    return;
  }
  if (text.type !== 'plain_text' && (plainOnly || text.type !== 'mrkdwn')) {
    add(plainOnly ? 'must be plain_text' : 'must be plain_text or mrkdwn', `${at}/type`);
  }
  if (typeof text.text !== 'string' || text.text.length < 1) add('must be more than 0 characters', `${at}/text`);
  else if (text.text.length > max) add(`must be less than ${max + 1} characters`, `${at}/text`);
}

function checkList(value: unknown, at: string, max: number, add: Add, each: (item: unknown, pointer: string) => void): void {
  if (!Array.isArray(value) || value.length === 0) {
    add('must be a non-empty array', at);
    return;
  }
  if (value.length > max) add(`no more than ${max} items allowed`, at);
  value.forEach((item, index) => each(item, `${at}/${index}`));
}

function checkLength(value: unknown, at: string, max: number, add: Add): void {
  if (typeof value !== 'string') add('must be a string', at);
  else if (value.length > max) add(`must be less than ${max + 1} characters`, at);
}

// --- Small helpers ------------------------------------------------------------------------------

/** DM ids mirror the user id (U123 -> D123), so they are stable across restarts of a sandbox. */
function dmIdFor(userId: string): string {
  return `D${userId.replace(/^[A-Z]/, '')}`;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
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

async function readAll(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiFailure('request_too_large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
