import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * A gauge read from the database at scrape time, as plain samples: the metrics module renders
 * them, whichever exposition library it uses.
 */
export interface GaugeFamily {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

/** Reads one gauge family; registered with Metrics.addGauge. */
export type GaugeReader = (db: Kysely<Database>) => Promise<GaugeFamily>;
