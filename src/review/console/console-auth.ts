import type { IncomingMessage, ServerResponse } from 'node:http';

/** Who is acting: a signed-in person (email claim, else sub) or a machine token (`token:<name>`). */
export interface ReviewerIdentity { actor: string; name: string; reviewer: boolean; admin: boolean; kind: 'person' | 'token' }
export interface ConsoleSession { identity: ReviewerIdentity; csrfToken: string }
export interface ConsoleAuth {
  /** The session behind this browser request, or null (not signed in or expired). */
  session(req: IncomingMessage): Promise<ConsoleSession | null>;
  /** Sends the browser to sign in (302 to the issuer, remembering `returnTo`). */
  /** `reauthenticate`: someone else may sign in (the provider asks again instead of reusing its session). */
  beginSignIn(req: IncomingMessage, res: ServerResponse, returnTo: string, options?: { reauthenticate?: boolean }): Promise<void>;
  /** Throws RequestError(403) unless the form/header CSRF token matches the session's. */
  checkCsrf(session: ConsoleSession, submitted: string | undefined): void;
  /** Bearer auth for /api/*: API tokens, the shared review.token, or an OIDC access token. */
  apiIdentity(req: IncomingMessage): Promise<ReviewerIdentity>; // throws RequestError 401/403
  /**
   * Who an alert may be assigned to: the people who may review, as far as they can be listed (the
   * emails in review.reviewers and review.admins, and those who signed in and may review now).
   */
  assignees(): Promise<string[]>;
}
