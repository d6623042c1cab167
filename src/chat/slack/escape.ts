/**
 * Making attacker-controlled text (command lines, paths, justifications) safe for Slack.
 *
 * Slack's mrkdwn gives meaning to `&`, `<` and `>` only: `<!channel>`, `<@U123>` and
 * `<https://evil|safe>` are all built from them, so escaping those three is what stops mentions and
 * disguised links. Everything else here is about keeping the text honest to a human reader: control
 * bytes and invisible formatting characters are shown instead of interpreted, backticks cannot close
 * a code span early, and truncation never leaves a broken entity or half an emoji behind.
 */

import { visibleText } from '../../terminal-text.js';
import { replaceEvery } from '../../replace-every.js';

const MRKDWN_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Escapes Slack's three control characters (`&`, `<` and `>`) and nothing else, in one pass. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (char) => MRKDWN_ENTITIES[char] ?? char);
}

/**
 * Control, bidirectional, zero-width and other invisible characters made visible by the shared
 * sanitiser (see visibleText in terminal-text.ts): `\xNN`, `\uNNNN`, `\u{eXXXX}`. Tabs and
 * newlines are kept, for multi-line text shown in a code block; single-line fields go through
 * inlineCode, which escapes newlines too. One pass; text with nothing to replace is returned as is.
 */
export function replaceControlChars(text: string): string {
  return visibleText(text, { keepLineBreaks: true });
}

/** The character shown instead of a backtick: looks alike, but never opens or closes a code span. */
export const BACKTICK_REPLACEMENT = '\u02cb';

/** Replaces backticks so untrusted text cannot end a code span or block it is shown in. */
export function neutraliseBackticks(text: string): string {
  return replaceEvery(text, '`', BACKTICK_REPLACEMENT);
}

/** Look-alikes of the characters mrkdwn formats with, for text that must never be formatted. */
const FORMATTING_LOOKALIKES: Record<string, string> = { '`': BACKTICK_REPLACEMENT, '*': '\u2217', '_': '\u02cd', '~': '\u223c' };

/**
 * A message's top-level `text` (what notifications, screen readers and clients without blocks
 * show; Slack reads it as mrkdwn): the whole line is made visible (no control, bidi or
 * zero-width characters, newlines shown as `\x0a`), `&<>` escaped and the formatting characters
 * replaced by look-alikes, so a host or owner named `*x*` or with backticks draws nothing. One
 * pass, linear in the text.
 */
export function plainMrkdwn(text: string): string {
  return visibleText(text).replace(/[&<>`*_~]/g, (char) => MRKDWN_ENTITIES[char] ?? FORMATTING_LOOKALIKES[char] ?? char);
}

/**
 * Makes untrusted text displayable: control bytes become visible (see replaceControlChars) and
 * backticks are neutralised. Does not escape mrkdwn; combine with escapeMrkdwn for mrkdwn fields.
 */
export function sanitizeText(text: string): string {
  return neutraliseBackticks(replaceControlChars(text));
}

/**
 * Sanitises and escapes untrusted text for a mrkdwn field, cut to `max` characters (see
 * truncateEscaped). Only a prefix is processed, so a 1 MB argument costs no more than a short one.
 */
export function untrustedMrkdwn(text: string, max: number): string {
  // Escaping and sanitising only ever lengthen text, so max + 1 source characters always reach
  // past the cut; the rest only needs counting for the note.
  if (text.length <= max + 1) return truncateEscaped(escapeMrkdwn(sanitizeText(text)), max);
  const prefix = escapeMrkdwn(sanitizeText(text.slice(0, max + 1)));
  return truncate(prefix, max, true, countCodePoints(text, max + 1));
}

/**
 * A single-line untrusted value (host, directory, user, rule name) as an inline code span, so
 * Slack shows `*bold*`, `_x_`, `> quote` or `#channel` literally: every control character,
 * newlines included, is escaped, backticks are neutralised, `&<>` are entities, and the span
 * (backticks included) fits in `max` characters. Only a bounded prefix of huge input is read.
 */
export function inlineCode(text: string, max: number): string {
  if (max < 3) throw new RangeError(`inline code needs room for at least one character, got ${max}`);
  const budget = max - 2;
  const source = text.length <= budget + 1 ? text : text.slice(0, budget + 1);
  const escaped = escapeMrkdwn(neutraliseBackticks(visibleText(source)));
  const body = source === text ? truncateEscaped(escaped, budget) : truncate(escaped, budget, true, countCodePoints(text, budget + 1));
  // An empty span would show two backticks; a visible placeholder says the value was empty.
  return `\`${body === '' ? '(empty)' : body}\``;
}

const ELLIPSIS = '\u2026';

/**
 * Cuts already-escaped text to at most `max` UTF-16 code units (Slack's limits are at least as
 * generous when counted in characters). When it cuts, it appends `… [N more characters]` inside the
 * limit, never splits an `&amp;`/`&lt;`/`&gt;` entity or a surrogate pair, and counts each removed
 * entity as one character. Text that fits is returned unchanged. `max` must be at least 1.
 */
export function truncateEscaped(text: string, max: number): string {
  return truncate(text, max, true);
}

/**
 * Cuts plain text (not entity-encoded, e.g. a plain_text object) like truncateEscaped, without
 * the entity rule. With `note: false` only `…` is appended.
 */
export function truncatePlain(text: string, max: number, note = true): string {
  if (!note && text.length > max) {
    assertMax(max);
    return text.slice(0, safeCutPoint(text, max - 1, false)) + ELLIPSIS;
  }
  return truncate(text, max, false);
}

/** `alsoRemoved`: characters already dropped beyond the end of `text`, included in the note. */
function truncate(text: string, max: number, entities: boolean, alsoRemoved = 0): string {
  assertMax(max);
  if (text.length <= max && alsoRemoved === 0) return text;
  let cut = safeCutPoint(text, max - 1, entities);
  // The note's width depends on the count it reports, which grows as the cut moves left: move the
  // cut until the note and the kept text fit together (a couple of rounds at most).
  for (let round = 0; round < 4; round++) {
    const estimate = truncationNote(countRemoved(text, cut, entities) + alsoRemoved);
    if (estimate.length >= max) break;
    const next = safeCutPoint(text, max - estimate.length, entities);
    const note = truncationNote(countRemoved(text, next, entities) + alsoRemoved);
    if (next + note.length <= max) return text.slice(0, next) + note;
    cut = next;
  }
  // Too little room for the note: a bare ellipsis still says something was cut.
  return text.slice(0, safeCutPoint(text, max - 1, entities)) + ELLIPSIS;
}

function assertMax(max: number): void {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`truncation limit must be an integer >= 1, got ${max}`);
}

function truncationNote(removed: number): string {
  return `${ELLIPSIS} [${removed} more characters]`;
}

/** The largest index <= `limit` that is neither inside an entity nor between surrogate halves. */
function safeCutPoint(text: string, limit: number, entities: boolean): number {
  let cut = Math.max(0, Math.min(limit, text.length));
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut -= 1;
  if (!entities) return cut;
  // Entities are at most 5 characters (`&amp;`); an `&` in the last 4 kept characters whose `;`
  // lies beyond the cut means the cut would split it. Only those few characters are looked at.
  for (let amp = cut - 1; amp >= 0 && cut - amp < 5; amp--) {
    if (text.charCodeAt(amp) !== 0x26) continue;
    if (text.slice(amp, cut).indexOf(';') === -1) cut = amp;
    break;
  }
  return cut;
}

/** Characters (code points; entities counted once) in `text` from `cut` to the end. */
function countRemoved(text: string, cut: number, entities: boolean): number {
  if (!entities) return countCodePoints(text, cut);
  let count = 0;
  for (let i = cut; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    else if (code === 0x26) i += entityLength(text, i) - 1;
    count++;
  }
  return count;
}

function entityLength(text: string, at: number): number {
  if (text.startsWith('&amp;', at)) return 5;
  if (text.startsWith('&lt;', at) || text.startsWith('&gt;', at)) return 4;
  return 1;
}

function countCodePoints(text: string, from: number): number {
  let count = 0;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    count++;
  }
  return count;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
