/** Printing attacker-controlled text (command lines from logs) on an operator's terminal. */

// C0 and C1 controls and DEL (escape sequences, carriage returns), bidirectional overrides and
// isolates and zero-width characters (text that displays differently from what ran), and lone
// surrogates (not text at all).
const UNSAFE_FOR_TERMINAL =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Attacker-controlled text made safe to print on a terminal: control and invisible formatting
 * characters become `\xNN` / `\uNNNN`, so a hostile log line can neither move the cursor, rewrite
 * earlier output, nor hide part of a command. Text without such characters is returned as is.
 */
export function terminalText(text: string): string {
  UNSAFE_FOR_TERMINAL.lastIndex = 0;
  if (!UNSAFE_FOR_TERMINAL.test(text)) return text;
  UNSAFE_FOR_TERMINAL.lastIndex = 0;
  return text.replace(UNSAFE_FOR_TERMINAL, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
