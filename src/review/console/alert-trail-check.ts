import type { Kysely } from 'kysely';
import { chainOf, genesisHash, hashStep } from '../../store/queries/audit-trail.js';
import type { AuditTrailRow, Database } from '../../store/schema.js';

/** Whether one alert's hash chain verifies, and where it first does not. */
export interface AlertTrailCheck {
  ok: boolean;
  steps: number;
  /** The first step (its seq) that does not verify, or null. */
  brokenAt: number | null;
  reason: string | null;
}

/**
 * Recomputes the hashes of one alert's trail, as verifyAuditTrail does for all of them, and
 * compares the end with the chain's head, so an edited, removed or appended step shows on the
 * alert's own page without walking the whole trail.
 */
export async function checkAlertTrail(db: Kysely<Database>, alertId: string, steps: readonly AuditTrailRow[]): Promise<AlertTrailCheck> {
  const chain = chainOf(alertId);
  let prevHash = genesisHash(chain);
  let seq = 0;
  for (const step of steps) {
    const broken = (reason: string): AlertTrailCheck => ({ ok: false, steps: steps.length, brokenAt: Number(step.seq), reason });
    if (Number(step.seq) !== seq + 1) return broken(`expected step ${seq + 1}, found step ${step.seq}: a step is missing or out of order`);
    if (step.prev_hash !== prevHash) return broken('its link to the previous step does not match');
    const expected = hashStep(prevHash, { chain, seq: Number(step.seq), alertId: step.alert_id, at: step.at, actor: step.actor, action: step.action, detail: step.detail });
    if (expected !== step.hash) return broken('its content does not match its hash');
    prevHash = step.hash;
    seq = Number(step.seq);
  }
  const head = await db.selectFrom('audit_chain_heads').select(['seq', 'hash']).where('chain', '=', chain).executeTakeFirst();
  const ends = head !== undefined && Number(head.seq) === seq && head.hash === prevHash;
  if (ends) return { ok: true, steps: steps.length, brokenAt: null, reason: null };
  const reason = head === undefined ? 'the chain has no recorded head' : `its head records ${head.seq} steps but ${seq} are stored`;
  return { ok: false, steps: steps.length, brokenAt: null, reason };
}
