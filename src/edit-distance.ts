/**
 * Levenshtein distance, for "did you mean" hints on names typed by hand (config keys, rule ids).
 * Names are short; an overlong input is cut at 64 characters so the cost stays bounded.
 */
export function editDistance(a: string, b: string): number {
  const left = a.slice(0, 64);
  const right = b.slice(0, 64);
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] as number) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[right.length] as number;
}

/** Close enough to `wanted` to be a plausible typo of it: a third of its length, at least 2 edits. */
export function typoDistance(wanted: string): number {
  return Math.max(2, Math.floor(wanted.length / 3));
}
