import type { RedactedCommand } from '../alerts/redact.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { ShownCommand } from './scan-json-line.js';

/**
 * Text one argument must contain (case aside) for the redactor to find a secret in the command:
 * every secret-bearing name it knows holds one of pass, pwd, secret, token, key, credential; the
 * tools whose flags take a password are named by their own words (mysql, ldap, curl, ...; `login`
 * for the registry clients, whose `-p` is a password only there); then the shapes its text
 * patterns look for (URLs with credentials, headers, cookies, Slack hooks, the prefixes of
 * well-known tokens). An argument without any of these cannot change, so it skips the redactor.
 * The list only needs to be a superset: a word too many costs a redactor call, never a secret.
 */
const SECRET_HINT = new RegExp(
  [
    'pass', 'pwd', 'secret', 'token', 'key', 'credential', 'auth', 'cookie', 'login', 'from-literal',
    'mysql', 'mariadb', 'mongo', 'ldap', 'redis', 'curl', 'smbclient', 'rpcclient', 'useradd', 'usermod',
    'ipmitool', 'sqlcmd', 'skopeo', 'openssl',
    '://', 'hooks\\.slack',
    'AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ABIA', 'ACCA',
    'gh[pousr]_', 'github_pat_', 'xox', 'xapp-', 'glpat-', 'k_live_', 'AIza', 'npm_', 'hv[sb]\\.', 'eyJ',
  ].join('|'),
  'i',
);

/**
 * True when some argument could hold a secret the redactor would replace; false means
 * redactCommand would return the argv unchanged. Linear: one literal-alternation search per argument.
 */
export function mayHoldSecret(argv: readonly string[]): boolean {
  for (const arg of argv) if (SECRET_HINT.test(arg)) return true;
  return false;
}

/**
 * What scan prints of each command: the redacted argv and command by default, the raw ones when
 * redaction is off. The redactor (and its regex compilation) is loaded on the first command that
 * may hold a secret, so a log of ordinary commands never pays for it.
 */
export class CommandRedactor {
  private redact: ((argv: readonly string[]) => RedactedCommand) | null = null;

  constructor(private readonly enabled: boolean) {}

  /** Loads the redactor when one of these events needs it; call before show() for a batch. */
  async prepare(events: readonly CommandEvent[]): Promise<void> {
    if (!this.enabled || this.redact !== null) return;
    if (!events.some((event) => mayHoldSecret(event.argv))) return;
    this.redact = (await import('../alerts/redact.js')).redactCommand;
  }

  /** The argv and command to print for an event (prepare() must have seen its batch). */
  show(event: CommandEvent): ShownCommand {
    if (this.redact === null || !mayHoldSecret(event.argv)) return event;
    const redacted = this.redact(event.argv);
    return redacted.redacted ? redacted : event;
  }
}
