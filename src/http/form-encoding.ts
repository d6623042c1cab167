/**
 * Strict reading of `application/x-www-form-urlencoded` text (form bodies and query strings).
 * URLSearchParams reads broken percent-encoding (`%ZZ`, a cut UTF-8 sequence such as
 * `%E0%A4%A`) as U+FFFD or as literal text, so a value would silently be something other than
 * what was sent; here such text is refused instead, so the caller can answer 400.
 */

/** One name or value decoded as URLSearchParams would (`+` is a space), or null when its percent-encoding is broken. */
export function decodeFormPart(part: string): string | null {
  const spaced = part.includes('+') ? part.replace(/\+/g, ' ') : part;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return null;
  }
}

/** A decoded pair, or where decoding failed (the name decoded as far as it could be, for the message). */
export type FormPair = { name: string; value: string } | { broken: 'name' | 'value'; name: string };

/** The pairs of `name=value&...` text in order, empty pieces (`a=1&&b=2`) skipped as URLSearchParams does. */
export function formPairs(text: string): FormPair[] {
  const pairs: FormPair[] = [];
  if (text === '') return pairs;
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    const rawName = equals < 0 ? piece : piece.slice(0, equals);
    const name = decodeFormPart(rawName);
    if (name === null) {
      pairs.push({ broken: 'name', name: rawName });
      continue;
    }
    const value = equals < 0 ? '' : decodeFormPart(piece.slice(equals + 1));
    pairs.push(value === null ? { broken: 'value', name } : { name, value });
  }
  return pairs;
}

/** A field name fit for an error message: short, control characters shown as `?`, quoted. */
export function visibleFieldName(name: string): string {
  return JSON.stringify(name.slice(0, 50).replace(/[\u0000-\u001f\u007f]/g, '?'));
}
