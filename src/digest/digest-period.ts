/** How often system-actor alerts are gathered into one channel post (`workflow.system_digest`). */
export const DIGEST_CADENCES = ['daily', 'hourly'] as const;
export type DigestCadence = (typeof DIGEST_CADENCES)[number];

/** One digest period: its key (the row's primary key) and its bounds, in UTC. */
export interface DigestPeriod {
  /** `daily:2026-12-01` or `hourly:2026-12-01T23`. */
  key: string;
  startsAt: Date;
  endsAt: Date;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The period `at` falls in. Periods are UTC days or hours, so every replica computes the same key. */
export function digestPeriodAt(at: Date, cadence: DigestCadence): DigestPeriod {
  const length = cadence === 'daily' ? DAY_MS : HOUR_MS;
  const start = Math.floor(at.getTime() / length) * length;
  const iso = new Date(start).toISOString();
  const key = cadence === 'daily' ? `daily:${iso.slice(0, 10)}` : `hourly:${iso.slice(0, 13)}`;
  return { key, startsAt: new Date(start), endsAt: new Date(start + length) };
}

/** The period after `period`, for an entry that arrives once its own period was already posted. */
export function nextDigestPeriod(period: DigestPeriod, cadence: DigestCadence): DigestPeriod {
  return digestPeriodAt(period.endsAt, cadence);
}
