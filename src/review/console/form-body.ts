import type { IncomingMessage } from 'node:http';
import { RequestError } from '../../errors.js';
import { readBody, storableRequestText } from '../../http/request-body.js';

/** The largest form a console page posts (a note, a suppression's exact command). */
const MAX_FORM_BYTES = 128 * 1024;

/** Reads an `application/x-www-form-urlencoded` body; 415 for another type, 400 for a field given twice or holding NUL. */
export async function readForm(req: IncomingMessage): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new RequestError(415, 'console forms are sent as application/x-www-form-urlencoded');
  }
  const body = await readBody(req, MAX_FORM_BYTES);
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (fields.has(key)) throw new RequestError(400, `${key}: given more than once`);
    // Postgres refuses NUL in text, and no field of ours holds one: 400 naming the field.
    fields.set(key, storableRequestText(value, key));
  }
  return fields;
}

/** A text field: trimmed; null when empty and optional; 400 when required and empty, or too long. */
export function formText(fields: Map<string, string>, key: string, max: number, options: { required?: boolean } = {}): string | null {
  const value = fields.get(key)?.trim() ?? '';
  if (value === '') {
    if (options.required) throw new RequestError(400, `${key}: required`);
    return null;
  }
  if (value.length > max) throw new RequestError(400, `${key}: at most ${max} characters`);
  return value;
}
