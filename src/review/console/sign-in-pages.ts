import type { ServerResponse } from 'node:http';
import { visibleText } from '../../terminal-text.js';
import { escapeHtml } from './html.js';
import type { ReviewerIdentity } from './console-auth.js';
import { sendConsoleHtml } from './console-response.js';

/**
 * The few pages sign-in itself answers with (refused, failed, signed out, not configured). Plain
 * HTML under the console's CSP: no script, no inline style. Text from the identity provider (a
 * name, an email, an error code) is made visible and escaped, as any text from outside.
 */
export function sendSignInPage(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  sendConsoleHtml(res, status, html, headers);
}

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · Vouch review</title></head>`,
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body>`,
    '</html>',
  ].join('\n');
}

const outside = (text: string) => escapeHtml(visibleText(text));

export function notReviewerPage(identity: ReviewerIdentity): string {
  return page(
    'Not a reviewer',
    `<p>You are signed in as <strong>${outside(identity.actor)}</strong>, who is neither a reviewer nor an admin of this Vouch.</p>` +
      '<p>Ask the security team to add you to <code>review.reviewers</code> (an email or <code>group:&lt;name&gt;</code>).</p>' +
      '<p><a href="/review/login?switch=1">Sign in as someone else</a></p>',
  );
}

export function signInFailedPage(reason: string): string {
  return page('Sign-in failed', `<p>${outside(reason)}</p><p><a href="/review/login?switch=1">Sign in again</a></p>`);
}

export function signedOutPage(): string {
  return page('Signed out', '<p>Your session has ended.</p><p><a href="/review/login?switch=1">Sign in again</a></p>');
}

export function signInUnavailablePage(): string {
  return page(
    'Sign-in is not configured',
    '<p>The review console signs people in through your company\'s SSO (OpenID Connect). Set ' +
      '<code>review.oidc.issuer</code>, <code>review.oidc.client_id</code>, <code>review.oidc.client_secret</code> and ' +
      '<code>review.public_url</code> (or VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET, VOUCH_PUBLIC_URL) and restart.</p>' +
      '<p>Machines can still use the review API with an API token or <code>review.token</code>.</p>',
  );
}
