/**
 * A cheap screen in front of the redactor: the text an argument must contain for redactCommand to
 * find a secret in it. Kept beside the redactor so the two change together; a property test
 * checks the screen is a superset of what the redactor replaces.
 */
/**
 * Text one argument must contain (case aside) for the redactor to find a secret in the command:
 * every secret-bearing name it knows holds one of pass, pwd, secret, token, key, credential; the
 * tools whose flags take a password are named by their own words (mysql, ldap, curl, ...; `login`
 * for the registry clients, whose `-p` is a password only there); then the shapes its text
 * patterns look for (URLs with credentials, headers, cookies, Slack hooks, the prefixes of
 * well-known tokens). An argument without any of these cannot change, so it skips the redactor.
 * The list only needs to be a superset: a word too many costs a redactor call, never a secret.
 */
export const SECRET_HINTS: readonly string[] = [
  'pass', 'pwd', 'secret', 'token', 'key', 'credential', 'auth', 'cookie', 'login', 'from-literal',
  'mysql', 'mariadb', 'mongo', 'ldap', 'redis', 'curl', 'smbclient', 'rpcclient', 'useradd', 'usermod',
  'ipmitool', 'sqlcmd', 'skopeo', 'openssl', 'sudo -',
  '://', 'hooks.slack',
  'akia', 'asia', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva', 'abia', 'acca',
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'xapp-', 'glpat-', 'k_live_', 'aiza', 'npm_', 'hvs.', 'hvb.', 'eyj',
];

/**
 * Characters as the hint search compares them: ASCII letters lower-cased, other ASCII as itself,
 * and the two non-ASCII letters that the redactor's case-insensitive (re2) patterns fold into
 * ASCII ones, the Kelvin sign (K) and the long s (ſ), as k and s. Any other character is in no
 * hint.
 */
function folded(code: number): number {
  if (code >= 65 && code <= 90) return code + 32;
  if (code === 0x212a) return 107;
  if (code === 0x17f) return 115;
  return code;
}

/**
 * The hints as one Aho-Corasick automaton over the folded characters, so a text is searched for
 * all of them at once: one table step per character, whatever the text repeats. Characters that
 * occur in no hint share symbol 0, which leads back to the start.
 */
const ALPHABET = [...new Set(SECRET_HINTS.join(''))];
/** A symbol that leaves the state as it is: what quotes and backslashes are to quote-blind search. */
const STAY = ALPHABET.length + 1;
const SYMBOLS = ALPHABET.length + 2;
const symbolOf = (code: number): number => ALPHABET.indexOf(String.fromCharCode(folded(code))) + 1;
const ASCII_SYMBOL = Uint8Array.from({ length: 128 }, (_, code) => symbolOf(code));
const QUOTE_BLIND_SYMBOL = Uint8Array.from(ASCII_SYMBOL, (symbol, code) => (code === 0x22 || code === 0x27 || code === 0x5c ? STAY : symbol));
const KELVIN_SYMBOL = symbolOf(0x212a);
const LONG_S_SYMBOL = symbolOf(0x17f);

/**
 * The automaton's moves: `NEXT[state + symbol]` is the next state (states are numbered by their
 * offset in the table, a multiple of SYMBOLS), or -1 once some hint has just ended.
 */
const NEXT = buildAutomaton(SECRET_HINTS);

function buildAutomaton(hints: readonly string[]): Int32Array {
  // The trie: children per state by symbol, and which states end a hint.
  const children: Map<number, number>[] = [new Map()];
  const ends: boolean[] = [false];
  for (const hint of hints) {
    let state = 0;
    for (const ch of hint) {
      const symbol = symbolOf(ch.charCodeAt(0));
      let child = children[state].get(symbol);
      if (child === undefined) {
        child = children.push(new Map()) - 1;
        ends.push(false);
        children[state].set(symbol, child);
      }
      state = child;
    }
    ends[state] = true;
  }
  // Breadth first, so each state's failure state (shallower) has all its moves already.
  const moves: number[][] = children.map(() => new Array<number>(SYMBOLS).fill(0));
  const failure: number[] = children.map(() => 0);
  const queue: number[] = [];
  for (const [symbol, child] of children[0]) {
    moves[0][symbol] = child;
    queue.push(child);
  }
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head];
    // A state whose longest proper suffix ends a hint ends one too.
    ends[state] ||= ends[failure[state]];
    for (let symbol = 0; symbol < STAY; symbol++) {
      const child = children[state].get(symbol);
      if (child === undefined) {
        moves[state][symbol] = moves[failure[state]][symbol];
      } else {
        failure[child] = moves[failure[state]][symbol];
        moves[state][symbol] = child;
        queue.push(child);
      }
    }
  }
  moves.forEach((row, state) => (row[STAY] = state));
  const next = new Int32Array(children.length * SYMBOLS);
  moves.forEach((row, state) => row.forEach((to, symbol) => (next[state * SYMBOLS + symbol] = ends[to] ? -1 : to * SYMBOLS)));
  return next;
}

/**
 * Called through the prototype: argv strings come in many representations (flat, sliced, joined,
 * one or two bytes a character), and a `text.charCodeAt` site that has seen them all looks the
 * method up the slow, generic way on every character until the optimiser takes over.
 */
const charCodeAt = String.prototype.charCodeAt;

/**
 * True when some argument could hold a secret the redactor would replace; false means
 * redactCommand would return the argv unchanged. One automaton step per character, so it stays
 * linear and cheap on the megabyte scripts of a hostile log.
 */
export function mayHoldSecret(argv: readonly string[]): boolean {
  // Quote-blind: the redactor reads scripts' words, and `PA''SSWORD=x` in a script is the word PASSWORD=x.
  for (let i = 0; i < argv.length; i++) if (hasHint(argv[i], QUOTE_BLIND_SYMBOL)) return true;
  return false;
}

/**
 * Whether the redactor's script and text layers (redactArgumentText) could change this one
 * argument: a hint in it once quotes and backslashes are taken out, as the shell takes them out of
 * a script's words (`PA''SSWORD=x` is the word `PASSWORD=x`). False means they return it as it is.
 */
export function argumentMayHoldSecret(arg: string): boolean {
  return hasHint(arg, QUOTE_BLIND_SYMBOL);
}

function hasHint(text: string, asciiSymbol: Uint8Array = ASCII_SYMBOL): boolean {
  const length = text.length;
  let state = 0;
  for (let i = 0; i < length; i++) {
    const code = charCodeAt.call(text, i);
    state = NEXT[state + (code < 128 ? asciiSymbol[code] : code === 0x212a ? KELVIN_SYMBOL : code === 0x17f ? LONG_S_SYMBOL : 0)];
    if (state < 0) return true;
  }
  return false;
}
