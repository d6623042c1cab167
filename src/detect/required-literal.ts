/**
 * A literal every match of a regex must contain, read from the pattern source, so a matcher can
 * reject text without the literal by one native `includes` instead of running the automaton over
 * it (long `bash -c` scripts make the automaton the dearest part of rule matching).
 *
 * The reading is deliberately conservative: only the top level of the pattern is looked at, only
 * ASCII characters written literally (or as an escaped punctuation mark) count, and a character
 * followed by a quantifier does not. Anything the reader does not fully understand (a top-level
 * alternation, flag groups such as `(?i)`, `\Q...\E`, unbalanced brackets) gives null: no literal,
 * the pattern always runs. A wrong null costs speed only; a literal is only ever one that every
 * match contains, so results never change.
 */

/** Escaped characters that stand for themselves (`\.`, `\/`, `\|`, ...). */
const ESCAPED_LITERALS = new Set('.\\/|()[]{}*+?^$-=:;,!#%&<>@"\'`~_ '.split(''));

/** One-letter escapes that are not literal characters here (classes, assertions, controls). */
const SINGLE_ESCAPES = 'bBsSdDwWAzafnrtv';

/** Characters that quantify the atom before them. */
function isQuantifier(c: string | undefined): boolean {
  return c === '*' || c === '+' || c === '?' || c === '{';
}

/** Index just past the character class starting at `source[start] === '['`, or -1 when unclosed. */
function skipClass(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  // A `]` right after the opening bracket is a member, not the end.
  if (source[i] === ']') i++;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') i += 2;
    else if (c === '[' && source[i + 1] === ':') {
      const close = source.indexOf(':]', i + 2);
      if (close < 0) return -1;
      i = close + 2;
    } else if (c === ']') return i + 1;
    else i++;
  }
  return -1;
}

/** Index just past the group starting at `source[start] === '('`, or -1 when unbalanced. */
function skipGroup(source: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') i += 2;
    else if (c === '[') {
      i = skipClass(source, i);
      if (i < 0) return -1;
    } else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
      i++;
    }
  }
  return -1;
}

/** Most strings a run of alternatives may fan out to before it is cut. */
const MAX_ALTERNATIVES = 16;

/** A group's alternatives when each is plain text (`(tcp|udp)`, `(?:a|b)`), else null. */
function literalAlternatives(group: string): string[] | null {
  const body = group.startsWith('(?:') ? group.slice(3, -1) : group.slice(1, -1);
  if (body.startsWith('?')) return null;
  const pieces = body.split('|');
  return pieces.every((piece) => /^[A-Za-z0-9_/ ,=:;@%-]*$/.test(piece)) ? pieces : null;
}

/** The weakest (shortest) of a run's alternatives: how much the run tells apart. */
function strength(run: readonly string[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const text of run) min = Math.min(min, text.length);
  return min;
}

/**
 * Strings one of which every match of `source` (an RE2 pattern compiled without flags) contains,
 * read from a run of literal ASCII characters and plain-text groups (`/dev/(tcp|udp)/`) at the top
 * level; null when there is no run the reader can vouch for.
 */
export function requiredLiteral(source: string): string[] | null {
  // Inline flags (`(?i)`, `(?s:...)`) change what characters mean; `\Q` quotes text. Give up.
  if (/\(\?[A-Za-z-]/.test(source) || source.includes('\\Q')) return null;
  let best: string[] = [];
  let run: string[] = [''];
  const endRun = () => {
    if (strength(run) > strength(best) || best.length === 0) best = run;
    run = [''];
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '|') return null;
    if (c === '(') {
      const end = skipGroup(source, i);
      if (end < 0) return null;
      const alternatives = literalAlternatives(source.slice(i, end));
      if (alternatives === null || isQuantifier(source[end]) || run.length * alternatives.length > MAX_ALTERNATIVES) {
        endRun();
      } else {
        run = run.flatMap((head) => alternatives.map((tail) => head + tail));
      }
      i = end;
      continue;
    }
    if (c === '[') {
      endRun();
      i = skipClass(source, i);
      if (i < 0) return null;
      continue;
    }
    let literal: string | null = null;
    let width = 1;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return null;
      width = 2;
      if (ESCAPED_LITERALS.has(next)) literal = next;
      // Escapes that take more characters (`\x41`, `\pL`, octal) would leave digits behind.
      else if (!SINGLE_ESCAPES.includes(next)) return null;
    } else if (c === '{') {
      endRun();
      const repeat = /^\{\d+(,\d*)?\}/.exec(source.slice(i, i + 24));
      if (repeat === null) return null;
      i += repeat[0].length;
      continue;
    } else if (c.charCodeAt(0) < 0x80 && !'.^$*+?{})]'.includes(c)) {
      literal = c;
    }
    if (literal === null || isQuantifier(source[i + width])) {
      endRun();
    } else {
      run = run.map((head) => head + literal);
    }
    i += width;
  }
  endRun();
  return strength(best) === 0 ? null : best;
}

/**
 * For a list of patterns matched as an alternation: the required literals of every pattern, so
 * text holding none of them matches none; null when some pattern has none. A literal that holds
 * another of the list is left out (text with `HISTFILE=` holds `HISTFILE`): each one left is a
 * search of the whole command.
 */
export function requiredLiterals(patterns: readonly string[]): string[] | null {
  const literals: string[] = [];
  for (const pattern of patterns) {
    const alternatives = requiredLiteral(pattern);
    if (alternatives === null) return null;
    for (const literal of alternatives) if (!literals.includes(literal)) literals.push(literal);
  }
  // Pairwise, so only for lists of the usual size: a rule file may hold thousands of patterns.
  const needed = literals.length > MAX_PRUNED_LITERALS ? literals : literals.filter((literal) => !literals.some((other) => other !== literal && literal.includes(other)));
  return needed.length === 0 ? null : needed;
}

/** Longest literal list that requiredLiterals prunes of literals holding others. */
const MAX_PRUNED_LITERALS = 64;

/** True when `text` contains one of `literals` (null: no prefilter, so always true). */
export function containsAnyLiteral(text: string, literals: readonly string[] | null): boolean {
  if (literals === null) return true;
  for (const literal of literals) if (text.includes(literal)) return true;
  return false;
}
