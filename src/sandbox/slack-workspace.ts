/**
 * What the simulated Slack workspace remembers: people, channels, messages, modals and the trigger
 * ids interactions hand out. The Web API and the interactivity side both read and change it; the
 * snapshot is what a restarted sandbox continues from.
 */
import type { Clock } from '../clock.js';
import { ConfigError, NotFoundError } from '../errors.js';

export interface SimulatedUser {
  id: string;
  teamId: string;
  name: string;
  realName: string;
  email: string;
  /** IANA time zone, as `users.info` reports it in `tz`. */
  tz: string;
}

/** What a test or the sandbox says about a person it adds. */
export interface NewSimulatedUser {
  id?: string;
  name: string;
  email: string;
  realName?: string;
  /** IANA time zone; default UTC. */
  tz?: string;
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
  /** Message metadata the app attached (`metadata` of chat.postMessage or chat.update), or null. */
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

export interface SimulatedChannel {
  id: string;
  name: string;
  dmUser: string | null;
}

/** What a restarted sandbox needs to continue its Slack conversations; dates as ISO strings. */
export interface SlackSimulatorState {
  version: 1;
  sequence: number;
  channels: SimulatedChannel[];
  messages: unknown[];
  views: unknown[];
}

/** A trigger id from an interaction can open one view within this long. */
export const TRIGGER_TTL_MS = 3000;

export const TEAM = { id: 'T0SANDBOX', domain: 'vouch-sandbox', name: 'Vouch Sandbox' };
export const BOT = { userId: 'U0VOUCHBOT', botId: 'B0VOUCHBOT', appId: 'A0VOUCHAPP', name: 'vouch' };

export interface Trigger {
  userId: string;
  issuedAt: number;
  used: boolean;
}

export class WorkspaceState {
  readonly people = new Map<string, SimulatedUser>();
  readonly channels = new Map<string, SimulatedChannel>();
  readonly log: SimulatedMessage[] = [];
  readonly views = new Map<string, SimulatedView>();
  readonly triggers = new Map<string, Trigger>();
  private sequence = 0;

  constructor(readonly clock: Clock) {}

  addUser(input: NewSimulatedUser): SimulatedUser {
    const id = input.id ?? `U${this.nextId()}`;
    if (this.people.has(id)) throw new ConfigError('user.id', `${id} already exists in the simulator`);
    // Slack's default zone for a new account is the workspace's; ours is UTC.
    const user: SimulatedUser = { id, teamId: TEAM.id, name: input.name, realName: input.realName ?? input.name, email: input.email, tz: input.tz ?? 'UTC' };
    this.people.set(id, user);
    return { ...user };
  }

  requireUser(userId: string): SimulatedUser {
    const user = this.people.get(userId);
    if (user === undefined) throw new NotFoundError(`no simulated user ${userId}`);
    return user;
  }

  dmChannelFor(userId: string): string {
    const user = this.requireUser(userId);
    const id = dmIdFor(user.id);
    if (!this.channels.has(id)) this.channels.set(id, { id, name: 'directmessage', dmUser: user.id });
    return id;
  }

  /** Appends a message with the next timestamp (seconds, then a sequence so ts stays unique). */
  store(fields: Omit<SimulatedMessage, 'ts' | 'postedAt' | 'edits'>): SimulatedMessage {
    const now = this.clock.now();
    this.sequence += 1;
    const ts = `${Math.floor(now.getTime() / 1000)}.${String(this.sequence % 1_000_000).padStart(6, '0')}`;
    const message: SimulatedMessage = { ...fields, ts, postedAt: now, edits: [] };
    this.log.push(message);
    return message;
  }

  nextId(): string {
    this.sequence += 1;
    return this.sequence.toString(36).toUpperCase().padStart(8, '0');
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
}

/** DM ids mirror the user id (U123 -> D123), so they are stable across restarts of a sandbox. */
export function dmIdFor(userId: string): string {
  return `D${userId.replace(/^[A-Z]/, '')}`;
}
