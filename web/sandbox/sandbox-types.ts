/**
 * The JSON the sandbox page reads, as src/sandbox/sandbox-state.ts and sandbox-run.ts send it.
 * Written again here because the browser code is compiled on its own; the page treats every field
 * as untrusted data and shows it as text.
 */
export interface SandboxMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  threadTs: string | null;
  postedAt: string;
  edited: boolean;
}

export interface SandboxView {
  id: string;
  callbackId: string;
  title: string;
  submit: string;
  close: string;
  blocks: unknown[];
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
  device: 'push' | 'none';
  dm: SandboxMessage[];
  view: SandboxView | null;
  pushes: SandboxPush[];
}

/** Which fact a note tells (src/alerts/progress-wording.ts). */
export type ProgressKind = 'waiting' | 'reminders' | 'next-step' | 'contact' | 'heads-up' | 'page' | 'conversation' | 'escalation' | 'provenance';

/** A sentence about what the engine did or waits for; worded by the service, shown as text. */
export interface ProgressNote {
  kind: ProgressKind;
  text: string;
}

export interface SandboxAlert {
  id: string;
  code: string;
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
  notes: ProgressNote[];
}

export interface SandboxState {
  users: SandboxUser[];
  security: SandboxMessage[];
  alerts: SandboxAlert[];
}

export interface SandboxPerson {
  login: string;
  name: string;
  hasChat: boolean;
}

export interface SandboxPreset {
  login: string;
  host: string;
  command: string;
  asRoot: boolean;
}

export interface SandboxDemo {
  people: SandboxPerson[];
  presets: SandboxPreset[];
}

/** The service's answer to a click or a modal submission, passed through. */
export interface InteractionAnswer {
  status: number;
  body: unknown;
}

export interface RunAnswer {
  ok: true;
  argv: string[];
  host: string;
  login: string;
}
