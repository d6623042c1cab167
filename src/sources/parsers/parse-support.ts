import { hexDigest } from './digest.js';
import { redactText } from '../../alerts/redact.js';
import { CUT_MARK, terminalPrefix } from '../../terminal-text.js';
import type { Malformed, MalformedReason, ParserOptions } from '../parser.js';
import { wellFormed } from '../../well-formed.js';
import { uidNamer } from './uid-namer.js';
import { redactLineWords } from './sample-words.js';

/**
 * Longest line a parser looks at, in UTF-16 code units. Real records are far shorter (sudo splits
 * at about 1 KB, auditd at 8 KB); the limit leaves room for a command with a 1 MB argument in a
 * JSON format while keeping one hostile line from costing seconds of CPU.
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** How much of an offending line is kept in a `Malformed` sample. */
export const SAMPLE_CHARS = 120;

/** The auid/loginuid value meaning "never logged in" (daemons, boot), also seen as -1. */
export const UNSET_UID = 4294967295;

/**
 * A malformed-line report with a human-readable explanation. `detail` is extra to the shared
 * `Malformed` shape, so consumers that only know `Malformed` still accept it.
 */
export type MalformedWithDetail = Malformed & { detail?: string };

/**
 * How much of a line the sample's redaction looks at. A secret is recognised from what follows
 * its start (up to the `@` of a URL's user info, the end of a token), and the sample shows only
 * the first SAMPLE_CHARS characters: a window far longer than any real secret keeps a sample from
 * ever showing one, and keeps a megabyte-long malformed line from costing more than a short one.
 */
export const SAMPLE_REDACTION_WINDOW = 64 * 1024;

/**
 * The start of a line, safe to store, log and show: secrets redacted as in every command, its
 * quoted and hex words as an argument vector (see sample-words.ts), the rest as text (so a
 * line that fails to parse cannot leak `--password=hunter2` or a token through its sample), then
 * control, bidirectional and zero-width characters and lone surrogates written as `\xNN` /
 * `\uNNNN` (so a sample can never inject lines or terminal escapes), then cut to SAMPLE_CHARS
 * code units, `…` included, without splitting a surrogate pair or an escape.
 */
export function sampleOf(text: string): string {
  const window = text.length > SAMPLE_REDACTION_WINDOW ? text.slice(0, SAMPLE_REDACTION_WINDOW) : text;
  // The words first (`sshpass -p X` written as JSON strings or auditd values), then the text layer.
  const sample = terminalPrefix(redactText(redactLineWords(window)), SAMPLE_CHARS);
  // A window that was cut always ends the sample with the mark, even when its redacted start
  // happens to fit (the rest of the line is still missing).
  return window !== text && !sample.endsWith(CUT_MARK) ? terminalPrefix(`${sample}${CUT_MARK}`, SAMPLE_CHARS) : sample;
}

/** What was wrong with one record of an event that goes on: the line is counted, the event kept. */
export interface RecordProblem {
  reason: MalformedReason;
  detail?: string;
}

/** Builds a Malformed record for a line. */
export function malformed(
  reason: MalformedReason,
  line: string,
  offset: number | undefined,
  detail?: string,
): MalformedWithDetail {
  const entry: MalformedWithDetail = { reason, sample: sampleOf(line) };
  if (offset !== undefined) entry.offset = offset;
  if (detail !== undefined) entry.detail = detail;
  return entry;
}

/** Drops the `\r` a CRLF file leaves at the end of each line. */
export function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Rejects lines no text log format can contain: longer than MAX_LINE_CHARS (`too_long`), or with
 * raw NUL or C0 control characters other than tab (`binary`; syslog daemons and JSON both escape
 * these, so a raw one means the file holds binary data). Returns null when the line may be parsed.
 */
export function screenLine(line: string): MalformedReason | null {
  if (line.length > MAX_LINE_CHARS) return 'too_long';
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code < 0x20 && code !== 0x09) return 'binary';
  }
  return null;
}

/**
 * True when the text shows signs of bytes that were not valid UTF-8: the replacement character a
 * lenient decoder substitutes, or a lone surrogate (from a JSON `\ud800` escape).
 */
export function hasInvalidUtf8(text: string): boolean {
  return text.includes('\ufffd') || wellFormed(text) !== text;
}

/** Every string leaving a parser goes through this: lone surrogates become U+FFFD. */
export { wellFormed };

/** A stable key for an event without an id of its own: `format:` + SHA-1 of the given text. */
export function hashKey(format: string, text: string): string {
  return `${format}:${hexDigest('sha1', text)}`;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,12}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO 8601 / RFC 3339 timestamp, including the nanosecond fractions Falco and rsyslog
 * write (truncated to milliseconds). A timestamp without a zone is taken as UTC. Null when the
 * text is not such a timestamp or names an impossible date.
 */
export function parseIsoTime(text: string): Date | null {
  const m = ISO_TIME.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return null;
  }
  let ms = utcTime(year, month - 1, day, hour, minute, Math.min(second, 59), millis);
  if (new Date(ms).getUTCDate() !== day) return null;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2, 4) || '0');
    // No zone is more than a day off UTC (the widest are -12:00 and +14:00): +99:99 is damage.
    if (hours > 23 || minutes > 59) return null;
    const offsetMinutes = hours * 60 + minutes;
    ms -= sign * offsetMinutes * 60_000;
  }
  return new Date(ms);
}

/**
 * Date.UTC with the year taken as written: Date.UTC reads years 0 to 99 as 1900 to 1999, which
 * would date an event "0099-06-15" to 1999. setUTCFullYear takes every year literally.
 */
function utcTime(year: number, monthIndex: number, day: number, hour: number, minute: number, second: number, millis: number): number {
  const date = new Date(Date.UTC(2000, monthIndex, day, hour, minute, second, millis));
  return date.setUTCFullYear(year, monthIndex, day);
}

/**
 * Turns an epoch number into a Date, guessing the unit by magnitude: seconds (before 1e11, i.e.
 * until the year 5138), milliseconds, microseconds, or nanoseconds. Null for non-finite or
 * negative values and dates past the year 9999.
 */
export function epochToDate(value: number): Date | null {
  if (!Number.isFinite(value) || value < 0) return null;
  let ms: number;
  if (value < 1e11) ms = value * 1000;
  else if (value < 1e14) ms = value;
  else if (value < 1e17) ms = value / 1000;
  else ms = value / 1e6;
  const date = new Date(Math.floor(ms));
  return Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999 ? null : date;
}

/** Parses a decimal integer string (or number); null when it is anything else. */
export function toInteger(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 20) return null;
  if (!/^-?\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** True for the login uid values that mean "not set": 4294967295 and -1. */
export function isUnsetUid(uid: number): boolean {
  return uid === UNSET_UID || uid === -1;
}

/**
 * Names a numeric uid through `options.resolveUid`, falling back to the decimal number.
 * Null for the unset login uid.
 */
export function nameUid(uid: number | null, host: string, options: ParserOptions): string | null {
  if (uid === null || isUnsetUid(uid)) return null;
  return uidNamer(host, options.resolveUid)(uid, null);
}

/** A plain (non-array) JSON object. */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a plain JSON object, else null (for optional chaining over records). */
export function asJsonObject(value: unknown): JsonObject | null {
  return isJsonObject(value) ? value : null;
}

/** Result of parsing one line as a JSON object. */
export type JsonLineResult =
  | { ok: true; value: JsonObject }
  | { ok: false; reason: MalformedReason; detail: string };

/**
 * Parses a line that must hold one JSON object. Truncated input (valid so far but unterminated)
 * is told apart from other syntax errors so operators can see a cut-off file.
 */
export function parseJsonObjectLine(text: string): JsonLineResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    const atEnd = position !== null && Number(position[1]) >= text.trimEnd().length;
    if (atEnd || /end of (JSON )?(data|input)|Unterminated/i.test(message)) {
      return { ok: false, reason: 'truncated', detail: message };
    }
    const reason = hasInvalidUtf8(text) ? 'invalid_utf8' : 'bad_json';
    return { ok: false, reason, detail: message };
  }
  if (!isJsonObject(value)) {
    return { ok: false, reason: 'bad_json', detail: 'expected a JSON object' };
  }
  return { ok: true, value };
}

/** A string field, or null when absent/null. Throws FieldError when present with another type. */
export function optionalString(obj: JsonObject, key: string): string | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new FieldError(`${key} must be a string`);
  return wellFormed(value);
}

/**
 * A field holding an integer, as a JSON number or a decimal string (shippers disagree).
 * Throws FieldError when present with another type.
 */
export function optionalInteger(obj: JsonObject, key: string): number | null {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return null;
  const n = toInteger(value);
  if (n === null) throw new FieldError(`${key} must be an integer`);
  return n;
}

/** The largest process id a field may hold: Postgres `integer`, far above any pid_max Linux allows (2^22). */
export const MAX_PROCESS_ID = 2 ** 31 - 1;

/**
 * `n` when it can be a process id (0 to MAX_PROCESS_ID), or null for null. Throws FieldError
 * otherwise: a negative or huge pid is damage, counted, not a number to print and then drop.
 */
export function processId(n: number | null, key: string): number | null {
  if (n === null || (n >= 0 && n <= MAX_PROCESS_ID)) return n;
  throw new FieldError(`${key} must be a process id (0 to ${MAX_PROCESS_ID})`);
}

/**
 * A field of a JSON record has the wrong type. Used only inside parsers, where it is caught and
 * turned into a `bad_json` malformed entry (or, for an optional field read through FieldDamage,
 * a `bad_field` one beside the kept event); it never escapes `push()`.
 */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

/**
 * The optional fields of one record that had the wrong type. Vouch is a security control: an
 * event whose command, time and host are readable is kept when a field beside them is not, with
 * that field left out (null), and the line is counted as `bad_field` so the damage is seen.
 */
export class FieldDamage {
  private readonly problems: string[] = [];

  /** How many fields were left out so far. */
  get count(): number {
    return this.problems.length;
  }

  /** Forgets what was noted after the first `count` problems (a record refused whole). */
  forgetSince(count: number): void {
    this.problems.length = Math.min(this.problems.length, count);
  }

  /** Notes a field left out, with what was wrong with it (`pid must be an integer`). */
  leftOut(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  /** Runs the reader of an optional field: a FieldError is noted and the field reads as null. */
  read<T>(reader: () => T | null): T | null {
    try {
      return reader();
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      this.leftOut(error.message);
      return null;
    }
  }

  /** optionalString, null when of the wrong type. */
  string(obj: JsonObject, key: string): string | null {
    return this.read(() => optionalString(obj, key));
  }

  /** optionalInteger, null when of the wrong type. */
  integer(obj: JsonObject, key: string): number | null {
    return this.read(() => optionalInteger(obj, key));
  }

  /** optionalInteger that must be a process id (see processId), null otherwise. */
  processId(obj: JsonObject, key: string): number | null {
    return this.read(() => processId(optionalInteger(obj, key), key));
  }

  /** The error for a required part that is missing, naming the fields left out on the way. */
  required(message: string): FieldError {
    return new FieldError(this.problems.length === 0 ? message : `${message} (${this.problems.join('; ')})`);
  }

  /** The `bad_field` entry for the line of a kept event, or null when nothing was left out. */
  report(line: string, offset: number | undefined): MalformedWithDetail | null {
    if (this.problems.length === 0) return null;
    return malformed('bad_field', line, offset, `kept without: ${this.problems.join('; ')}`);
  }
}

/**
 * Whether splitWords may not give back the arguments `text` was joined from: it holds a blank
 * between words, so an argument that held one cannot be told apart (such events carry
 * `argv_inexact`).
 */
export function splitMayBlur(text: string): boolean {
  return /[ \t]/.test(text.trim());
}

/**
 * Splits on runs of spaces and tabs, dropping empty words (for logs that joined argv with spaces,
 * losing the boundaries).
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i === text.length ? 0x20 : text.charCodeAt(i);
    const isSpace = code === 0x20 || code === 0x09;
    if (isSpace) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return words;
}
