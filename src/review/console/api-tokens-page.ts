import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { RequestError } from '../../errors.js';
import { readForm } from './form-body.js';
import { decodePathId, type HttpServer } from '../../server/http-server.js';
import { listApiTokens } from '../../store/queries/api-tokens.js';
import type { Database } from '../../store/schema.js';
import { visibleText } from '../../terminal-text.js';
import { consolePage } from './console-page.js';
import { escapeHtml, trustedHtml } from './html.js';
import { apiTokenView, createApiToken, revokeApiTokenNamed } from './api-tokens.js';
import { reviewerSession } from './console-auth-routes.js';
import type { ConsoleAuth, ConsoleSession } from './console-auth.js';
import { sendConsoleHtml, sendConsoleRedirect } from './console-response.js';
import { sendSignInPage } from './sign-in-pages.js';

/**
 * The console's page for API tokens, admins only:
 *   GET  /review/tokens                 the tokens (name, creator, last use, revoked), a form to create one
 *   POST /review/tokens  name=...       creates one and shows it, this once
 *   POST /review/tokens/<name>/revoke   revokes one
 * Every form carries the session's CSRF token.
 */
export function routeApiTokensPage(http: HttpServer, options: { db: Kysely<Database>; clock: Clock; auth: ConsoleAuth }): void {
  const { db, clock, auth } = options;
  const adminSession = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<ConsoleSession | null> => {
    const session = await reviewerSession(auth, req, res, url);
    if (session && !session.identity.admin) {
      req.resume();
      sendSignInPage(res, 403, notAdminPage(session.identity.actor));
      return null;
    }
    return session;
  };
  http.route('GET', '/review/tokens', async (req, res, url) => {
    const session = await adminSession(req, res, url);
    if (session) sendConsoleHtml(res, 200, await tokensPage(db, session, {}));
  });
  http.route('POST', '/review/tokens', async (req, res, url) => {
    const session = await adminSession(req, res, url);
    if (!session) return;
    const form = await formBody(req);
    auth.checkCsrf(session, form.get('csrf_token') ?? undefined);
    try {
      const created = await createApiToken(db, { name: (form.get('name') ?? '').trim(), createdBy: session.identity.actor, now: clock.now() });
      sendConsoleHtml(res, 201, await tokensPage(db, session, { created: { name: created.row.name, token: created.token } }));
    } catch (error) {
      // A taken or malformed name: the page again, saying why, rather than a bare JSON error.
      if (!(error instanceof RequestError)) throw error;
      sendConsoleHtml(res, error.status, await tokensPage(db, session, { problem: error.message }));
    }
  });
  http.route('POST', '/review/tokens/*', async (req, res, url) => {
    const session = await adminSession(req, res, url);
    if (!session) return;
    const match = /^\/review\/tokens\/([^/]+)\/revoke$/.exec(url.pathname);
    if (!match) throw new RequestError(404, 'not found');
    const name = decodePathId(match[1] as string, 'API token');
    const form = await formBody(req);
    auth.checkCsrf(session, form.get('csrf_token') ?? undefined);
    await revokeApiTokenNamed(db, { name, revokedBy: session.identity.actor, now: clock.now() });
    sendConsoleRedirect(res, '/review/tokens', {}, 303);
  });
}

/** The token forms are small: a name and the CSRF token. */
const formBody = (req: IncomingMessage) => readForm(req, 16 * 1024);

const text = (value: string) => escapeHtml(visibleText(value));

/** `2026-12-02 00:18 UTC` from an ISO time: narrow enough for a phone's width. */
const minute = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 16).replace('T', ' '))} UTC</time>`;

interface TokensPageNews {
  /** A token just created, shown this once. */
  created?: { name: string; token: string };
  /** Why the last form was refused. */
  problem?: string;
}

async function tokensPage(db: Kysely<Database>, session: ConsoleSession, news: TokensPageNews): Promise<string> {
  const { created, problem } = news;
  const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">`;
  const rows = (await listApiTokens(db)).map(apiTokenView).map((token) => {
    const revoke = token.revoked_at
      ? minute(token.revoked_at)
      : `<form method="post" action="/review/tokens/${encodeURIComponent(token.name)}/revoke">${csrf}<button type="submit" aria-label="Revoke ${text(token.name)}">Revoke</button></form>`;
    // data-label: a phone shows each row as a card, its cells labelled as the queue's are.
    return `<tr><td data-label="Recorded as"><code>${text(token.actor)}</code></td><td data-label="Created by">${text(token.created_by)}</td>` +
      `<td data-label="Created">${minute(token.created_at)}</td><td data-label="Last used">${token.last_used_at ? minute(token.last_used_at) : 'never'}</td><td data-label="Revoked">${revoke}</td></tr>`;
  });
  const shown = created
    ? `<section aria-label="New token"><h2>Token ${text(created.name)} created</h2><p>Copy it now: it is shown this once and only its hash is kept.</p>` +
      `<p><output id="new-token"><code>${text(created.token)}</code></output></p><p>Use it as <code>Authorization: Bearer &lt;token&gt;</code>; the trail records it as <code>token:${text(created.name)}</code>.</p></section>`
    : '';
  const refused = problem ? `<p role="alert">${text(problem)}</p>` : '';
  // Inside the console's frame (its stylesheet, navigation and Sign out); the table scrolls on its
  // own on a narrow screen instead of widening the page.
  const content = [
    '<h1>API tokens</h1>',
    `<p>Signed in as ${text(session.identity.actor)}.</p>`,
    shown,
    refused,
    `<section class="panel"><form method="post" action="/review/tokens" class="action-form">${csrf}<label for="token-name">Name</label> <input id="token-name" name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*"> <button type="submit" class="button">Create token</button></form></section>`,
    '<div class="table-wrap"><table class="reviews-table"><thead><tr><th scope="col">Recorded as</th><th scope="col">Created by</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Revoked</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table></div>`,
    `<form method="post" action="/review/logout">${csrf}<button type="submit" class="button">Sign out</button></form>`,
  ].join('\n');
  return consolePage({ title: 'API tokens', identity: session.identity, section: 'tokens' }, trustedHtml(content)).markup;
}

function notAdminPage(actor: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Admins only · Vouch review</title></head><body><main>',
    '<h1>Admins only</h1>',
    `<p>${text(actor)} may review but is not an admin (<code>review.admins</code>), and only admins manage API tokens.</p>`,
    '</main></body></html>',
  ].join('\n');
}
