import type { ServerResponse } from 'node:http';
import { PAGE_CSP, securityHeaders } from '../../server/web-assets.js';
import type { ReviewerIdentity } from './console-auth.js';
import { html, type Html } from './html.js';

/** What every console page shows around its content. */
export interface PageFrame {
  title: string;
  /** The signed-in identity, shown in the header; null on pages before sign-in. */
  identity: ReviewerIdentity | null;
  /** The navigation entry to mark current. */
  section?: 'queue' | 'overview' | 'report' | 'tokens';
  /** Extra stylesheet (the printable report's). */
  stylesheet?: string;
}

/**
 * The console's page frame: its stylesheet and script from /assets (the policy allows nothing
 * inline), navigation, and who is signed in.
 */
export function consolePage(frame: PageFrame, content: Html): Html {
  const nav = (href: string, label: string, section: PageFrame['section']) =>
    html`<a href="${href}"${frame.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · Vouch review</title>
<link rel="stylesheet" href="/assets/console/console.css">
${frame.stylesheet ? html`<link rel="stylesheet" href="${frame.stylesheet}">` : ''}
<script type="module" src="/assets/console/console.js"></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/review">Vouch review</a>
  <nav aria-label="Console">${nav('/review', 'Queue', 'queue')}${nav('/review/overview', 'Overview', 'overview')}${nav('/review/report', 'Report', 'report')}${frame.identity?.admin ? nav('/review/tokens', 'API tokens', 'tokens') : ''}</nav>
  ${frame.identity ? html`<span class="who" title="${frame.identity.actor}">${frame.identity.name || frame.identity.actor}</span> <a class="sign-out" href="/review/logout">Sign out</a>` : ''}
</header>
<main id="main">
${content}
</main>
</body>
</html>
`;
}

/** Sends a console page with the strict policy; pages are never cached (they hold review state). */
export function sendPage(res: ServerResponse, status: number, page: Html): void {
  securityHeaders(res, PAGE_CSP);
  const body = page.markup;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** An error as a page: the status, and what to do about it. */
export function errorPage(identity: ReviewerIdentity | null, status: number, message: string): Html {
  return consolePage(
    { title: `Error ${status}`, identity },
    html`<section class="panel error-panel"><h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Cannot do that'}</h1>
<p class="error-message">${message}</p><p><a href="/review">Back to the queue</a></p></section>`,
  );
}

/** After a POST: back to a page with GET (303), so reloading never repeats the action. */
export function redirectAfterPost(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}
