import type { IncomingMessage } from 'node:http';

/** Cookie values from the request's Cookie header; the first of a repeated name wins. */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    const name = part.slice(0, equals).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(equals + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  secure: boolean;
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

/** A Set-Cookie value: always HttpOnly and SameSite=Lax (sent on the issuer's redirect back, never on cross-site posts). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
