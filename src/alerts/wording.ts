/**
 * The words people read instead of codes: durations as "2 hours", second-factor results and
 * escalation reasons as sentences. Plain text: each renderer escapes for its own medium.
 */
import type { AlertView, EscalationReason } from './alert.js';

const UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
] as const;

/** `1 command`, `3 commands`: a count and its noun, plural when it is not one. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "2 hours", "1 hour 30 minutes", "90 seconds" (at most two units; below a second, "a moment"). */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1000) return 'a moment';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000) * 1000;
  for (const [name, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count === 0) continue;
    // 90 minutes reads better than 1 hour 30 minutes only in config; people prefer the split.
    parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    rest -= count * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/**
 * What the second factor's result means to the person, as a sentence fragment. A result Vouch
 * does not know is quoted as Duo gave it (renderers must treat it as untrusted text).
 */
export function secondFactorSentence(result: string | null): string {
  return knownSecondFactorSentence(result) ?? `Duo answered "${result}"`;
}

/** The sentence for a second-factor result Vouch knows, or null for any other word. */
export function knownSecondFactorSentence(result: string | null): string | null {
  switch (result) {
    case null:
      return 'no Duo push was sent';
    case 'allow':
      return 'the Duo push was approved';
    case 'deny':
      return 'the Duo push was denied';
    case 'fraud':
      return 'the Duo push was reported as fraud';
    case 'timeout':
      return 'the Duo push was not answered in time';
    case 'no_device':
      return 'no phone enrolled in Duo: ask IT to enroll you';
    case 'enroll':
      return 'not enrolled in Duo yet: ask IT to enroll you';
    case 'bypass':
      return 'Duo is set to skip the check for this account, which Vouch does not accept: ask IT to require it';
    case 'error':
      return 'Duo could not be reached';
    default:
      return null;
  }
}

/** Why an alert went to the security team, in a few words (the channel post's title). */
export function escalationReasonText(reason: EscalationReason | null): string {
  switch (reason) {
    case 'denied_by_user':
      return 'Owner says it was not them';
    case 'no_response':
      return 'No answer from the owner';
    case 'second_factor_failed':
      return 'Second factor failed';
    case 'unknown_owner':
      return 'No chat user for the owner';
    case 'delivery_failed':
      return 'Could not reach the owner';
    case 'fraud_reported':
      return 'Duo push reported as fraud';
    case 'second_factor_paused':
      return 'Second factor paused after a fraud report';
    case 'system_actor':
      return 'No login user (listed in the digest)';
    case null:
      return 'Escalated';
  }
}

/** A one-line label for where an alert stands: the DM, the channel thread and the sandbox use it. */
export function outcomeLabel(alert: Pick<AlertView, 'status' | 'escalationReason' | 'secondFactor'>): string {
  switch (alert.status) {
    case 'new':
      return 'Not asked yet';
    case 'asked':
      return 'Waiting for an answer';
    case 'verifying':
      return 'Answered; waiting for the Duo push';
    case 'verified':
      return 'Verified: confirmed and approved on Duo';
    case 'suppressed':
      return 'No action needed: matches an approved exception';
    case 'escalated':
      if (alert.escalationReason === 'second_factor_failed') return `Escalated: ${secondFactorSentence(alert.secondFactor)}`;
      return `Escalated: ${escalationReasonText(alert.escalationReason).toLowerCase()}`;
  }
}
