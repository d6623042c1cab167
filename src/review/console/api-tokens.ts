import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import { jsonObjectBody, readBody } from '../../http/request-body.js';
import { sendJson } from '../../http/respond.js';
import { decodePathId, type HttpServer } from '../../server/http-server.js';
import { findApiToken, insertApiToken, listApiTokens, revokeApiToken, useApiToken } from '../../store/queries/api-tokens.js';
import { appendAudit } from '../../store/queries/audit-trail.js';
import type { ApiTokenRow, Database } from '../../store/schema.js';
import type { ConsoleAuth, ReviewerIdentity } from './console-auth.js';

/** Every API token starts so, which tells it apart from an OIDC access token without a lookup. */
export const API_TOKEN_PREFIX = 'vouch_';

/** The name the shared `review.token` is recorded under (`token:review.token`); no API token may take it. */
export const SHARED_TOKEN_NAME = 'review.token';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The stored form of a token: its sha256, hex. Tokens carry 256 random bits, so no salt or stretching is needed. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Creates a named token; the token itself is returned this once and only its hash is kept.
 * 400 for a bad name, 409 when the name is taken (a revoked token's name stays taken, so the
 * trail's `token:<name>` always means one token).
 */
export async function createApiToken(db: Kysely<Database>, request: { name: string; createdBy: string; now: Date }): Promise<{ token: string; row: ApiTokenRow }> {
  const { name, createdBy, now } = request;
  if (!NAME_PATTERN.test(name) || name === SHARED_TOKEN_NAME) {
    throw new RequestError(400, `name: 1 to 64 letters, digits, dot, dash or underscore, starting with a letter or digit, and not ${SHARED_TOKEN_NAME}`);
  }
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return db.transaction().execute(async (trx) => {
    if (!(await insertApiToken(trx, { name, hash: hashApiToken(token), createdBy, now }))) {
      throw new RequestError(409, `an API token named ${name} exists already (names are never reused); choose another name`);
    }
    await appendAudit(trx, { alertId: null, at: now, actor: createdBy, action: 'api_token_created', detail: { name } });
    return { token, row: (await findApiToken(trx, name)) as ApiTokenRow };
  });
}

/** Revokes a live token now; 404 for an unknown name, 409 for one already revoked. */
export async function revokeApiTokenNamed(db: Kysely<Database>, request: { name: string; revokedBy: string; now: Date }): Promise<ApiTokenRow> {
  const { name, revokedBy, now } = request;
  return db.transaction().execute(async (trx) => {
    const revoked = await revokeApiToken(trx, name, now);
    if (!revoked) {
      const known = await findApiToken(trx, name);
      throw new RequestError(known ? 409 : 404, known ? `API token ${name} is revoked already` : `no API token ${name}`);
    }
    await appendAudit(trx, { alertId: null, at: now, actor: revokedBy, action: 'api_token_revoked', detail: { name } });
    return revoked;
  });
}

/** The live token's name for a presented token, marked as used; null when unknown or revoked. */
export async function apiTokenName(db: Kysely<Database>, token: string, now: Date): Promise<string | null> {
  const row = await useApiToken(db, hashApiToken(token), now);
  return row?.name ?? null;
}

/** A token as the API and console show it: never its hash. */
export function apiTokenView(row: ApiTokenRow) {
  return {
    name: row.name,
    actor: `token:${row.name}`,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    revoked_at: row.revoked_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * The admin API for tokens:
 *   GET  /api/tokens                    every token, newest first (no secrets)
 *   POST /api/tokens {name}             creates one; the answer holds the token, shown this once
 *   POST /api/tokens/<name>/revoke      revokes one now
 * Admins only (a signed-in admin, or an admin's OIDC access token); machines cannot mint machines.
 */
export function routeApiTokens(http: HttpServer, options: { db: Kysely<Database>; clock: Clock; auth: ConsoleAuth }): void {
  const { db, clock, auth } = options;
  const admin = async (req: IncomingMessage): Promise<ReviewerIdentity> => {
    const identity = await auth.apiIdentity(req);
    if (!identity.admin) throw new RequestError(403, `${identity.actor} is not an admin (review.admins); only admins manage API tokens`);
    return identity;
  };
  http.route('GET', '/api/tokens', async (req, res) => {
    await admin(req);
    sendJson(res, 200, (await listApiTokens(db)).map(apiTokenView));
  });
  http.route('POST', '/api/tokens', async (req, res) => {
    const identity = await admin(req);
    const { name } = jsonObjectBody(await readBody(req, 16 * 1024), '{"name": "..."}');
    if (typeof name !== 'string') throw new RequestError(400, 'name: required, the name the token is recorded under (token:<name>)');
    const created = await createApiToken(db, { name, createdBy: identity.actor, now: clock.now() });
    sendJson(res, 201, { ...apiTokenView(created.row), token: created.token });
  });
  http.route('POST', '/api/tokens/*', async (req, res, url) => {
    const identity = await admin(req);
    const match = /^\/api\/tokens\/([^/]+)\/revoke$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const name = decodePathId(match[1] as string, 'API token');
    req.resume();
    sendJson(res, 200, apiTokenView(await revokeApiTokenNamed(db, { name, revokedBy: identity.actor, now: clock.now() })));
  });
}
