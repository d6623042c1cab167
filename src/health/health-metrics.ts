import type { Kysely } from 'kysely';
import { HEALTH_KINDS } from '../chat/quiet-views.js';
import type { GaugeFamily } from '../server/gauge-family.js';
import { openNoticeCounts } from '../store/queries/health.js';
import type { Database } from '../store/schema.js';

/** `vouch_health_notices{kind}`: open health notices per kind, every kind listed (0 when none). */
export async function healthNoticeGauge(db: Kysely<Database>): Promise<GaugeFamily> {
  const counts = new Map((await openNoticeCounts(db)).map((row) => [row.kind, row.count]));
  return {
    name: 'vouch_health_notices',
    help: 'Open pipeline health notices (auditd stopped, events lost, silent hosts, ...) by kind.',
    samples: HEALTH_KINDS.map((kind) => ({ labels: { kind }, value: counts.get(kind) ?? 0 })),
  };
}
