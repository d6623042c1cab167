/**
 * Reading request bodies: bounded in memory, refused with 413 past the limit, and JSON objects
 * checked for depth before they are parsed. Every failure is a RequestError (4xx).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { RequestError } from '../errors.js';
import { storableText } from '../store/storable.js';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './json-depth.js';

/**
 * Past this many times the limit an oversized body is no longer drained to answer 413 with the
 * connection kept open: nothing more of it is read, and the connection is closed once the 413
 * has been sent, so a client cannot keep the server reading forever.
 */
export const DRAIN_FACTOR = 16;

/** The response of each request of the servers that track them (trackResponses). */
const responses = new WeakMap<IncomingMessage, ServerResponse>();

/**
 * Lets readBody close the connection of a body it refuses unread once the refusal is answered
 * (`Connection: close`), whoever answers it. Every server whose requests reach readBody calls
 * this once; on another server such a connection is dropped without an answer.
 */
export function trackResponses(server: Server): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => responses.set(req, res));
}

/** The most of an unread body a refusal drains to keep its connection open. */
export const UNREAD_DRAIN_BYTES = 64 * 1024;

/**
 * For an answer sent before anything read the request's body (a refusal: not found, no access):
 * a body declared up to UNREAD_DRAIN_BYTES is drained and the connection kept; a larger one, or
 * one of unknown length (chunked), closes the connection after the answer, as keeping it would
 * first mean reading the rest of a body of any size. A body readBody took care of (drained or
 * refused) leaves the connection as it is.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.readableFlowing !== null) return;
  const declared = Number(req.headers['content-length'] ?? 0);
  const unbounded = req.headers['transfer-encoding'] !== undefined || !(declared <= UNREAD_DRAIN_BYTES);
  if (unbounded && !req.complete && !res.headersSent) res.shouldKeepAlive = false;
  // What arrives before the connection closes is discarded, not buffered.
  req.resume();
}

/**
 * Reads a request body of at most `limit` bytes. A body declared larger is refused with 413 at
 * once: up to DRAIN_FACTOR times the limit it is drained unread and the connection kept; beyond,
 * nothing more is read and the connection closes after the 413. A body that only turns out
 * larger is no longer buffered and is answered with 413 once the client has finished sending, so
 * the client sees the answer; one that passes DRAIN_FACTOR times the limit is answered with 413
 * at once and its connection closed. A client that aborts mid-body gets 400.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const hardLimit = DRAIN_FACTOR * limit;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > hardLimit) throw refuseUnread(req, limit);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  return collect(req, limit, hardLimit);
}

/**
 * The body's bytes, read with listeners rather than `for await`: leaving such a loop early
 * destroys the request, and with it the socket the 413 must still be sent on.
 */
function collect(req: IncomingMessage, limit: number, hardLimit: number): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(new RequestError(400, 'the request body could not be read to its end'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > hardLimit) settle(() => reject(refuseUnread(req, limit)));
    };
    const onEnd = () => settle(() => (size > limit ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    // An error, or a close before the end: the client went away mid-body.
    const onAbort = () => settle(() => reject(new RequestError(400, 'the request body could not be read to its end')));
    req.on('data', onData).once('end', onEnd).once('error', onAbort).once('close', onAbort);
  });
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

/**
 * Refuses a body too large to drain: nothing more of it is read, and the connection is closed
 * once the 413 has been sent (Node adds `Connection: close` and ends the socket after the
 * answer), so the client gets an answer rather than a reset. Where the response is unknown
 * (see trackResponses), or already under way, the connection is dropped.
 */
function refuseUnread(req: IncomingMessage, limit: number): RequestError {
  const res = responses.get(req);
  if (res === undefined || res.headersSent) req.destroy();
  else {
    req.pause();
    res.shouldKeepAlive = false;
  }
  return tooLarge(limit);
}
