/** Bearer tokens: `Authorization: Bearer <token>`, compared in constant time. */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';
import { constantTimeEqual } from './constant-time-equal.js';

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/** Checks `Authorization: Bearer <token>` against `expected` in constant time; 401 otherwise. */
export function requireBearer(req: IncomingMessage, expected: string): void {
  const given = bearerToken(req.headers.authorization);
  if (given === undefined || !constantTimeEqual(given, expected)) throw new RequestError(401, 'missing or wrong bearer token');
}
