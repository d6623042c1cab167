import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../../errors.js';
import { formPairs, visibleFieldName } from '../../http/form-encoding.js';
import { readBody, storableRequestText } from '../../http/request-body.js';

/** The largest form a console page posts (a note, a suppression's exact command). */
const MAX_FORM_BYTES = 128 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `maxBytes`; 415 for another type,
 * 400 for a body that is not UTF-8, broken percent-encoding (a value that would otherwise be
 * read as something other than what was sent), or a field given twice or holding NUL.
 */
export async function readForm(req: IncomingMessage, maxBytes = MAX_FORM_BYTES): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new RequestError(415, 'console forms are sent as application/x-www-form-urlencoded');
  }
  return formFields(await readBody(req, maxBytes));
}

/** The fields of a form body already read (see readForm for what is refused). */
export function formFields(body: Buffer): Map<string, string> {
  if (!isUtf8(body)) throw new RequestError(400, 'the form is not valid UTF-8');
  const fields = new Map<string, string>();
  for (const pair of formPairs(body.toString('utf8'))) {
    if ('broken' in pair) throw new RequestError(400, pair.broken === 'name' ? 'a form field name is not valid percent-encoding' : `${visibleFieldName(pair.name)}: not valid percent-encoding`);
    if (fields.has(pair.name)) throw new RequestError(400, `${visibleFieldName(pair.name)}: given more than once`);
    // Postgres refuses NUL in text, and no field of ours holds one: 400 naming the field.
    fields.set(pair.name, storableRequestText(pair.value, pair.name));
  }
  return fields;
}

/**
 * A text field: trimmed, with the CR LF line breaks browsers send for a text area as LF; null
 * when empty and optional; 400 when required and empty, or too long.
 */
export function formText(fields: Map<string, string>, key: string, max: number, options: { required?: boolean } = {}): string | null {
  const value = fields.get(key)?.replace(/\r\n/g, '\n').trim() ?? '';
  if (value === '') {
    if (options.required) throw new RequestError(400, `${key}: required`);
    return null;
  }
  if (value.length > max) throw new RequestError(400, `${key}: at most ${max} characters`);
  return value;
}
