import type { RedactedCommand } from '../alerts/redact.js';
import { mayHoldSecret } from '../alerts/secret-hints.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { ShownCommand } from './scan-json-line.js';

/** Most commands whose redaction is remembered; past it the memory starts over. */
export const REMEMBERED_COMMANDS = 1024;

/** Longest command (argv characters) whose redaction is remembered: a longer key costs a pass of its own. */
export const REMEMBERED_COMMAND_CHARS = 4096;

/**
 * What scan prints of each command: the redacted argv and command by default, the raw ones when
 * redaction is off. The redactor (and its regex compilation) is loaded on the first command that
 * may hold a secret, so a log of ordinary commands never pays for it.
 *
 * The commands that may hold a secret repeat (the same backup script's `mysql -p...`, the same
 * health check's `curl -H "Authorization: ..."`, all day on every host), and redaction is a pure
 * function of the argv: the redaction of a short argv is remembered, so a log that repeats a few
 * such commands redacts each once (measured on the benchmark log: 3,586 candidates, 25 distinct).
 */
export class CommandRedactor {
  private redact: ((argv: readonly string[]) => RedactedCommand) | null = null;
  /** Redactions by memoKey of their argv. */
  private readonly remembered = new Map<string, RedactedCommand>();

  constructor(private readonly enabled: boolean) {}

  /** Loads the redactor when one of these events needs it; call before show() for a batch. */
  async prepare(events: readonly CommandEvent[]): Promise<void> {
    if (!this.enabled || this.redact !== null) return;
    if (!events.some((event) => mayHoldSecret(event.argv))) return;
    // show() screens each event itself, so the redactor is the one that does not screen again.
    this.redact = (await import('../alerts/redact.js')).redactCandidate;
  }

  /** The argv and command to print for an event (prepare() must have seen its batch). */
  show(event: CommandEvent): ShownCommand {
    if (this.redact === null || !mayHoldSecret(event.argv)) return event;
    const redacted = this.redactionOf(event.argv, this.redact);
    return redacted.redacted ? redacted : event;
  }

  private redactionOf(argv: readonly string[], redact: (argv: readonly string[]) => RedactedCommand): RedactedCommand {
    const key = memoKey(argv);
    if (key === null) return redact(argv);
    let redacted = this.remembered.get(key);
    if (redacted === undefined) {
      redacted = redact(argv);
      if (this.remembered.size >= REMEMBERED_COMMANDS) this.remembered.clear();
      this.remembered.set(key, redacted);
    }
    return redacted;
  }
}

/**
 * The argv as one string that tells argument vectors apart (NUL between arguments, and a NUL
 * within one makes no key at all), or null when it is too long to be worth remembering.
 */
function memoKey(argv: readonly string[]): string | null {
  let chars = argv.length;
  for (let i = 0; i < argv.length; i++) chars += argv[i]!.length;
  if (chars > REMEMBERED_COMMAND_CHARS) return null;
  for (let i = 0; i < argv.length; i++) if (argv[i]!.includes('\0')) return null;
  return argv.join('\0');
}
