import type { Transaction } from 'kysely';
import { addToDigest } from '../store/queries/digests.js';
import type { AlertUpdate, Database } from '../store/schema.js';
import type { DigestCadence } from './digest-period.js';

/**
 * The transition of an alert whose command ran with no login user: it ends escalated with the
 * reason `system_actor` (so reviewers find it like any escalation, and the report contract keeps
 * its statuses) and is listed in its period's digest instead of being posted to the channel alone.
 */
export async function digestInstead(
  trx: Transaction<Database>,
  entry: { alertId: string; now: Date; cadence: DigestCadence },
): Promise<{ changes: AlertUpdate; action: string; detail: Record<string, unknown> }> {
  const period = await addToDigest(trx, entry);
  const detail = `the command ran with no login user (a system process); listed in the ${entry.cadence} digest`;
  return {
    changes: { status: 'escalated', escalation_reason: 'system_actor', escalation_detail: detail, resolved_at: entry.now },
    action: 'digested',
    detail: { reason: 'system_actor', period },
  };
}
