import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../../errors.js';
import { readBody } from '../../http/request-body.js';
import type { HttpServer } from '../../server/http-server.js';
import type { ConsoleAuth, ConsoleSession } from './console-auth.js';
import { sendConsoleRedirect } from './console-response.js';
import { consolePage, sendPage } from './console-page.js';
import { formFields } from './form-body.js';
import { html } from './html.js';
import { safeReturnTo, type OidcConsoleAuth } from './oidc-console-auth.js';
import { notReviewerPage, sendSignInPage } from './sign-in-pages.js';

/**
 * Sign-in routes:
 *   GET  /review/login?return_to=/review/...   starts a sign-in (or goes straight back when signed in;
 *                                              `&switch=1` signs in anew, as someone else if need be)
 *   GET  /review/callback                      where the identity provider sends the browser back
 *   GET  /review/logout                        asks to sign out (a button that posts the below)
 *   POST /review/logout  csrf_token=...        ends the session (form field or X-CSRF-Token header)
 */
export function routeConsoleAuth(http: HttpServer, auth: OidcConsoleAuth): void {
  http.route('GET', '/review/login', async (req, res, url) => {
    const returnTo = safeReturnTo(url.searchParams.get('return_to') ?? '/review');
    // `switch=1` ("Sign in as someone else", "Sign in again"): the provider asks who you are.
    const reauthenticate = url.searchParams.get('switch') === '1';
    const session = await auth.session(req);
    if (session?.identity.reviewer && !reauthenticate) return sendConsoleRedirect(res, returnTo);
    await auth.beginSignIn(req, res, returnTo, { reauthenticate });
  });
  http.route('GET', '/review/callback', (req, res, url) => auth.finishSignIn(req, res, url));
  http.route('POST', '/review/logout', async (req, res) => {
    await auth.signOut(req, res, await submittedCsrf(req));
  });
  // The header's "Sign out" link: a page whose button posts the sign-out with its CSRF token.
  http.route('GET', '/review/logout', async (req, res) => {
    const session = await auth.session(req);
    if (!session) return sendConsoleRedirect(res, '/review');
    sendPage(
      res,
      200,
      consolePage(
        { title: 'Sign out', identity: session.identity },
        html`<section class="panel"><h1>Sign out</h1><p>Signed in as ${session.identity.actor}.</p><form method="post" action="/review/logout" class="action-form"><input type="hidden" name="csrf_token" value="${session.csrfToken}"><button type="submit" class="button">Sign out</button></form></section>`,
      ),
    );
  });
}

/**
 * The session of a reviewer for a console page, or null once the answer is sent: a browser not
 * signed in is sent to sign in (returning to this page), a person who may not review gets 403.
 */
export async function reviewerSession(auth: ConsoleAuth, req: IncomingMessage, res: ServerResponse, url: URL): Promise<ConsoleSession | null> {
  const session = await auth.session(req);
  if (!session) {
    await auth.beginSignIn(req, res, `${url.pathname}${url.search}`);
    return null;
  }
  if (!session.identity.reviewer) {
    sendSignInPage(res, 403, notReviewerPage(session.identity));
    return null;
  }
  return session;
}

/** The CSRF token of a form post (`csrf_token` field) or of a script's request (X-CSRF-Token header). */
export async function submittedCsrf(req: IncomingMessage): Promise<string | undefined> {
  const header = req.headers['x-csrf-token'];
  if (typeof header === 'string') {
    req.resume();
    return header;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const body = await readBody(req, 16 * 1024);
  if (body.length === 0) return undefined;
  if (type !== 'application/x-www-form-urlencoded') throw new RequestError(415, 'send the form as application/x-www-form-urlencoded');
  return formFields(body).get('csrf_token') ?? undefined;
}
