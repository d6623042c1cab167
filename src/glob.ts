/**
 * A glob as the source of an anchored regular expression, valid both for RegExp and for re2:
 * `*` is any run of characters but `/`, `?` one such character, everything else literal.
 */
export function globSource(glob: string): string {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return `^${source}$`;
}
