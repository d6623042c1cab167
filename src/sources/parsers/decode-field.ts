/**
 * Field decoding of audit record bodies: `key=value` walking, quoting, hex. Everything works on
 * index ranges of the original line (indexOf/slice, no per-field regular expressions). Nothing
 * here throws on hostile input: bad values come back as `undefined` (bad hex) or `null` (absent).
 */

/** The auid/ses value that means "never set" (daemons, boot). */
export const UNSET_ID = 4294967295;

/** True when `s[start, end)` is one or more decimal digits. */
export function allDigits(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Calls `visit(key, rawValue)` for every `key=value` in `line[start, end)`. Raw values keep their
 * quotes (`"grep"`, `'...'`) so callers can tell quoted text from hex; a `'...'` value runs to the
 * last single quote in the range (user-space `msg='...'`, whose inner values may contain `'`).
 * Words without `=` (the `user` in old USER_CMD records) are skipped.
 */
export function forEachField(
  line: string,
  start: number,
  end: number,
  visit: (key: string, value: string) => void,
): void {
  let i = start;
  while (i < end) {
    while (i < end && line.charCodeAt(i) === 32) i++;
    if (i >= end) return;
    const keyStart = i;
    let c = line.charCodeAt(i);
    while (i < end && c !== 61 /* = */ && c !== 32) c = line.charCodeAt(++i);
    if (i >= end || c === 32) continue;
    const key = line.slice(keyStart, i);
    const v = i + 1;
    const first = line.charCodeAt(v);
    let valueEnd: number;
    if (first === 34 /* " */) {
      const close = line.indexOf('"', v + 1);
      valueEnd = close < 0 || close >= end ? end : close + 1;
    } else if (first === 39 /* ' */) {
      const close = line.lastIndexOf("'", end - 1);
      valueEnd = close <= v ? end : close + 1;
    } else {
      const space = line.indexOf(' ', v);
      valueEnd = space < 0 || space > end ? end : space;
    }
    visit(key, line.slice(v, valueEnd));
    i = valueEnd;
  }
}

/** Collects the fields of a range into a map (raw values, quotes kept). */
export function fieldMap(line: string, start: number, end: number, into = new Map<string, string>()) {
  forEachField(line, start, end, (k, v) => into.set(k, v));
  return into;
}

/** Any character that is not a hex digit. */
const NOT_HEX = /[^0-9A-Fa-f]/;

/** Hex (either case) to bytes; undefined when the length is odd or a character is not hex. */
export function decodeHex(hex: string): Buffer | undefined {
  // The regular expression runs natively, about twice as fast as a character loop on long
  // arguments. Buffer.from alone cannot validate: it reads only the low byte of each character.
  return hex.length % 2 === 0 && !NOT_HEX.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** Values the kernel writes for "no value". */
export function isNoValue(raw: string): boolean {
  return raw === '' || raw === '(null)' || raw === '(none)' || raw === '?';
}

/**
 * The bytes of an untrusted-string field (argument, path, cwd, cmd): quoted text as is, unquoted
 * text as hex. Null for the kernel's "no value" markers; undefined when the hex is bad.
 */
export function decodeFieldBytes(raw: string): Buffer | string | null | undefined {
  const first = raw.charCodeAt(0);
  if (first === 34 || first === 39) return stripQuotes(raw);
  if (isNoValue(raw)) return null;
  return decodeHex(raw);
}

/** Like decodeFieldBytes, as UTF-8 text (invalid sequences become U+FFFD). */
export function decodeField(raw: string | undefined): string | null | undefined {
  if (raw === undefined) return null;
  const bytes = decodeFieldBytes(raw);
  if (bytes === null || bytes === undefined || typeof bytes === 'string') return bytes;
  return bytes.toString('utf8');
}

/** Removes one pair of surrounding quotes; tolerates a missing closing quote. */
export function stripQuotes(raw: string): string {
  const first = raw.charCodeAt(0);
  if (first !== 34 && first !== 39) return raw;
  const last = raw.length > 1 ? raw.charCodeAt(raw.length - 1) : -1;
  return raw.slice(1, last === first ? -1 : undefined);
}

/** A decimal field as a number; null when absent or not a plain decimal. */
export function intField(raw: string | undefined): number | null {
  if (raw === undefined || !allDigits(raw, 0, raw.length) || raw.length > 15) return null;
  return Number(raw);
}

/** The raw value of the first `name` field (name ends with `=`) in the range, or null. */
export function rawFieldAt(line: string, start: number, end: number, name: string): string | null {
  let at = line.indexOf(name, start);
  // A match must start a field: at the range start or after a space.
  while (at >= 0 && at < end && at > start && line.charCodeAt(at - 1) !== 32) {
    at = line.indexOf(name, at + 1);
  }
  if (at < 0 || at >= end) return null;
  const v = at + name.length;
  const space = line.indexOf(' ', v);
  return line.slice(v, space < 0 || space > end ? end : space);
}

/** Audit rule keys: quoted, or hex with several keys separated by 0x01; joined with commas. */
export function decodeRuleKey(raw: string | undefined): string | null {
  return raw === undefined ? null : decodeRuleKeyText(decodeField(raw));
}

/** A decoded rule key field (see decodeRuleKey): null when empty or bad, several keys joined with commas. */
export function decodeRuleKeyText(key: string | null | undefined): string | null {
  if (!key) return null;
  return key.includes('\x01') ? key.split('\x01').join(',') : key;
}
