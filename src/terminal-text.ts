/**
 * The one sanitiser for attacker-controlled text (command lines, hosts, paths, names, reasons)
 * wherever a person reads it: the operator's terminal, Slack messages, Duo push context, reports
 * and log fields all make the same characters visible in the same notation.
 */

/**
 * C0 and C1 controls and DEL (escape sequences, carriage returns), bidirectional marks,
 * overrides and isolates, zero-width and other invisible formatting characters (text that
 * displays differently from what ran). Lone surrogates and tag characters are handled apart.
 */
function isUnsafeForTerminal(code: number): boolean {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  if (code < 0xad) return false;
  return (
    code === 0xad || code === 0x34f || code === 0x61c || code === 0x115f || code === 0x1160 || code === 0x17b4 || code === 0x17b5 ||
    (code >= 0x180b && code <= 0x180f) || (code >= 0x200b && code <= 0x200f) ||
    code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x206f) || code === 0x3164 || code === 0xfeff || code === 0xffa0 || (code >= 0xfff9 && code <= 0xfffb)
  );
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Invisible characters beyond the BMP: tag characters (U+E0000–U+E007F), which can smuggle text,
 * the musical format controls (U+1D173–U+1D17A) and the shorthand format controls
 * (U+1BCA0–U+1BCA3). By surrogate pair, so no code point is computed for ordinary text.
 */
function isInvisiblePair(high: number, low: number): boolean {
  if (high === 0xdb40) return low >= 0xdc00 && low <= 0xdc7f;
  if (high === 0xd834) return low >= 0xdd73 && low <= 0xdd7a;
  return high === 0xd82f && low >= 0xdca0 && low <= 0xdca3;
}

const KEEP_ONE = { escape: null, width: 1 } as const;

/**
 * The piece of terminal-safe output for the character at `i`: its escape, or null when the
 * character (one code unit, or a surrogate pair) is printed as is. `width` is how many code units
 * of the input the piece covers.
 */
function escapeAt(text: string, i: number, keepLineBreaks = false): { escape: string | null; width: number } {
  const code = text.charCodeAt(i);
  if (keepLineBreaks && (code === 0x0a || code === 0x09)) return KEEP_ONE;
  if (isHighSurrogate(code)) {
    const next = text.charCodeAt(i + 1);
    if (!isLowSurrogate(next)) return { escape: cachedEscape(code), width: 1 };
    if (isInvisiblePair(code, next)) return { escape: `\\u{${(text.codePointAt(i) ?? 0).toString(16)}}`, width: 2 };
    return { escape: null, width: 2 };
  }
  if (isLowSurrogate(code)) return { escape: cachedEscape(code), width: 1 };
  return isUnsafeForTerminal(code) ? { escape: cachedEscape(code), width: 1 } : KEEP_ONE;
}

function hex4(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Escapes made once per code unit: text made of nothing else costs a lookup per character. */
const ESCAPES = new Map<number, string>();

function cachedEscape(code: number): string {
  let escape = ESCAPES.get(code);
  if (escape === undefined) {
    escape = code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : hex4(code);
    ESCAPES.set(code, escape);
  }
  return escape;
}

/**
 * Attacker-controlled text made safe to print on a terminal: control and invisible formatting
 * characters become `\xNN` / `\uNNNN` (tag characters `\u{eXXXX}`), so a hostile log line can
 * neither move the cursor, rewrite earlier output, nor hide part of a command. Text without such
 * characters is returned as is. One pass over the text.
 */
export function terminalText(text: string): string {
  return visibleText(text, SINGLE_LINE);
}

/** How visibleText treats line structure. */
export interface VisibleTextOptions {
  /**
   * true for multi-line text shown as such (a command in a code block, a typed reason): `\n` and
   * `\t` are kept. false (the default) for single-line fields (host, directory, user), where a
   * newline could draw a fake line, so it becomes `\x0a` like any other control character.
   */
  keepLineBreaks?: boolean;
}

const SINGLE_LINE: VisibleTextOptions = {};

/**
 * Attacker-controlled text with control, bidirectional, zero-width and other invisible characters
 * (C0, C1, DEL, soft hyphen, U+034F, U+061C, the Hangul fillers U+115F, U+1160, U+3164 and
 * U+FFA0, U+17B4/5, U+180B–U+180F, U+200B–U+200F, U+2028/9, U+202A–U+202E, U+2060–U+206F, U+FEFF,
 * U+FFF9–U+FFFB, tag characters and the other format controls beyond the BMP, lone surrogates)
 * shown as visible escapes
 * (`\x1b`, `\u202e`, `\u{e0041}`). One pass; text with nothing to escape is returned as is.
 */
export function visibleText(text: string, options: VisibleTextOptions = SINGLE_LINE): string {
  const keepLineBreaks = options.keepLineBreaks === true;
  const parts: string[] = [];
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const { escape, width } = escapeAt(text, i, keepLineBreaks);
    if (escape !== null) {
      parts.push(text.slice(last, i), escape);
      last = i + width;
    }
    i += width;
  }
  if (last === 0) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

/** What a cut-off prefix ends with. */
export const CUT_MARK = '\u2026';

/**
 * The start of `text` made terminal-safe as terminalText does, in at most `maxChars` UTF-16 code
 * units. When the text does not fit, it is cut before the first piece that would overflow (never
 * inside a surrogate pair or an escape) and ends with `…`, all within `maxChars`. Only the part
 * that is kept is looked at, so a megabyte of input costs no more than `maxChars` of it.
 */
export function terminalPrefix(text: string, maxChars: number): string {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError(`maxChars must be an integer >= 1, got ${maxChars}`);
  let out = '';
  // The longest prefix of `out` that still leaves room for the cut mark.
  let withRoomForMark = 0;
  for (let i = 0; i < text.length; ) {
    const { escape, width } = escapeAt(text, i);
    const piece = escape ?? text.slice(i, i + width);
    if (out.length + piece.length > maxChars) return out.slice(0, withRoomForMark) + CUT_MARK;
    out += piece;
    if (out.length <= maxChars - CUT_MARK.length) withRoomForMark = out.length;
    i += width;
  }
  return out;
}
