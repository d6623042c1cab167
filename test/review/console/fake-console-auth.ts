import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../../../src/errors.js';
import type { ConsoleAuth, ConsoleSession, ReviewerIdentity } from '../../../src/review/console/console-auth.js';

/** The cookie naming the demo identity a browser is signed in as. */
export const DEMO_COOKIE = 'vouch_demo_identity';

/** Demo people: a reviewer, an admin, and someone signed in who may not review. */
export const DEMO_IDENTITIES: Record<string, ReviewerIdentity> = {
  dana: { actor: 'dana@example.com', name: 'Dana Reviewer', reviewer: true, admin: false, kind: 'person' },
  erin: { actor: 'erin@example.com', name: 'Erin Admin', reviewer: true, admin: true, kind: 'person' },
  nick: { actor: 'nick@example.com', name: 'Nick Outsider', reviewer: false, admin: false, kind: 'person' },
};

/** Each demo session's CSRF token: fixed, so a test can also forge a wrong one. */
export function demoCsrfToken(key: string): string {
  return `csrf-${key}-0123456789abcdef`;
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

/**
 * A ConsoleAuth for tests: the cookie names a demo identity (no OpenID provider involved), and
 * sign-in redirects to a path the test can recognise. CSRF is checked as the real one checks it.
 */
export function fakeConsoleAuth(): ConsoleAuth & { signInRedirects: string[] } {
  const signInRedirects: string[] = [];
  return {
    signInRedirects,
    async session(req: IncomingMessage): Promise<ConsoleSession | null> {
      const key = cookieValue(req, DEMO_COOKIE);
      const identity = key === null ? undefined : DEMO_IDENTITIES[key];
      return identity ? { identity, csrfToken: demoCsrfToken(key as string) } : null;
    },
    async beginSignIn(_req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<void> {
      signInRedirects.push(returnTo);
      res.writeHead(302, { location: `/test-sign-in?return_to=${encodeURIComponent(returnTo)}` }).end();
    },
    checkCsrf(session: ConsoleSession, submitted: string | undefined): void {
      if (submitted !== session.csrfToken) throw new RequestError(403, 'the form is missing its CSRF token, or it is not this session’s: reload the page and try again');
    },
    async apiIdentity(): Promise<ReviewerIdentity> {
      throw new RequestError(401, 'the fake console auth has no API tokens');
    },
    async assignees(): Promise<string[]> {
      return Object.values(DEMO_IDENTITIES).filter((identity) => identity.reviewer).map((identity) => identity.actor);
    },
  };
}
