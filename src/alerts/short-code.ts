import { createHash } from 'node:crypto';

/**
 * Letters and digits nobody confuses on a phone screen or in a chat font: no 0/O, 1/I/L, 2/Z,
 * 5/S, 6/G, 8/B or U/V.
 */
export const SHORT_CODE_ALPHABET = 'ACDEFHJKMNPRTWXY3479';
export const SHORT_CODE_LENGTH = 4;

/**
 * The short code shown both in the DM and in the Duo push, so the person can tell that the push
 * on their phone belongs to the question in front of them. Derived from the alert id (a hash, so
 * neighbouring ids get unrelated codes), which makes it stable across replicas and restarts with
 * nothing stored. It identifies, it does not authenticate: the txid binding does that.
 */
export function alertShortCode(alertId: string): string {
  const digest = createHash('sha256').update(alertId).digest();
  let code = '';
  for (let i = 0; i < SHORT_CODE_LENGTH; i++) code += SHORT_CODE_ALPHABET[digest[i]! % SHORT_CODE_ALPHABET.length];
  return code;
}
