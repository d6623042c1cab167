import { describe, expect, it } from 'vitest';
import { claimsOf } from '../../../src/review/console/oidc-client.js';
import { personIdentity, personOf, tokenIdentity } from '../../../src/review/console/reviewer-roles.js';

const policy = { reviewers: ['Dana@Example.com', 'group:security'], admins: ['erin@example.com', 'group:sec-admins'] };

describe('reviewer roles', () => {
  it('matches emails without regard to case, and group:<name> against the groups claim', () => {
    expect(personIdentity(personOf(claimsOf({ sub: 'u1', email: 'dana@example.COM' })), policy)).toMatchObject({ actor: 'dana@example.COM', reviewer: true, admin: false });
    expect(personIdentity(personOf(claimsOf({ sub: 'u2', email: 'sam@example.com', groups: ['eng', 'security'] })), policy)).toMatchObject({ reviewer: true, admin: false });
    expect(personIdentity(personOf(claimsOf({ sub: 'u3', email: 'sam@example.com', groups: 'sec-admins' })), policy)).toMatchObject({ reviewer: true, admin: true });
    expect(personIdentity(personOf(claimsOf({ sub: 'u4', email: 'sam@example.com', groups: ['Security'] })), policy)).toMatchObject({ reviewer: false, admin: false });
  });

  it('makes admins reviewers too', () => {
    expect(personIdentity(personOf(claimsOf({ sub: 'u5', email: 'erin@example.com', name: 'Erin' })), policy)).toEqual({ actor: 'erin@example.com', name: 'Erin', reviewer: true, admin: true, kind: 'person' });
  });

  it('does not take an email the provider marks unverified as identity: the subject it is', () => {
    const person = personOf(claimsOf({ sub: 'attacker-1', email: 'dana@example.com', email_verified: false }));
    expect(person.actor).toBe('attacker-1');
    expect(personIdentity(person, policy).reviewer).toBe(false);
  });

  it('takes the email only when email_verified is true or "true", or absent', () => {
    const emailOf = (email_verified: unknown) => claimsOf({ sub: 'u6', email: 'dana@example.com', ...(email_verified === undefined ? {} : { email_verified }) }).email;
    for (const verified of [true, 'true', undefined]) expect(emailOf(verified), String(verified)).toBe('dana@example.com');
    for (const unverified of [false, 'false', 0, '0', 1, null, '', 'yes', 'False']) expect(emailOf(unverified), JSON.stringify(unverified)).toBeNull();
  });

  it('refuses claims without a subject', () => {
    expect(() => claimsOf({ email: 'dana@example.com' })).toThrow(/no subject/);
  });

  it('names machines token:<name>; they review but never administer', () => {
    expect(tokenIdentity('review.token')).toEqual({ actor: 'token:review.token', name: 'review.token', reviewer: true, admin: false, kind: 'token' });
  });
});
