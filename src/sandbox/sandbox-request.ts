/**
 * Reading and checking the sandbox pages' JSON requests. Every failure is a RequestError (4xx), so
 * a malformed request from a page or a script never becomes a 500.
 */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';
import { jsonObjectBody, readBody } from '../http/request-body.js';

/** The largest request body the sandbox API reads; bigger ones get 413. */
export const SANDBOX_BODY_LIMIT = 64 * 1024;

export type JsonObject = Record<string, unknown>;

/**
 * Reads a JSON object body. Answers 415 unless the body is declared as JSON: that also keeps other
 * web sites out, since a cross-origin JSON POST needs a CORS preflight this server never grants.
 * A request whose Origin is not this server's own is refused with 403 for the same reason.
 */
export async function readJsonObject(req: IncomingMessage): Promise<JsonObject> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new RequestError(415, 'send the request body as application/json');
  }
  checkOrigin(req);
  return jsonObjectBody(await readBody(req, SANDBOX_BODY_LIMIT));
}

function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new RequestError(403, 'requests must come from the sandbox page itself');
  }
  if (host !== req.headers.host) throw new RequestError(403, 'requests must come from the sandbox page itself');
}

/** A non-empty string field of at most `max` characters; 400 naming the field otherwise. */
export function requireString(body: JsonObject, key: string, max = 256): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new RequestError(400, `${key} is required and must be a non-empty string`);
  if (value.length > max) throw new RequestError(400, `${key} must be at most ${max} characters`);
  return value;
}

/** A string field that may be absent (undefined) but, when given, follows requireString's rules. */
export function optionalString(body: JsonObject, key: string, max = 256): string | undefined {
  return body[key] === undefined || body[key] === null ? undefined : requireString(body, key, max);
}

/** A boolean field, `fallback` when absent. */
export function optionalBoolean(body: JsonObject, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new RequestError(400, `${key} must be true or false`);
  return value;
}

/** One of the allowed strings; 400 listing them otherwise. */
export function requireOneOf<T extends string>(body: JsonObject, key: string, allowed: readonly T[]): T {
  const value = body[key];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RequestError(400, `${key} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}
