/**
 * Hex digests for event keys, with node:crypto loaded on first use: loading it starts OpenSSL,
 * which costs a scan of an auditd log (whose events carry their own ids) time for nothing.
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');

let crypto: Crypto | null = null;

/** The hex digest of `text` (as UTF-8) with `algorithm` (`sha1`, `sha256`). */
export function hexDigest(algorithm: string, text: string): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto;
  return crypto.createHash(algorithm).update(text).digest('hex');
}
