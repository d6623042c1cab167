import type { ParseOutput } from '../parser.js';
import { keptByteLength, restoreUtf8 } from './kept-bytes.js';
import { MAX_LINE_CHARS, malformed } from './parse-support.js';
import { parseSudoEntry, sudoEntryToEvent, sudoPartLimit, type SudoOrigin } from './sudo-message.js';

/** A first sudo message, held until we know no `(command continued)` follows. */
export interface SudoFirstMessage {
  origin: SudoOrigin;
  user: string;
  /** The message after `user : `, as kept text (kept-bytes.ts) when its line was not valid UTF-8. */
  text: string;
  /** Offset of the line, for lowWaterMark and malformed reports. */
  offset: number;
  /** The raw line, for malformed samples. */
  raw: string;
}

interface Pending extends SudoFirstMessage {
  heldSince: number;
  /** Whether the last part held was cut inside a word (it filled sudo's limit exactly). */
  cutInWord: boolean;
  /**
   * Whether a part was joined to the next without a space. sudo also drops a space that falls
   * exactly at its limit, which leaves the same parts: the argv is then the likelier reading.
   */
  glued: boolean;
  /** Whether the text held so far has reached `COMMAND=` (for wrapped, below). */
  inCommand: boolean;
}

/** Messages held at once; past this the oldest is emitted without waiting (bounded memory). */
const MAX_PENDING = 1024;
/** Accepted commands remembered to drop their later exit records (`log_exit_status`). */
const MAX_RECENT_ACCEPTS = 4096;
/** How many entries are evicted at once when a bound is passed. */
const EVICT_BATCH = 128;

function takeFirst(keys: Iterable<string>, count: number): string[] {
  const taken: string[] = [];
  for (const key of keys) {
    if (taken.length >= count) break;
    taken.push(key);
  }
  return taken;
}

/**
 * Re-assembles sudo messages split into `(command continued)` parts, for the syslog and journald
 * parsers. A first message is held per sender (host and sudo pid) until another message from the
 * same sender arrives, the timeout passes, or the parser is flushed.
 *
 * With `log_exit_status`, sudo logs each command twice: when it starts, and again with
 * `; EXIT=n` when it ends. The second record is dropped when the first was seen, so a command is
 * one event; an exit record whose start was never seen is kept, so nothing is lost.
 */
export class SudoAssembler {
  private readonly pending = new Map<string, Pending>();
  private readonly recentAccepts = new Map<string, true>();
  /** No held message can time out before this (ms); saves scanning on every line. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(private readonly timeoutMs: number) {}

  /** A first message from `sender`: completes that sender's held message, then holds this one. */
  first(sender: string, message: SudoFirstMessage, now: Date, out: ParseOutput): void {
    this.release(sender, out);
    const cutInWord = keptByteLength(message.text) === sudoPartLimit(message.user, false);
    this.pending.set(sender, { ...message, heldSince: now.getTime(), cutInWord, glued: false, inCommand: message.text.includes('COMMAND=') });
    this.nextExpiry = Math.min(this.nextExpiry, now.getTime() + this.timeoutMs);
    if (this.pending.size > MAX_PENDING) {
      // Release the oldest in a batch: taking them one at a time from the front of a Map with
      // many deleted entries costs a scan each time.
      for (const oldest of takeFirst(this.pending.keys(), EVICT_BATCH)) this.release(oldest, out);
    }
  }

  /**
   * A `(command continued)` message (`text` as kept text, like a first message's): appended to the
   * sender's held message, after a space unless the part before it was cut inside a word; a
   * character sudo cut in two is whole again once the parts are decoded together. Without a held
   * message (its first part was lost or already timed out) it is reported as an incomplete event.
   */
  continued(
    sender: string,
    user: string,
    text: string,
    line: { raw: string; offset: number; now: Date },
    out: ParseOutput,
  ): void {
    const held = this.pending.get(sender);
    if (held === undefined || held.user !== user) {
      out.malformed.push(
        malformed('incomplete_event', line.raw, line.offset, 'sudo continuation without its first part'),
      );
      return;
    }
    // sudo cut the message at a space and dropped it, so the space goes back in; unless no space
    // fitted and it cut inside a word.
    held.text += held.cutInWord ? text : ` ${text}`;
    held.glued ||= held.cutInWord;
    held.cutInWord = keptByteLength(text) === sudoPartLimit(user, true);
    held.heldSince = line.now.getTime();
    if (held.text.length > MAX_LINE_CHARS) this.release(sender, out);
  }

  /**
   * A wrapped line of an entry of sudo's own log file (its four-space indent removed): appended
   * to the sender's held entry after a space. sudo wraps at a run of spaces and writes none of
   * them, so where that run was longer (an empty argument, spaces inside a quoted one) a wrap in
   * the command leaves the arguments a best reading. Without a held entry it is reported as an
   * incomplete event.
   */
  wrapped(sender: string, text: string, line: { raw: string; offset: number; now: Date }, out: ParseOutput): void {
    const held = this.pending.get(sender);
    if (held === undefined) {
      out.malformed.push(malformed('incomplete_event', line.raw, line.offset, "a wrapped line of sudo's log file without the line it continues"));
      return;
    }
    // sudo wraps only at spaces, so a COMMAND= is whole on the line that holds it.
    held.glued ||= held.inCommand;
    held.inCommand ||= text.includes('COMMAND=');
    held.text += ` ${text}`;
    held.cutInWord = false;
    held.heldSince = line.now.getTime();
    if (held.text.length > MAX_LINE_CHARS) this.release(sender, out);
  }

  /** Any other message from `sender` means its held message is complete. */
  other(sender: string, out: ParseOutput): void {
    this.release(sender, out);
  }

  /** Emits held messages older than the timeout. */
  expire(now: Date, out: ParseOutput): void {
    if (now.getTime() < this.nextExpiry) return;
    const cutoff = now.getTime() - this.timeoutMs;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [sender, held] of this.pending) {
      if (held.heldSince <= cutoff) this.release(sender, out);
      else earliest = Math.min(earliest, held.heldSince);
    }
    this.nextExpiry = earliest + this.timeoutMs;
  }

  /** Emits everything held. */
  flush(out: ParseOutput): void {
    for (const sender of [...this.pending.keys()]) this.release(sender, out);
  }

  /** Offset of the oldest held message, or null. */
  lowWaterMark(): number | null {
    let low: number | null = null;
    for (const held of this.pending.values()) {
      if (low === null || held.offset < low) low = held.offset;
    }
    return low;
  }

  private release(sender: string, out: ParseOutput): void {
    const held = this.pending.get(sender);
    if (held === undefined) return;
    this.pending.delete(sender);
    const parsed = parseSudoEntry(restoreUtf8(held.text));
    if (parsed.kind === 'bad') {
      out.malformed.push(malformed(parsed.reason, held.raw, held.offset, parsed.detail));
      return;
    }
    if (parsed.kind === 'other') return;
    const { entry } = parsed;
    const acceptKey = `${held.origin.host}\u0000${held.origin.pid ?? ''}\u0000${entry.commandText}`;
    if (entry.exitStatus !== null || entry.signal !== null) {
      if (this.recentAccepts.delete(acceptKey)) return;
    } else {
      this.recentAccepts.set(acceptKey, true);
      if (this.recentAccepts.size > MAX_RECENT_ACCEPTS) {
        for (const oldest of takeFirst(this.recentAccepts.keys(), EVICT_BATCH)) this.recentAccepts.delete(oldest);
      }
    }
    const event = sudoEntryToEvent(held.origin, held.user, entry);
    // As laurel's events whose ARGV_STR could not be split back exactly say.
    if (held.glued) event.extra = { ...event.extra, argv_inexact: 'true' };
    out.events.push(event);
  }
}
