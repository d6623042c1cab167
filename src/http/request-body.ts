/**
 * Reading request bodies: bounded in memory, refused with 413 past the limit, and JSON objects
 * checked for depth before they are parsed. Every failure is a RequestError (4xx).
 */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';
import { storableText } from '../store/storable.js';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './json-depth.js';

/**
 * Past this many times the limit an oversized body is no longer drained to answer 413 politely:
 * the connection is dropped, so a client cannot keep the server reading forever.
 */
export const DRAIN_FACTOR = 16;

/**
 * Reads a request body of at most `limit` bytes. A body declared larger is refused with 413 at once
 * and drained unread; one that only turns out larger is no longer buffered and is answered with 413
 * once the client has finished sending, so the client sees the answer. Either way, past
 * DRAIN_FACTOR times the limit the connection is dropped. A client that aborts mid-body gets 400.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const hardLimit = DRAIN_FACTOR * limit;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > hardLimit) dropConnection(req, limit);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > hardLimit) dropConnection(req, limit);
      if (size <= limit) chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError(400, 'the request body could not be read to its end');
  }
  if (size > limit) throw tooLarge(limit);
  return Buffer.concat(chunks);
}

/**
 * A body that must be one JSON object; 400 otherwise (also when it nests deeper than
 * MAX_JSON_DEPTH, which the code walking it afterwards could not survive). `usage` shows the
 * expected shape in the error, e.g. `{"reviewer": "...", "note": "..."}`.
 */
export function jsonObjectBody(body: Buffer | string, usage?: string): Record<string, unknown> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const hint = usage === undefined ? '' : `: ${usage}`;
  if (jsonNestsDeeperThan(text)) throw new RequestError(400, `body nests deeper than ${MAX_JSON_DEPTH} levels${hint}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError(400, `body must be JSON${hint}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError(400, `body must be a JSON object${hint}`);
  return value as Record<string, unknown>;
}

/**
 * Text from a request that is about to be stored (a note, a reason, a suppression's command), as
 * the database can hold it. NUL, which Postgres `text` and `jsonb` refuse and which no field of
 * ours means, is a 400 naming the field. A lone surrogate (a JSON `\ud800` escape), which UTF-8
 * cannot encode and `jsonb` refuses, becomes U+FFFD, as bytes that are not UTF-8 do when a body is
 * decoded: doing it here, before the text is hashed into the audit trail, keeps the stored row and
 * its hash in step. Other control characters are kept; every page and export escapes them.
 */
export function storableRequestText(text: string, field: string): string {
  if (text.includes('\u0000')) throw new RequestError(400, `${field}: must not contain NUL characters`);
  return storableText(text);
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, `request body over ${limit} bytes`);
}

function dropConnection(req: IncomingMessage, limit: number): never {
  req.destroy();
  throw tooLarge(limit);
}
