/**
 * Turns a command line a person typed into argv, the way a POSIX shell splits words (single
 * quotes, double quotes, backslashes), and back. The sandbox uses it so a typed command reaches the
 * demo audit log as the argv a real shell would have executed. No expansion of any kind happens:
 * `$HOME`, globs and `|` are literal text, as they would be inside quotes.
 */
import { replaceEvery } from '../replace-every.js';

/**
 * Splits `line` into words. Unquoted whitespace separates words; quotes group; a backslash
 * escapes the next character (outside single quotes). An unterminated quote runs to the end of the
 * line rather than failing, since the sandbox would rather record an odd command than refuse one.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) word += line[++i];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Quotes each word only when it needs it, so `splitShellWords(quoteShellWords(argv))` is `argv`. */
export function quoteShellWords(argv: readonly string[]): string {
  return argv.map(quoteShellWord).join(' ');
}

function quoteShellWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${replaceEvery(word, "'", `'\\''`)}'`;
}
