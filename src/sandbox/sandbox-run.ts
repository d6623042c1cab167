/**
 * The "run a suspicious command" form: who can run one, the ready-made commands, and turning a
 * request into the DemoCommand the demo audit log records.
 */
import { RequestError } from '../errors.js';
import { DEMO_COMMANDS, DEMO_PEOPLE, type DemoCommand } from './demo-log.js';
import type { JsonObject } from './sandbox-request.js';
import { optionalBoolean, optionalString, requireString } from './sandbox-request.js';
import { quoteShellWords, splitShellWords } from './shell-words.js';

export interface SandboxPerson {
  login: string;
  uid: number;
  name: string;
  /** False for the outsider: nobody in Slack answers for them, so their alerts escalate. */
  hasChat: boolean;
}

/** Someone with a login on the servers but no Slack account, to show the `unknown_owner` path. */
export const OUTSIDER: SandboxPerson = { login: 'mallory', uid: 1666, name: 'Mallory', hasChat: false };

/** Everyone the run form offers: the demo cast, then the outsider. */
export const SANDBOX_PEOPLE: readonly SandboxPerson[] = [
  ...DEMO_PEOPLE.map((person) => ({ login: person.login, uid: person.uid, name: person.name, hasChat: true })),
  OUTSIDER,
];

export interface SandboxPreset {
  login: string;
  host: string;
  /** The command line, quoted so that splitting it gives the preset's argv back. */
  command: string;
  asRoot: boolean;
}

/** The demo commands, as the form shows them. */
export function sandboxPresets(): SandboxPreset[] {
  return DEMO_COMMANDS.map((command) => ({
    login: command.login,
    host: command.host,
    command: quoteShellWords(command.argv),
    asRoot: command.runAs === 'root',
  }));
}

/** The longest command line the form accepts, in characters (the body limit is the other bound). */
export const MAX_COMMAND_LENGTH = 16 * 1024;
const MAX_ARGS = 512;
/** Host names go into the audit record unencoded, so they are held to DNS's alphabet. */
const HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;

/**
 * Validates a run request `{ login, command, host?, asRoot? }` and builds the command to record.
 * `command` is split like a shell would (see shell-words.ts); `host` defaults to `sandbox-1`;
 * `asRoot` (default true) records it as run through sudo. Throws RequestError 400 on bad input.
 */
export function demoCommandFromRequest(body: JsonObject): DemoCommand {
  const login = requireString(body, 'login', 64);
  const person = SANDBOX_PEOPLE.find((candidate) => candidate.login === login);
  if (person === undefined) throw new RequestError(400, `login must be one of ${SANDBOX_PEOPLE.map((p) => p.login).join(', ')}`);
  const line = requireString(body, 'command', MAX_COMMAND_LENGTH);
  const argv = splitShellWords(line);
  if (argv.length === 0) throw new RequestError(400, 'command must contain at least one word');
  if (argv.length > MAX_ARGS) throw new RequestError(400, `command must have at most ${MAX_ARGS} words`);
  // execve takes NUL-terminated strings: no real process can have a NUL inside an argument.
  if (line.includes('\u0000')) throw new RequestError(400, 'command cannot contain NUL characters');
  const host = optionalString(body, 'host', 253) ?? 'sandbox-1';
  if (!HOST_PATTERN.test(host)) throw new RequestError(400, 'host may contain only letters, digits, dots, dashes and underscores');
  const asRoot = optionalBoolean(body, 'asRoot', true);
  return {
    login: person.login,
    uid: person.uid,
    runAs: asRoot ? 'root' : person.login,
    runAsUid: asRoot ? 0 : person.uid,
    argv,
    cwd: asRoot ? '/root' : `/home/${person.login}`,
    host,
  };
}
