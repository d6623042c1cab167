/**
 * Text that keeps the bytes of invalid UTF-8, for messages that are joined before they are read.
 * sudo cuts a long command into `(command continued)` parts at a byte count, so a multi-byte
 * character can end one part and begin the next: each half is invalid UTF-8 on its own, and text
 * decoded part by part has lost the character (two U+FFFD) and the parts' true byte lengths,
 * which say whether the cut fell inside a word. Kept text decodes valid UTF-8 as usual and each
 * byte of an invalid sequence as the lone surrogate U+DC80 + (byte − 0x80), as Python's
 * `surrogateescape` does; joined parts are then turned back into their bytes and decoded once.
 * No UTF-8 decoder yields a lone surrogate, so kept bytes are never confused with text.
 */

/** The first and last code unit of a kept byte (0x80 to 0xFF). */
const KEPT_FIRST = 0xdc80;
const KEPT_LAST = 0xdcff;

/** Code units built per String.fromCharCode call, well inside any engine's argument limit. */
const CHUNK = 4096;

/** `bytes` as kept text: valid UTF-8 decoded, each byte of an invalid sequence kept (see above). */
export function decodeKeepingBytes(bytes: Uint8Array): string {
  const units: number[] = [];
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      units.push(KEPT_FIRST + (bytes[i]! - 0x80));
      i += 1;
    } else {
      const point = codePoint(bytes, i, length);
      if (point > 0xffff) units.push(0xd800 + ((point - 0x10000) >> 10), 0xdc00 + ((point - 0x10000) & 0x3ff));
      else units.push(point);
      i += length;
    }
    if (units.length >= CHUNK) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode(...units);
}

/** True when `text` holds kept bytes. */
export function holdsKeptBytes(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= KEPT_FIRST && unit <= KEPT_LAST && !isLowHalfOfPair(text, i)) return true;
  }
  return false;
}

/** The bytes kept text stands for, counted without building them. */
export function keptByteLength(text: string): number {
  let kept = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= KEPT_FIRST && unit <= KEPT_LAST && !isLowHalfOfPair(text, i)) kept++;
  }
  // Buffer.byteLength counts a lone surrogate as the three bytes of U+FFFD; a kept byte is one.
  return Buffer.byteLength(text) - 2 * kept;
}

/** Kept text turned back into its bytes and decoded as UTF-8 (what is still invalid becoming U+FFFD). */
export function restoreUtf8(text: string): string {
  if (!holdsKeptBytes(text)) return text;
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < KEPT_FIRST || unit > KEPT_LAST || isLowHalfOfPair(text, i)) continue;
    if (i > runStart) parts.push(Buffer.from(text.slice(runStart, i), 'utf8'));
    parts.push(Buffer.of(unit - KEPT_FIRST + 0x80));
    runStart = i + 1;
  }
  if (runStart < text.length) parts.push(Buffer.from(text.slice(runStart), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

/** True when the low surrogate at `i` completes a pair (an astral character, not a kept byte). */
function isLowHalfOfPair(text: string, i: number): boolean {
  const before = i > 0 ? text.charCodeAt(i - 1) : 0;
  return before >= 0xd800 && before <= 0xdbff;
}

/** Length of the valid UTF-8 sequence at `i` (1 to 4), or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + length > bytes.length) return 0;
  const second = bytes[i + 1]!;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const next = bytes[i + k]!;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

function codePoint(bytes: Uint8Array, i: number, length: number): number {
  const lead = bytes[i]!;
  if (length === 1) return lead;
  let point = lead & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
  for (let k = 1; k < length; k++) point = (point << 6) | (bytes[i + k]! & 0x3f);
  return point;
}
