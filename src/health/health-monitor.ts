import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChatPort } from '../chat/chat-port.js';
import { HEALTH_KINDS, type HealthKind, type HealthNoticeView } from '../chat/quiet-views.js';
import type { Clock } from '../clock.js';
import type { HealthConfig } from '../config/config.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import {
  claimHealthPosts,
  markHealthPosted,
  openNotice,
  recoverHeardHosts,
  recoverQuietNotices,
  silentHosts,
} from '../store/queries/health.js';
import { getSetting } from '../store/queries/settings.js';
import { malformedCounts } from '../store/queries/sources.js';
import type { Database, HealthNoticeRow } from '../store/schema.js';

export interface HealthMonitorOptions {
  db: Kysely<Database>;
  chat: ChatPort;
  clock: Clock;
  logger: Logger;
  config: HealthConfig;
  /** How long a claim on a post holds before another replica may take it over. Default 2 minutes. */
  leaseMs?: number;
}

/** Notices that recover by staying quiet: nothing says "fixed", only the absence of another. */
const QUIET_KINDS: readonly HealthKind[] = ['events_lost', 'sequence_gap', 'malformed_spike'];
const DEFAULT_LEASE_MS = 120_000;
const POSTS_PER_ROUND = 20;
/** The malformed-line counts of the last check, kept in `settings` so every replica shares them. */
const MALFORMED_BASELINE_KEY = 'health.malformed_baseline';
/**
 * The check runs once a minute from cron, so the time since the last one is a minute give or take
 * jitter (a round starting a millisecond earlier, or after a slow digest round). A round this soon
 * after the last one (another replica in the same minute) is skipped; any other measures its window
 * in whole minutes, so jitter neither skips a minute nor thins out one minute's spike.
 */
const MIN_SPIKE_WINDOW_MS = 30_000;
const MINUTE_MS = 60_000;

/**
 * The periodic side of pipeline health (signals from the logs themselves are stored while they
 * are ingested): opens notices for hosts gone silent and for spikes of malformed lines, recovers
 * the notices whose trouble is over, and posts each notice once to the security channel with its
 * recovery in the notice's thread. Safe with several replicas: notices are unique per open
 * (host, kind), and every post is claimed in the database before it is sent.
 */
export class HealthMonitor {
  private readonly worker = `health-${randomBytes(6).toString('hex')}`;

  constructor(private readonly options: HealthMonitorOptions) {}

  /** One round: checks, recoveries, then the posts due. Returns the number of messages posted. */
  async runOnce(): Promise<number> {
    const now = this.options.clock.now();
    await this.checkSilentHosts(now);
    await this.checkMalformedSpikes(now);
    const { quietAfterMs } = this.options.config;
    await recoverQuietNotices(this.options.db, QUIET_KINDS, new Date(now.getTime() - quietAfterMs), now, `not seen again for ${minutes(quietAfterMs)}`);
    return (await this.post('notice', now)) + (await this.post('recovery', now));
  }

  private async checkSilentHosts(now: Date): Promise<void> {
    const { db, config } = this.options;
    await recoverHeardHosts(db, now);
    if (config.silentAfterMs <= 0) return;
    for (const host of await silentHosts(db, new Date(now.getTime() - config.silentAfterMs))) {
      const detail = `no audit records from source ${host.source} since ${host.last_seen_at.toISOString()} (health.silent_after is ${minutes(config.silentAfterMs)})`;
      await openNotice(db, { host: host.host, kind: 'host_silent', detail, at: now, count: false });
    }
  }

  /**
   * Compares each source's malformed-line count with the last check's: more than
   * `health.malformed_spike` a minute opens a notice named after the source; a calm minute lets
   * it recover (through the quiet rule).
   */
  private async checkMalformedSpikes(now: Date): Promise<void> {
    const { db, config } = this.options;
    if (config.malformedSpike <= 0) return;
    const baseline = parseBaseline(await getSetting(db, MALFORMED_BASELINE_KEY));
    const elapsedMs = baseline === null ? 0 : now.getTime() - baseline.at;
    if (baseline !== null && elapsedMs < MIN_SPIKE_WINDOW_MS) return;
    const totals = new Map<string, number>();
    for (const row of await malformedCounts(db)) totals.set(row.source, (totals.get(row.source) ?? 0) + row.count);
    if (baseline !== null) {
      const minutesElapsed = Math.max(1, Math.round(elapsedMs / MINUTE_MS));
      for (const [source, total] of totals) {
        const rate = Math.round((total - (baseline.counts[source] ?? 0)) / minutesElapsed);
        if (rate <= config.malformedSpike) continue;
        const detail = `${rate} malformed lines a minute from source ${source} (health.malformed_spike is ${config.malformedSpike}); see vouch doctor and the service log for samples`;
        await openNotice(db, { host: source, kind: 'malformed_spike', detail, at: now, count: true });
      }
    }
    const value = JSON.stringify({ at: now.getTime(), counts: Object.fromEntries(totals) });
    await db.insertInto('settings').values({ key: MALFORMED_BASELINE_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  private async post(what: 'notice' | 'recovery', now: Date): Promise<number> {
    const { db, chat, logger, clock } = this.options;
    const leaseUntil = new Date(now.getTime() + (this.options.leaseMs ?? DEFAULT_LEASE_MS));
    const claimed = await claimHealthPosts(db, { what, worker: this.worker, now, leaseUntil, limit: POSTS_PER_ROUND });
    let posted = 0;
    for (const row of claimed) {
      try {
        const view = toNoticeView(row);
        const message =
          what === 'notice' ? await chat.postHealthNotice(view) : await chat.postHealthRecovery(view, { channel: row.channel ?? '', ts: row.ts ?? '' });
        const at = clock.now();
        await db.transaction().execute(async (trx) => {
          if (!(await markHealthPosted(trx, row, what, message))) return;
          const action = what === 'notice' ? 'health_notice_posted' : 'health_recovery_posted';
          await appendAudit(trx, { alertId: null, at, actor: 'system', action, detail: { notice: row.id, host: row.host, kind: row.kind, channel: message.channel, ts: message.ts } });
        });
        logger.info(what === 'notice' ? 'health notice posted' : 'health recovery posted', { notice: row.id, kind: row.kind });
        posted += 1;
      } catch (error) {
        logger.warn('health post failed; retried when its claim runs out', { notice: row.id, kind: row.kind, error: coerceError(error) });
      }
    }
    return posted;
  }
}

export function toNoticeView(row: HealthNoticeRow): HealthNoticeView {
  return {
    id: row.id,
    host: row.host,
    kind: (HEALTH_KINDS as readonly string[]).includes(row.kind) ? (row.kind as HealthKind) : 'events_lost',
    detail: row.detail,
    openedAt: row.opened_at,
    lastSeenAt: row.last_seen_at,
    occurrences: row.occurrences,
    recoveredAt: row.recovered_at,
    recoveryDetail: row.recovery_detail,
  };
}

function parseBaseline(value: string | null): { at: number; counts: Record<string, number> } | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as { at?: unknown; counts?: unknown };
    if (typeof parsed.at !== 'number' || typeof parsed.counts !== 'object' || parsed.counts === null) return null;
    return { at: parsed.at, counts: parsed.counts as Record<string, number> };
  } catch {
    return null;
  }
}

function minutes(ms: number): string {
  const total = Math.round(ms / 60_000);
  return total % 60 === 0 && total >= 60 ? `${total / 60} h` : `${total} min`;
}
