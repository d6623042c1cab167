import type { Kysely } from 'kysely';
import { activePause, lockSecondFactorAccount, pushTimesSince, recordPush } from '../store/queries/second-factor.js';
import type { Database, SecondFactorPauseRow } from '../store/schema.js';

/** How many pushes one Duo account may get within a window. */
export interface PushRateLimit {
  maxPushes: number;
  windowMs: number;
}

/**
 * Whether a push may go out now: `send` (it is already logged and counts), `paused` (pushes to
 * this account are stopped after a fraud report), or `wait` until a slot in the window frees.
 */
export type PushAdmission =
  | { kind: 'send' }
  | { kind: 'paused'; pause: SecondFactorPauseRow }
  | { kind: 'wait'; until: Date; sentInWindow: number };

/**
 * Decides and logs a push for one Duo account in one transaction under that account's lock, so
 * replicas share the limit and two alerts cannot both take the last slot. The push is logged
 * before it is sent: a push whose sending then fails still counts, which errs towards fewer
 * pushes, never more.
 */
export function admitPush(
  db: Kysely<Database>,
  request: { username: string; alertId: string; now: Date; limit: PushRateLimit },
): Promise<PushAdmission> {
  const { username, alertId, now, limit } = request;
  return db.transaction().execute(async (trx): Promise<PushAdmission> => {
    await lockSecondFactorAccount(trx, username);
    const pause = await activePause(trx, username);
    if (pause) return { kind: 'paused', pause };
    const sent = await pushTimesSince(trx, username, new Date(now.getTime() - limit.windowMs));
    if (sent.length >= limit.maxPushes) {
      // The window holds `maxPushes` once the oldest surplus push leaves it.
      const freesAt = sent[sent.length - limit.maxPushes]!.getTime() + limit.windowMs + 1;
      return { kind: 'wait', until: new Date(freesAt), sentInWindow: sent.length };
    }
    await recordPush(trx, { username, alertId, at: now });
    return { kind: 'send' };
  });
}
