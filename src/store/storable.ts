import { createHash } from 'node:crypto';
import type { CommandEvent } from '../sources/command-event.js';
import { replaceEvery } from '../replace-every.js';
import { wellFormed } from '../well-formed.js';

/**
 * The one boundary between parsed input and the database: every command event passes through
 * storableEvent() before it is written, whatever format or path (tailer, /ingest, `vouch ingest`)
 * it came from. Log text is attacker-controlled, and Postgres refuses some of what a string can
 * hold; one such value would otherwise fail the whole transaction and every event read with it.
 *
 * - NUL, which neither `text` nor `jsonb` can hold, becomes U+FFFD; so do lone surrogates, which
 *   `jsonb` refuses (and UTF-8 cannot encode), in keys and values alike.
 * - Numbers outside their column's range (pid and ppid are `integer`, the login uid `bigint`)
 *   become null: an impossible number says nothing worth keeping.
 * - A time that is invalid or outside years 1 to 9999 becomes the ingest time, and the
 *   event says so in `extra.time_unstorable`.
 * - Values stored in btree indexes (the event key, host and user names) are bounded so an index
 *   entry never exceeds its page limit: a long event key is replaced by its digest, which keeps a
 *   replay deduplicated; long names are cut.
 */

/** Range of a Postgres `integer` column. */
const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;
/**
 * Times stored as they are: years 1 to 9999. `timestamptz` holds more, but not every driver
 * writes a five-digit or BC year in a form the server reads, and no audit log is dated there.
 */
/** 0001-01-01T00:00:00Z (Date.UTC reads years below 100 as 19xx, so it is written out). */
const EARLIEST_TIMESTAMP_MS = -62_135_596_800_000;
const LATEST_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Longest event key stored as is; longer keys are stored as their SHA-256. */
export const MAX_EVENT_KEY_CHARS = 256;
/** Longest host, user or run-as name stored; these are indexed (alerts by owner). */
export const MAX_NAME_CHARS = 512;

/** Text Postgres `text` and `jsonb` both accept: no NUL, no lone surrogate. */
export function storableText(text: string): string {
  return wellFormed(replaceEvery(text, '\u0000', '\uFFFD'));
}

/** storableText(), null kept as null. */
export function storableNullableText(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

/** An integer a Postgres `integer` column accepts, or null. */
export function storableInt4(value: number | null): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX ? value : null;
}

/** An integer a Postgres `bigint` column accepts exactly (JavaScript numbers: the safe range), or null. */
export function storableInt8(value: number | null): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** Whether a `timestamptz` column can hold the date. */
export function isStorableDate(value: Date): boolean {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  return Number.isFinite(ms) && ms >= EARLIEST_TIMESTAMP_MS && ms <= LATEST_TIMESTAMP_MS;
}

/**
 * The event as the database can hold it (see the module comment); `now` replaces a time that
 * cannot be stored. Returns the same object when nothing needed changing.
 */
export function storableEvent(event: CommandEvent, now: Date): CommandEvent {
  const timeOk = isStorableDate(event.time);
  const extra = storableExtra(event.extra, timeOk);
  const out: CommandEvent = {
    ...event,
    time: timeOk ? event.time : now,
    host: storableName(event.host) ?? '',
    user: storableName(event.user),
    loginUid: storableInt8(event.loginUid),
    runAs: storableName(event.runAs),
    argv: Array.isArray(event.argv) ? event.argv.map((arg) => storableText(String(arg))) : [],
    command: storableText(String(event.command)),
    exe: storableNullableText(event.exe),
    cwd: storableNullableText(event.cwd),
    pid: storableInt4(event.pid),
    ppid: storableInt4(event.ppid),
    sourceFormat: storableText(String(event.sourceFormat)),
    eventKey: storableEventKey(String(event.eventKey)),
  };
  if (event.denialReason !== undefined) out.denialReason = storableText(String(event.denialReason));
  if (extra !== undefined) out.extra = extra;
  return out;
}

/** A long key becomes its digest: deterministic, so reading the same record again still dedupes. */
function storableEventKey(key: string): string {
  const text = storableText(key);
  if (text.length <= MAX_EVENT_KEY_CHARS) return text;
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function storableName(name: string | null): string | null {
  if (name === null || name === undefined) return null;
  // Cut before cleaning, so a pair split by the cut becomes U+FFFD instead of a lone surrogate.
  const text = String(name);
  return storableText(text.length > MAX_NAME_CHARS ? text.slice(0, MAX_NAME_CHARS) : text);
}

/**
 * Keys and values made storable. Values that are not strings (a JSON source may put anything
 * there) are kept as their JSON text. Object.fromEntries makes `__proto__` an ordinary key.
 */
function storableExtra(extra: CommandEvent['extra'], timeOk: boolean): Record<string, string> | undefined {
  if ((extra === undefined || extra === null) && timeOk) return undefined;
  const entries =
    extra !== null && typeof extra === 'object'
      ? Object.entries(extra).map(([key, value]) => [storableText(key), storableText(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)))])
      : [];
  if (!timeOk) entries.push(['time_unstorable', 'true']);
  return Object.fromEntries(entries) as Record<string, string>;
}
