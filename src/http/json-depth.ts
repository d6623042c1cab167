/** How deep request JSON may nest; real payloads (Slack, shippers, the APIs) stay far below it. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests arrays and objects deeper than `maxDepth`, in one linear pass that skips
 * string contents. Checked before JSON.parse, because what walks a parsed document afterwards
 * (stable JSON, redaction, the database driver) recurses and can overflow the stack on hostile
 * nesting.
 */
export function jsonNestsDeeperThan(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}

/**
 * The texts of the elements of `text` when it is one JSON array (split at its top-level commas,
 * in one linear pass that skips string contents), else null. Elements are not checked here.
 */
export function jsonArrayElements(text: string): string[] | null {
  let at = 0;
  while (isJsonSpace(text.charCodeAt(at))) at++;
  if (text.charCodeAt(at) !== 0x5b) return null;
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let from = at + 1;
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) depth++;
    else if (code === 0x5d || code === 0x7d) {
      depth--;
      if (depth === 0) {
        const last = text.slice(from, i).trim();
        if (last !== '' || elements.length > 0) elements.push(last);
        return text.slice(i + 1).trim() === '' ? elements : null;
      }
    } else if (code === 0x2c && depth === 1) {
      elements.push(text.slice(from, i).trim());
      from = i + 1;
    }
  }
  return null;
}

/** JSON's white space: space, tab, line feed, carriage return (false past the end: NaN). */
function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
