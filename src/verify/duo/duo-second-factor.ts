/**
 * SecondFactorPort over Duo: preauth decides whether a push can be sent, auth sends it
 * asynchronously, auth_status long-polls for the answer. Anything but an explicit allow is a
 * failure; a policy bypass verifies nobody.
 */
import { visibleText } from '../../terminal-text.js';
import type { PushRequest, PushStart, PushStatus, SecondFactorPort } from '../second-factor-port.js';
import { DuoClient, DuoTimeoutError, encodePushinfo, type DuoClientOptions } from './duo-client.js';

/** The part of DuoClient this adapter uses, so tests can substitute it. */
export type DuoAuthApi = Pick<DuoClient, 'preauth' | 'auth' | 'authStatus' | 'requestTimeoutMs'>;

export interface DuoSecondFactorOptions {
  /** Upper bound for the URL-encoded pushinfo string, in bytes. Default 1900 (Duo Mobile shows little). */
  maxPushinfoBytes?: number;
  /** Longest value before truncation, in code points, before the total budget applies. Default 400. */
  maxValueLength?: number;
}

const DEFAULT_MAX_PUSHINFO_BYTES = 1900;
const DEFAULT_MAX_VALUE_LENGTH = 400;
const MAX_KEY_LENGTH = 40;
const MAX_TITLE_LENGTH = 100;
const ELLIPSIS = '\u2026';
/** The status reported when Duo's answer is about another transaction than the one asked about. */
export const TXID_MISMATCH = 'txid_mismatch';
const MAX_TXID_SHOWN = 80;
/** A value is never cut below this many code points; entries are dropped instead. */
const MIN_VALUE_LENGTH = 16;

export class DuoSecondFactor implements SecondFactorPort {
  private readonly maxPushinfoBytes: number;
  private readonly maxValueLength: number;

  constructor(
    private readonly client: DuoAuthApi,
    options: DuoSecondFactorOptions = {},
  ) {
    this.maxPushinfoBytes = options.maxPushinfoBytes ?? DEFAULT_MAX_PUSHINFO_BYTES;
    this.maxValueLength = options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH;
  }

  /**
   * A push is started by preauth then auth: the auth request is sent within one request timeout
   * and reaches Duo within another. (Retries after a 429 can come later; a refused request made
   * no push, so at worst a late retry's push overlaps a crashed one's: two pushes, never a
   * wrong verification, since only the txid Vouch recorded counts.)
   */
  get startPushWithinMs(): number {
    return 2 * this.client.requestTimeoutMs;
  }

  /** Builds the adapter with its own DuoClient. */
  static fromClientOptions(options: DuoClientOptions, adapterOptions?: DuoSecondFactorOptions): DuoSecondFactor {
    return new DuoSecondFactor(new DuoClient(options), adapterOptions);
  }

  /**
   * Sends a push when preauth says `auth` and the user has a push-capable device; otherwise
   * returns `refused` with reason no_device, enroll, deny, bypass (Duo said `allow`) or Duo's
   * own word. Throws SecondFactorUnavailableError when Duo cannot be asked.
   */
  async startPush(request: PushRequest): Promise<PushStart> {
    const preauth = await this.client.preauth({ username: request.username });
    const message = preauth.status_msg;
    switch (preauth.result) {
      case 'auth':
        break;
      case 'allow':
        // A bypass policy would let anyone through; this verification needs a person's tap.
        return { kind: 'refused', reason: 'bypass', message: message || 'Duo policy bypasses the second factor' };
      case 'enroll':
      case 'deny':
        return { kind: 'refused', reason: preauth.result, message };
      default:
        return { kind: 'refused', reason: preauth.result || 'unknown', message };
    }
    if (!preauth.devices.some((d) => d.capabilities.includes('push'))) {
      return { kind: 'refused', reason: 'no_device', message: message || 'No push-capable device' };
    }
    const { txid } = await this.client.auth({
      username: request.username,
      factor: 'push',
      device: 'auto',
      async: true,
      pushinfo: limitPushinfo(request.details, {
        maxBytes: this.maxPushinfoBytes,
        maxValueLength: this.maxValueLength,
      }),
      type: truncate(cleanText(request.title), MAX_TITLE_LENGTH),
    });
    return { kind: 'started', transactionId: txid };
  }

  /**
   * Long-polls up to `waitMs`. Duo's `allow` is allow, `waiting` (or no change within `waitMs`)
   * is waiting, and every other result is deny. An answer that names another transaction than
   * the one asked about is a deny (`txid_mismatch`), whatever its result: it answers some other
   * question.
   */
  async pushStatus(transactionId: string, options: { waitMs: number }): Promise<PushStatus> {
    try {
      const status = await this.client.authStatus(transactionId, { timeoutMs: options.waitMs });
      if (status.txid !== undefined && status.txid !== transactionId) {
        const named = truncate(cleanText(status.txid), MAX_TXID_SHOWN);
        return { result: 'deny', status: TXID_MISMATCH, message: `Duo answered about transaction ${named}, not ${transactionId}` };
      }
      const result = status.result === 'allow' || status.result === 'waiting' ? status.result : 'deny';
      return { result, status: status.status, message: status.status_msg };
    } catch (error) {
      // A long poll that outlives the caller's wait is normal, not an outage: nothing changed yet.
      if (error instanceof DuoTimeoutError) {
        return { result: 'waiting', status: 'pushed', message: `No answer within ${options.waitMs} ms`, noAnswer: true };
      }
      throw error;
    }
  }
}

/**
 * Makes push context safe and small: control, bidi and zero-width characters and invalid UTF-16
 * become visible escapes (`\x1b`, `\u202e`, `\ud800`), keys and values are truncated, and the longest values are shortened (then trailing
 * entries dropped) until the URL-encoded form fits `maxBytes`.
 */
export function limitPushinfo(
  details: Record<string, string>,
  limits: { maxBytes: number; maxValueLength: number },
): Record<string, string> {
  const entries = Object.entries(details).map(([key, value]) => {
    const full = Array.from(cleanText(String(value).slice(0, limits.maxValueLength * 2 + 2)));
    return { key: truncate(cleanText(key), MAX_KEY_LENGTH), full, keep: Math.min(full.length, limits.maxValueLength) };
  });
  const render = (): Record<string, string> =>
    Object.fromEntries(entries.map((e) => [e.key, e.full.slice(0, e.keep).join('') + (e.keep < e.full.length ? ELLIPSIS : '')]));
  for (;;) {
    const rendered = render();
    const excess = encodePushinfo(rendered).length - limits.maxBytes;
    if (excess <= 0) return rendered;
    const longest = entries.reduce((a, b) => (b.keep > a.keep ? b : a), entries[0]!);
    if (longest.keep > MIN_VALUE_LENGTH) {
      // A code point encodes to at most 12 bytes, so this never cuts much more than needed.
      longest.keep = Math.max(MIN_VALUE_LENGTH, longest.keep - Math.max(1, Math.ceil(excess / 12)));
    } else {
      entries.pop();
    }
  }
}

/**
 * The shared sanitiser, single-line: control, bidi and zero-width characters (and newlines) shown
 * as visible escapes, so the phone shows the command that ran, not the one an attacker drew.
 */
function cleanText(text: string): string {
  return visibleText(text);
}

/** Truncates to `max` code points, marking the cut with an ellipsis. */
function truncate(text: string, max: number): string {
  const points = Array.from(text.slice(0, max * 2 + 2));
  return points.length > max ? points.slice(0, max - 1).join('') + ELLIPSIS : points.join('');
}
