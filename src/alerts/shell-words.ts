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

/**
 * One simple command: its words, whether its output goes to the next one (`a | b`), and the
 * input redirection that ended its words: `<<<` (the next command's first word is its
 * here-string) or `<<` (the next command's first word is a here-document's delimiter, and the
 * lines after it up to that delimiter are its input).
 */
export interface ShellCommand {
  words: ShellWord[];
  pipe: boolean;
  input: '<<<' | '<<' | null;
  /** Ended by a newline or the end of the script (a here-document's lines start after it). */
  endsLine: boolean;
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
      const input = c === 0x3c && script.charCodeAt(i - 1) !== 0x3c ? hereInput(script, i) : null;
      if (words.length > 0) commands.push({ words, pipe, input, endsLine: c === 0x0a });
      else if (c === 0x0a && commands.length > 0) (commands[commands.length - 1] as ShellCommand).endsLine = true;
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
  if (words.length > 0) commands.push({ words, pipe: false, input: null, endsLine: true });
  else if (commands.length > 0) (commands[commands.length - 1] as ShellCommand).endsLine = true;
  return commands;
}

/** `<<<` or `<<` (`<<-` too) starting at `at`; null for a plain `<` or a longer run. */
function hereInput(script: string, at: number): ShellCommand['input'] {
  let k = at;
  while (script.charCodeAt(k) === 0x3c) k++;
  return k - at === 3 ? '<<<' : k - at === 2 ? '<<' : null;
}

/**
 * For each command, the commands of the line whose standard input it really is, or null: the
 * word after a `<<<` is a here-string, and the lines of a here-document (after the line with
 * `<<DELIM`, up to a line holding only DELIM) are input too, though they were split into words
 * like commands. The line's commands are given because the input may be piped on
 * (`cat <<EOF | chpasswd`). `<<-` and a quoted delimiter (`<<'EOF'`) are read alike.
 */
export function hereInputsOf(commands: readonly ShellCommand[]): Array<readonly ShellCommand[] | null> {
  const inputOf: Array<readonly ShellCommand[] | null> = commands.map(() => null);
  // Each command's line, as one array shared by the commands on it (one pass, so a long line of
  // here-strings costs no more than its length).
  const lineOf: Array<readonly ShellCommand[]> = [];
  for (let start = 0; start < commands.length; ) {
    let end = start;
    while (end < commands.length - 1 && !(commands[end] as ShellCommand).endsLine) end++;
    const line = commands.slice(start, end + 1);
    for (let c = start; c <= end; c++) lineOf.push(line);
    start = end + 1;
  }
  for (let c = 0; c < commands.length - 1; c++) {
    const reader = commands[c] as ShellCommand;
    if (reader.input === null) continue;
    const line = lineOf[c] as readonly ShellCommand[];
    if (reader.input === '<<<') {
      inputOf[c + 1] = line;
      continue;
    }
    const first = (commands[c + 1] as ShellCommand).words[0]?.value ?? '';
    const delimiter = first.startsWith('-') ? first.slice(1) : first;
    let body = c + 1;
    while (body < commands.length && lineOf[body] === line) body++;
    for (; body < commands.length; body++) {
      const words = (commands[body] as ShellCommand).words;
      if (words.length === 1 && (words[0] as ShellWord).value === delimiter) break;
      inputOf[body] = line;
    }
    c = body - 1;
  }
  return inputOf;
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

/** What a command's words feed, or are fed to, besides being a command. */
export interface ShellFeeds {
  /** The words of the command this one's output is piped to (`a | b`), or null. */
  pipedTo: readonly ShellWord[] | null;
  /** The commands of the line these words are really the input of (a here-string or here-document lines), or null. */
  inputOf: readonly ShellCommand[] | null;
  /** With inputOf: only the first word is input (a here-string); the rest are the reader's own arguments. */
  hereString: boolean;
}

/**
 * The script with the words of each simple command replaced by `redact(words, feeds)` (feeds:
 * where its output goes, or whose input its words are; see ShellFeeds), written back into
 * the script where the value changed: the part between the longest common prefix and suffix of
 * the old and new values replaces the script characters it came from, so quotes and everything
 * that did not change stay byte for byte. The script itself when nothing changed.
 */
export function rewriteShellWords(script: string, redact: (words: readonly ShellWord[], feeds: ShellFeeds) => readonly string[]): string {
  let out = '';
  let last = 0;
  const commands = shellCommands(script);
  const inputs = hereInputsOf(commands);
  for (let c = 0; c < commands.length; c++) {
    const { words: command, pipe } = commands[c] as ShellCommand;
    const pipedTo = pipe ? ((commands[c + 1] as ShellCommand | undefined)?.words ?? null) : null;
    const inputOf = inputs[c] ?? null;
    const redacted = redact(command, { pipedTo, inputOf, hereString: inputOf !== null && inputOf[0]?.input === '<<<' });
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
