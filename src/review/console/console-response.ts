import type { ServerResponse } from 'node:http';

/**
 * The Content-Security-Policy of every console page: scripts and styles only from the service's
 * own files (no inline script, no eval), no plugins, no framing, forms posting only back here.
 * Attacker-written command text that slipped past escaping still could not run.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every console response carries, HTML or not. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Answers with an HTML page under the console's headers; `headers` add to them (e.g. set-cookie). */
export function sendConsoleHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...CONSOLE_HEADERS, ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

/** A 303 (after a form post) or 302 redirect under the console's headers. */
export function sendConsoleRedirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}, status = 302): void {
  res.writeHead(status, { ...CONSOLE_HEADERS, ...headers, location, 'content-length': 0 });
  res.end();
}
