/**
 * Field decoding of audit record bodies straight from the bytes a line was read as: the same
 * rules as decode-field.ts (field starts, quoting, hex, "no value" markers), with a string made
 * only for a value that is kept. Positions are absolute in the buffer; nothing here throws.
 */

/** Value of each byte as a hex digit, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_VALUE[65 + c] = 10 + c;
  HEX_VALUE[97 + c] = 10 + c;
}

/** Scratch space for decoded hex; grown when a longer value comes (never shrunk: one per process). */
let scratch = Buffer.allocUnsafe(4096);

/** True when `bytes[at, end)` starts with the ASCII `name`. */
export function bytesStartWith(bytes: Buffer, at: number, end: number, name: string): boolean {
  if (end - at < name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** Where the unquoted value at `from` ends: the next space, or `end`. */
export function wordEnd(bytes: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && bytes[i] !== 32) i++;
  return i;
}

/**
 * Start of the value of the first `name` field (name ends with `=`) in `bytes[start, end)`, or -1:
 * a match must start the range or follow a space, as decode-field.ts rawFieldAt has it.
 */
export function fieldValueAt(bytes: Buffer, start: number, end: number, name: string): number {
  const first = name.charCodeAt(0);
  for (let i = start; i < end; i++) {
    if (bytes[i] !== first || (i > start && bytes[i - 1] !== 32)) continue;
    if (bytesStartWith(bytes, i, end, name)) return i + name.length;
  }
  return -1;
}

/** Short values up to this many bytes are looked up in the intern table. */
const INTERN_MAX_BYTES = 32;
/** Slots of the intern table (a power of two). */
const INTERN_SLOTS = 4096;
/** Strings made from short byte values, by a hash of their bytes; a slot holds the latest one. */
const interned: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/**
 * `bytes[from, to)` as text: UTF-8 when the line holds non-ASCII bytes, else byte for byte. Short
 * ASCII values (host and user names, terminals, paths, common arguments) repeat from record to
 * record, so they are looked up by their bytes first and made into a string only when new: a
 * lookup is a hash and a comparison, cheaper than making a string (and its garbage).
 */
export function textAt(bytes: Buffer, from: number, to: number, utf8: boolean): string {
  if (utf8 || to - from > INTERN_MAX_BYTES) return bytes.toString(utf8 ? 'utf8' : 'latin1', from, to);
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  const slot = (hash >>> 0) & (INTERN_SLOTS - 1);
  const known = interned[slot];
  if (known !== undefined && known.length === to - from && sameText(known, bytes, from)) return known;
  const text = bytes.toString('latin1', from, to);
  interned[slot] = text;
  return text;
}

/** True when `text` is the bytes at `from` (as many as it has characters). */
function sameText(text: string, bytes: Buffer, from: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[from + i]) return false;
  return true;
}

/** `bytes[from, to)` as a number when it is 1 to 15 decimal digits (decode-field.ts intField), else null. */
export function intAt(bytes: Buffer, from: number, to: number): number | null {
  if (to <= from || to - from > 15) return null;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value;
}

/** True when `bytes[from, to)` is one of the kernel's "no value" markers: empty, (null), (none), ?. */
export function isNoValueAt(bytes: Buffer, from: number, to: number): boolean {
  const length = to - from;
  if (length === 0) return true;
  if (length === 1) return bytes[from] === 63; /* ? */
  if (length === 6) return bytesStartWith(bytes, from, to, '(null)') || bytesStartWith(bytes, from, to, '(none)');
  return false;
}

/** End of the text inside a quoted value at `from` (decode-field.ts stripQuotes: a missing closing quote is tolerated). */
function quotedEnd(bytes: Buffer, from: number, to: number): number {
  return to - from > 1 && bytes[to - 1] === bytes[from] ? to - 1 : to;
}

/** True when the value at `from` is quoted (`"` or `'`). */
function isQuoted(bytes: Buffer, from: number, to: number): boolean {
  if (from >= to) return false;
  const first = bytes[from];
  return first === 34 || first === 39;
}

/**
 * Decodes the hex `bytes[from, to)` into the scratch buffer; returns the byte count, or -1 when
 * the length is odd or a character is not a hex digit.
 */
function hexIntoScratch(bytes: Buffer, from: number, to: number): number {
  const length = to - from;
  if (length % 2 !== 0) return -1;
  const count = length >> 1;
  if (count > scratch.length) scratch = Buffer.allocUnsafe(Math.max(count, scratch.length * 2));
  const out = scratch;
  for (let i = from, o = 0; i < to; i += 2, o++) {
    const high = HEX_VALUE[bytes[i]!]!;
    const low = HEX_VALUE[bytes[i + 1]!]!;
    if ((high | low) < 0) return -1;
    out[o] = (high << 4) | low;
  }
  return count;
}

/**
 * An untrusted-string field (argument, path, cwd, exe) `bytes[from, to)` as text, as decode-field.ts
 * decodeField decodes it: quoted text as it is, unquoted text as hex read as UTF-8. Null for the
 * "no value" markers; undefined when the hex is bad.
 */
export function decodeFieldAt(bytes: Buffer, from: number, to: number, utf8: boolean): string | null | undefined {
  if (isQuoted(bytes, from, to)) return textAt(bytes, from + 1, quotedEnd(bytes, from, to), utf8);
  if (isNoValueAt(bytes, from, to)) return null;
  const count = hexIntoScratch(bytes, from, to);
  return count < 0 ? undefined : scratch.toString('utf8', 0, count);
}

/**
 * decodeFieldAt without the final UTF-8 decoding, for the chunks of a split argument (joined as
 * bytes, so a character cut between two chunks comes out whole): a copy of the bytes, or null /
 * undefined as decodeFieldAt.
 */
export function decodeFieldBytesAt(bytes: Buffer, from: number, to: number): Buffer | null | undefined {
  if (isQuoted(bytes, from, to)) return Buffer.from(bytes.subarray(from + 1, quotedEnd(bytes, from, to)));
  if (isNoValueAt(bytes, from, to)) return null;
  const count = hexIntoScratch(bytes, from, to);
  return count < 0 ? undefined : Buffer.from(scratch.subarray(0, count));
}

/** A quoted value without its quotes (stripQuotes), or the value as it is. */
export function unquotedAt(bytes: Buffer, from: number, to: number, utf8: boolean): string {
  return isQuoted(bytes, from, to) ? textAt(bytes, from + 1, quotedEnd(bytes, from, to), utf8) : textAt(bytes, from, to, utf8);
}
