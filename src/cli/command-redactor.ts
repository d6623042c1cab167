import type { RedactedCommand } from '../alerts/redact.js';
import { mayHoldSecret } from '../alerts/secret-hints.js';
import type { CommandEvent } from '../sources/command-event.js';
import type { ShownCommand } from './scan-json-line.js';

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
    // show() screens each event itself, so the redactor is the one that does not screen again.
    this.redact = (await import('../alerts/redact.js')).redactCandidate;
  }

  /** The argv and command to print for an event (prepare() must have seen its batch). */
  show(event: CommandEvent): ShownCommand {
    if (this.redact === null || !mayHoldSecret(event.argv)) return event;
    const redacted = this.redact(event.argv);
    return redacted.redacted ? redacted : event;
  }
}
