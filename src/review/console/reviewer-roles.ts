import type { StoredSignedInPerson } from '../../store/schema.js';
import type { ReviewerIdentity } from './console-auth.js';
import type { SignedInClaims } from './oidc-client.js';

/** Who may review and who may administer: `review.reviewers` and `review.admins`. */
export interface ReviewerPolicy {
  reviewers: readonly string[];
  admins: readonly string[];
}

/** A person as a session keeps them: the actor is the verified email, else the subject. */
export function personOf(claims: SignedInClaims): StoredSignedInPerson {
  const actor = claims.email ?? claims.sub;
  return { actor, name: claims.name ?? actor, groups: claims.groups };
}

/**
 * The identity of a signed-in person under the current policy, worked out on every request so
 * that removing someone from the config takes effect at once. Admins may review too.
 */
export function personIdentity(person: StoredSignedInPerson, policy: ReviewerPolicy): ReviewerIdentity {
  const admin = listed(person, policy.admins);
  return { actor: person.actor, name: person.name, reviewer: admin || listed(person, policy.reviewers), admin, kind: 'person' };
}

/** A machine: a named API token or the shared review.token. Machines review; they do not administer. */
export function tokenIdentity(name: string): ReviewerIdentity {
  return { actor: `token:${name}`, name, reviewer: true, admin: false, kind: 'token' };
}

/** Emails match without regard to case; `group:<name>` matches the groups claim exactly. */
function listed(person: StoredSignedInPerson, entries: readonly string[]): boolean {
  const actor = person.actor.toLowerCase();
  return entries.some((entry) =>
    entry.startsWith('group:') ? person.groups.includes(entry.slice('group:'.length)) : entry.toLowerCase() === actor,
  );
}

/**
 * Who may be assigned an alert: the emails listed in review.reviewers and review.admins, and
 * `signedIn` (people who signed in and may review now: members of a `group:` entry cannot be
 * listed otherwise), each once (emails without regard to case), in order.
 */
export function listAssignees(policy: ReviewerPolicy, signedIn: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const entry of [...policy.reviewers, ...policy.admins, ...signedIn]) {
    if (entry.startsWith('group:')) continue;
    const key = entry.toLowerCase();
    if (!byKey.has(key)) byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
}
