/**
 * Shell words of a script (a `sh -c` argument, an ssh remote command), with where each character
 * of a word came from, so that a word can be redacted as an argument and the change written back
 * into the script with its quoting intact: `curl -u 'alice:S3cret' x` becomes
 * `curl -u 'alice:[REDACTED]' x`.
 *
 * Only what changes a word's value is modelled: blanks between words, `'...'`, `"..."` with its
 * backslash escapes, a backslash outside quotes, and the operators that end a simple command
 * (`;`, `&`, `|`, newline, parentheses, redirections). Expansions are kept as text. One pass, each
 * character looked at once, so a hostile megabyte script costs a few milliseconds.
 */

/**
 * One word: its value as the shell would pass it, and where it came from as runs of the script
 * copied to the value (quotes and escaping backslashes are what lies between the runs).
 */
export interface ShellWord {
  value: string;
  /** Whether quotes or backslashes made the value differ from the script text it spans. */
  quoted: boolean;
  /** Per run: its start in the script, its start in the value (runs are in order, back to back in the value). */
  runs: { from: number; at: number }[];
}

/** One simple command: its words, and whether its output goes to the next one (`a | b`). */
export interface ShellCommand {
  words: ShellWord[];
  pipe: boolean;
}

/** The simple commands of a script, each as its words. */
export function shellCommands(script: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: ShellWord[] = [];
  let parts: string[] = [];
  let runs: ShellWord['runs'] = [];
  let length = 0;
  let inWord = false;
  let quoted = false;
  // The run being copied: script[runFrom, i) goes to the value when it ends.
  let runFrom = -1;
  const endRun = (to: number) => {
    if (runFrom >= 0 && to > runFrom) {
      runs.push({ from: runFrom, at: length });
      parts.push(script.slice(runFrom, to));
      length += to - runFrom;
    }
    runFrom = -1;
  };
  const startRun = (at: number) => {
    if (runFrom < 0) runFrom = at;
    inWord = true;
  };
  const endWord = (at: number) => {
    endRun(at);
    if (inWord) words.push({ value: parts.length === 1 ? (parts[0] as string) : parts.join(''), quoted, runs });
    parts = [];
    runs = [];
    length = 0;
    inWord = false;
    quoted = false;
  };
  const n = script.length;
  for (let i = 0; i < n; i++) {
    const c = script.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      endWord(i);
    } else if (isCommandEnd(c)) {
      endWord(i);
      // `|` but not `||`: the command's output is the next one's input.
      const pipe = c === 0x7c && script.charCodeAt(i + 1) !== 0x7c && script.charCodeAt(i - 1) !== 0x7c;
      if (words.length > 0) commands.push({ words, pipe });
      words = [];
    } else if (c === 0x27 /* ' */) {
      endRun(i);
      inWord = true;
      quoted = true;
      const close = script.indexOf("'", i + 1);
      const to = close < 0 ? n : close;
      if (to > i + 1) {
        startRun(i + 1);
        endRun(to);
      }
      i = to;
    } else if (c === 0x22 /* " */) {
      endRun(i);
      inWord = true;
      quoted = true;
      for (i++; i < n && script.charCodeAt(i) !== 0x22; i++) {
        // Inside double quotes a backslash escapes only these; before anything else it is kept.
        if (script.charCodeAt(i) === 0x5c && i + 1 < n && DOUBLE_QUOTE_ESCAPES.has(script.charCodeAt(i + 1))) {
          endRun(i);
          i++;
        }
        startRun(i);
      }
      endRun(i);
    } else if (c === 0x5c /* \ */ && i + 1 < n) {
      endRun(i);
      quoted = true;
      startRun(++i);
    } else {
      startRun(i);
    }
  }
  endWord(n);
  if (words.length > 0) commands.push({ words, pipe: false });
  return commands;
}

/** The script index of value[k] of a word (k within the value). */
function sourceOf(word: ShellWord, k: number): number {
  let run = 0;
  while (run + 1 < word.runs.length && (word.runs[run + 1] as { at: number }).at <= k) run++;
  const r = word.runs[run] as { from: number; at: number };
  return r.from + (k - r.at);
}

/** `"`, `\`, `$`, `` ` `` and newline: what a backslash escapes inside double quotes. */
const DOUBLE_QUOTE_ESCAPES = new Set([0x22, 0x5c, 0x24, 0x60, 0x0a]);

/** `;` `&` `|` newline `(` `)` `<` `>`: the end of a simple command or of its words. */
function isCommandEnd(code: number): boolean {
  return code === 0x3b || code === 0x26 || code === 0x7c || code === 0x0a || code === 0x28 || code === 0x29 || code === 0x3c || code === 0x3e;
}

/**
 * The script with the words of each simple command replaced by `redact(words, pipedTo)` (the
 * words of the command its output goes to, or null), written back into
 * the script where the value changed: the part between the longest common prefix and suffix of
 * the old and new values replaces the script characters it came from, so quotes and everything
 * that did not change stay byte for byte. The script itself when nothing changed.
 */
export function rewriteShellWords(script: string, redact: (words: readonly ShellWord[], pipedTo: readonly ShellWord[] | null) => readonly string[]): string {
  let out = '';
  let last = 0;
  const commands = shellCommands(script);
  for (let c = 0; c < commands.length; c++) {
    const { words: command, pipe } = commands[c] as ShellCommand;
    const redacted = redact(command, pipe ? ((commands[c + 1] as ShellCommand | undefined)?.words ?? null) : null);
    for (let w = 0; w < command.length; w++) {
      const word = command[w] as ShellWord;
      const next = redacted[w] ?? word.value;
      // An empty word ('') has no runs: its change would go where it stood, which no redaction does.
      if (next === word.value || word.runs.length === 0) continue;
      const old = word.value;
      let prefix = 0;
      while (prefix < old.length && prefix < next.length && old.charCodeAt(prefix) === next.charCodeAt(prefix)) prefix++;
      let suffix = 0;
      while (suffix < old.length - prefix && suffix < next.length - prefix && old.charCodeAt(old.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)) suffix++;
      const changedEnd = old.length - suffix;
      const start = prefix < old.length ? sourceOf(word, prefix) : sourceOf(word, old.length - 1) + 1;
      const end = changedEnd > prefix ? sourceOf(word, changedEnd - 1) + 1 : start;
      if (start < last) continue;
      out += script.slice(last, start) + next.slice(prefix, next.length - suffix);
      last = end;
    }
  }
  return last === 0 && out === '' ? script : out + script.slice(last);
}
