/**
 * The argument-aware redaction of a malformed line's sample. A line that failed to parse (or
 * parsed with a bad field) still holds its command's words: as JSON strings (`"argv":["sshpass",
 * "-p","S3cret"]`), as auditd's quoted or hex values (`a1="-p" a2=533363726574`). The text layer
 * alone does not know that the word after `sshpass -p` is a password, so the words are read out
 * of the line, redacted as an argument vector would be, and written back.
 */
import { REDACTED, redactCommand } from '../../alerts/redact.js';

/** One word of a line: `text[start, end)` is its written form, `value` what it says. */
interface LineWord {
  start: number;
  end: number;
  value: string;
  /** Written as hex (auditd), so a changed word is replaced whole. */
  hex: boolean;
}

/**
 * `text` with every word that the argument-aware layer redacts replaced: a double-quoted string
 * by the redacted text (escaped as JSON), a hex value by the redaction mark. One pass over the
 * text and one over the words, so it stays linear in the line.
 */
export function redactLineWords(text: string): string {
  const words = lineWords(text);
  if (words.length === 0) return text;
  const redacted = redactCommand(words.map((word) => word.value)).argv;
  let out = '';
  let at = 0;
  for (let k = 0; k < words.length; k++) {
    const word = words[k] as LineWord;
    const shown = redacted[k] as string;
    if (shown === word.value) continue;
    out += text.slice(at, word.start) + (word.hex ? REDACTED : JSON.stringify(shown).slice(1, -1));
    at = word.end;
  }
  return at === 0 ? text : out + text.slice(at);
}

/** The double-quoted strings of `text` (a last one cut short runs to the end) and its `=HEX` values. */
function lineWords(text: string): LineWord[] {
  const words: LineWord[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const c = text.charCodeAt(end);
        if (c === 0x22) break;
        if (c === 0x5c /* \ */) {
          escaped = true;
          end++;
        }
      }
      end = Math.min(end, text.length);
      const raw = text.slice(i + 1, end);
      words.push({ start: i + 1, end, value: escaped ? jsonStringValue(raw) : raw, hex: false });
      i = end;
    } else if (code === 0x3d /* = */) {
      let end = i + 1;
      while (end < text.length && isHexDigit(text.charCodeAt(end))) end++;
      const digits = end - i - 1;
      if (digits >= 2 && digits % 2 === 0 && (end === text.length || isBlank(text.charCodeAt(end)))) {
        words.push({ start: i + 1, end, value: Buffer.from(text.slice(i + 1, end), 'hex').toString('utf8'), hex: true });
      }
      i = end - 1;
    }
  }
  return words;
}

/** The text of a JSON string's inside, or the inside as written when it does not decode. */
function jsonStringValue(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** The end of an unquoted value: a space, a tab, a closing quote (auditd's `msg='...'`) or auditd's ENRICHED separator. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x27 || code === 0x1d;
}
