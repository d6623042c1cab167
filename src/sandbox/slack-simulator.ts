/**
 * A Slack workspace in a box, speaking Slack's real wire protocols in both directions: the Web API
 * (slack-web-api.ts, with Block Kit's limits in block-kit-validation.ts) and interactivity
 * (slack-interactions.ts: signed clicks, submissions and slash commands POSTed to the app). This
 * module wires them to one workspace state (slack-workspace.ts) and serves the Web API over HTTP.
 *
 * It serves tests, the local sandbox (a person clicks through DMs in a browser) and benchmarks.
 * Only node built-ins are used. State lives in memory; the sandbox saves snapshots of it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { SlackInteractions, type InteractionResponse, type SignedRequestOptions } from './slack-interactions.js';
import { SlackWebApi, type SimulatedCall } from './slack-web-api.js';
import {
  WorkspaceState,
  type NewSimulatedUser,
  type SimulatedMessage,
  type SimulatedUser,
  type SimulatedView,
  type SlackSimulatorState,
} from './slack-workspace.js';

export { validateBlocks, validateModal } from './block-kit-validation.js';
export type { InteractionResponse, SignedRequestOptions } from './slack-interactions.js';
export type { SimulatedCall } from './slack-web-api.js';
export { TRIGGER_TTL_MS } from './slack-workspace.js';
export type { NewSimulatedUser, SimulatedEdit, SimulatedMessage, SimulatedMetadata, SimulatedUser, SimulatedView, SlackSimulatorState } from './slack-workspace.js';

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

export interface SlackSimulator {
  /** Serves one Web API request; `path` is the method path, e.g. `/chat.postMessage`. Never rejects. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Serves the Web API at `<url>` (ends with `/api/`) on 127.0.0.1; port 0 picks a free one. */
  listen(port?: number): Promise<{ url: string; close(): Promise<void> }>;
  setRequestUrl(url: string): void;
  addUser(user: NewSimulatedUser): SimulatedUser;
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
  /**
   * The connection of the next `count` (default 1) calls of `method` is dropped before they are
   * carried out: to the app this looks the same as a lost answer, but nothing happened.
   */
  dropRequestNext(method: string, count?: number): void;
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

/** Creates an empty workspace with a bot; add people with addUser. */
export function createSlackSimulator(options: SlackSimulatorOptions): SlackSimulator {
  return new Workspace(options);
}

class Workspace implements SlackSimulator {
  private readonly state: WorkspaceState;
  private readonly api: SlackWebApi;
  private readonly interactions: SlackInteractions;

  constructor(options: SlackSimulatorOptions) {
    this.state = new WorkspaceState(options.clock ?? systemClock);
    this.api = new SlackWebApi(this.state, options.botToken);
    this.interactions = new SlackInteractions(this.state, options.signingSecret, options.requestUrl);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    return this.api.handle(req, res, path);
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

  setRequestUrl(url: string): void {
    this.interactions.setRequestUrl(url);
  }

  addUser(input: NewSimulatedUser): SimulatedUser {
    return this.state.addUser(input);
  }

  users(): SimulatedUser[] {
    return [...this.state.people.values()].map((user) => ({ ...user }));
  }

  messages(channelId?: string): SimulatedMessage[] {
    return this.state.log
      .filter((message) => channelId === undefined || message.channel === channelId)
      .map((message) => ({ ...message, edits: [...message.edits] }));
  }

  dmChannelFor(userId: string): string {
    return this.state.dmChannelFor(userId);
  }

  openViews(userId?: string): SimulatedView[] {
    return [...this.state.views.values()]
      .filter((view) => view.open && (userId === undefined || view.userId === userId))
      .map((view) => ({ ...view }));
  }

  calls(method?: string): SimulatedCall[] {
    return this.api.calls(method);
  }

  rateLimitNext(method: string, count: number, retryAfterSeconds: number): void {
    this.api.rateLimitNext(method, count, retryAfterSeconds);
  }

  failNext(method: string, errorCode: string, count = 1): void {
    this.api.failNext(method, errorCode, count);
  }

  loseResponseNext(method: string, count = 1): void {
    this.api.loseResponseNext(method, count);
  }

  dropRequestNext(method: string, count = 1): void {
    this.api.dropRequestNext(method, count);
  }

  clickButton(input: { userId: string; channel: string; ts: string; actionId: string }): Promise<InteractionResponse> {
    return this.interactions.clickButton(input);
  }

  submitView(input: { userId: string; viewId: string; values: Record<string, string> }): Promise<InteractionResponse> {
    return this.interactions.submitView(input);
  }

  slashCommand(input: { userId: string; command: string; text: string; channel?: string }): Promise<InteractionResponse> {
    return this.interactions.slashCommand(input);
  }

  sendSigned(body: string, options?: SignedRequestOptions): Promise<InteractionResponse> {
    return this.interactions.sendSigned(body, options);
  }

  snapshot(): SlackSimulatorState {
    return this.state.snapshot();
  }

  restore(state: SlackSimulatorState): void {
    this.state.restore(state);
  }
}
