/**
 * The simulated Slack's interactivity: button clicks, modal submissions and slash commands built in
 * Slack's payload shapes, signed with the signing secret (v0 HMAC-SHA256) and POSTed to the app's
 * request URL. What the app answers is applied as Slack would (a modal closes, shows errors or is
 * replaced; a command's reply is shown to the person).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError, NotFoundError } from '../errors.js';
import { initialState, messageJson, parseJson, record, viewJson } from './slack-payloads.js';
import { BOT, TEAM, TRIGGER_TTL_MS, type SimulatedView, type WorkspaceState } from './slack-workspace.js';

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

export class SlackInteractions {
  constructor(
    private readonly state: WorkspaceState,
    private readonly signingSecret: string,
    private requestUrl: string | undefined,
  ) {}

  setRequestUrl(url: string): void {
    this.requestUrl = url;
  }

  async clickButton(input: { userId: string; channel: string; ts: string; actionId: string }): Promise<InteractionResponse> {
    const user = this.state.requireUser(input.userId);
    const message = this.state.log.find((m) => m.channel === input.channel && m.ts === input.ts);
    if (message === undefined) throw new NotFoundError(`no message ${input.ts} in ${input.channel}`);
    const found = findButton(message.blocks, input.actionId);
    if (found === null) throw new NotFoundError(`message ${input.ts} has no button ${input.actionId}`);
    const now = this.state.clock.now();
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
      channel: { id: message.channel, name: this.state.channels.get(message.channel)?.name ?? 'unknown' },
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
    const user = this.state.requireUser(input.userId);
    const view = this.state.views.get(input.viewId);
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
    applyViewResponse(view, response);
    return response;
  }

  async slashCommand(input: { userId: string; command: string; text: string; channel?: string }): Promise<InteractionResponse> {
    const user = this.state.requireUser(input.userId);
    const channel = input.channel ?? this.state.dmChannelFor(user.id);
    const form = new URLSearchParams({
      token: 'sandbox-verification-token',
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: channel,
      channel_name: this.state.channels.get(channel)?.name ?? 'directmessage',
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

  /** POSTs `body` signed like Slack (or not quite, via options) to the request URL. */
  async sendSigned(body: string, options: SignedRequestOptions = {}): Promise<InteractionResponse> {
    if (this.requestUrl === undefined) {
      throw new ConfigError('requestUrl', 'the Slack simulator has no request URL; call setRequestUrl() first');
    }
    const timestamp = String(options.timestamp ?? Math.floor(this.state.clock.now().getTime() / 1000));
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

  /** A command's HTTP answer is shown to the person (ephemeral unless `in_channel`). */
  private recordCommandReply(channel: string, userId: string, response: InteractionResponse): void {
    if (response.status !== 200 || response.body === '') return;
    const answer = record(response.json);
    const text = answer === null ? response.body : typeof answer.text === 'string' ? answer.text : '';
    const blocks = Array.isArray(answer?.blocks) ? (answer?.blocks as unknown[]) : [];
    if (text === '' && blocks.length === 0) return;
    const ephemeralTo = answer?.response_type === 'in_channel' ? null : userId;
    this.state.store({ channel, text, blocks, user: BOT.userId, botId: BOT.botId, threadTs: null, ephemeralTo });
  }

  private issueTrigger(userId: string): string {
    const now = this.state.clock.now().getTime();
    const id = `${now % 1e12}.${TEAM.id.slice(1)}.${randomBytes(16).toString('hex')}`;
    this.state.triggers.set(id, { userId, issuedAt: now, used: false });
    this.forgetOldTriggers();
    return id;
  }

  private forgetOldTriggers(): void {
    const horizon = this.state.clock.now().getTime() - 10 * TRIGGER_TTL_MS;
    for (const [id, trigger] of this.state.triggers) if (trigger.issuedAt < horizon) this.state.triggers.delete(id);
  }

  private responseUrl(): string {
    return `https://hooks.slack.com/actions/${TEAM.id}/${this.state.nextId()}/${randomBytes(12).toString('hex')}`;
  }
}

/** An empty 200 closes the modal; `errors` keeps it open; `update` replaces it. */
function applyViewResponse(view: SimulatedView, response: InteractionResponse): void {
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
