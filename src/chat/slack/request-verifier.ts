/**
 * Slack request signing (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the app's signing
 * secret, sent as `X-Slack-Signature: v0=<hex>` next to `X-Slack-Request-Timestamp`.
 *
 * Unlike Bolt's verifier, a timestamp too far in the future is rejected as well: a signature
 * captured from a request dated ahead would otherwise stay replayable for that long.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../http/constant-time-equal.js';

/** Slack's own replay window. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SlackRequestToVerify {
  signingSecret: string;
  /** The `X-Slack-Request-Timestamp` header as received (Unix seconds). */
  timestampHeader: string | string[] | undefined;
  /** The `X-Slack-Signature` header as received (`v0=<64 hex>`). */
  signatureHeader: string | string[] | undefined;
  /** The body bytes exactly as received; a string is taken as its UTF-8 bytes. */
  rawBody: string | Buffer;
  now: Date;
  /** Allowed clock difference in either direction; default 300 s. */
  toleranceSeconds?: number;
}

export type SlackVerification = { ok: true } | { ok: false; reason: string };

/** Checks a Slack request's signature and freshness. Never throws on hostile input. */
export function verifySlackRequest(request: SlackRequestToVerify): SlackVerification {
  const { signingSecret, rawBody, now, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = request;
  if (signingSecret === '') return fail('no signing secret configured');
  const timestamp = singleHeader(request.timestampHeader);
  const signature = singleHeader(request.signatureHeader);
  if (timestamp === undefined) return fail('missing X-Slack-Request-Timestamp header');
  if (signature === undefined) return fail('missing X-Slack-Signature header');
  if (!/^\d{1,15}$/.test(timestamp)) return fail('malformed X-Slack-Request-Timestamp header');

  const skew = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (skew > toleranceSeconds) return fail(`timestamp is ${skew} s old (limit ${toleranceSeconds} s)`);
  if (-skew > toleranceSeconds) return fail(`timestamp is ${-skew} s in the future (limit ${toleranceSeconds} s)`);

  const match = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (match === null) return fail('malformed X-Slack-Signature header (expected v0=<64 hex digits>)');
  const expected = signSlackRequest(signingSecret, timestamp, rawBody);
  if (!constantTimeEqual(expected, match[1] as string)) return fail('signature mismatch');
  return { ok: true };
}

/** The hex HMAC-SHA256 Slack computes for a request (without the `v0=` prefix). */
export function signSlackRequest(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  return createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex');
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  // A repeated header is ambiguous; treat it as missing rather than pick one.
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value === undefined || value === '' ? undefined : value;
}

function fail(reason: string): SlackVerification {
  return { ok: false, reason };
}
