import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SEVERITIES, type Severity } from '../alerts/alert.js';
import type { ChatPort } from '../chat/chat-port.js';
import type { SystemDigestView } from '../chat/quiet-views.js';
import { DIGEST_MAX_LINES } from '../chat/slack/quiet-blocks.js';
import type { Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { appendAudit } from '../store/queries/audit-trail.js';
import { claimDueDigests, digestContents, markDigestPosted } from '../store/queries/digests.js';
import type { Database, SystemDigestRow } from '../store/schema.js';

export interface DigestPosterOptions {
  db: Kysely<Database>;
  chat: ChatPort;
  clock: Clock;
  logger: Logger;
  /** How long a claim on a period holds before another replica may take it over. Default 2 minutes. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 120_000;
/** Periods posted per round; a backlog (the service was down for days) drains a few a minute. */
const PERIODS_PER_ROUND = 5;

/**
 * Posts each ended digest period once, whatever the number of replicas: a period is claimed in
 * the database (a lease) before it is posted, and the message is recorded after. A post that
 * fails leaves the claim to run out, and the period is posted on a later round.
 */
export class DigestPoster {
  private readonly worker = `digest-${randomBytes(6).toString('hex')}`;

  constructor(private readonly options: DigestPosterOptions) {}

  /** Posts the periods that have ended; returns how many were posted. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.options;
    const now = clock.now();
    const due = await claimDueDigests(db, { worker: this.worker, now, leaseUntil: new Date(now.getTime() + (this.options.leaseMs ?? DEFAULT_LEASE_MS)), limit: PERIODS_PER_ROUND });
    let posted = 0;
    for (const period of due) {
      try {
        if (await this.post(period)) posted += 1;
      } catch (error) {
        this.options.logger.warn('digest post failed; retried when its claim runs out', { period: period.period, error: coerceError(error) });
      }
    }
    return posted;
  }

  private async post(period: SystemDigestRow): Promise<boolean> {
    const { db, chat, clock, logger } = this.options;
    const contents = await digestContents(db, period.period, DIGEST_MAX_LINES);
    const view: SystemDigestView = {
      cadence: period.period.startsWith('hourly:') ? 'hourly' : 'daily',
      startsAt: period.starts_at,
      endsAt: period.ends_at,
      total: contents.total,
      runs: contents.runs,
      lines: contents.lines.map((line) => ({
        host: line.host,
        ruleName: line.rule_name,
        severity: severityOf(line.severity),
        command: line.command,
        runAs: line.run_as,
        alerts: line.alerts,
        runs: line.runs,
        firstAt: line.first_at,
        lastAt: line.last_at,
      })),
    };
    const message = await chat.postDigest(view);
    const at = clock.now();
    const recorded = await db.transaction().execute(async (trx) => {
      const ok = await markDigestPosted(trx, period, { channel: message.channel, ts: message.ts, at, alertCount: contents.total });
      if (ok) {
        await appendAudit(trx, { alertId: null, at, actor: 'system', action: 'digest_posted', detail: { period: period.period, alerts: contents.total, channel: message.channel, ts: message.ts } });
      }
      return ok;
    });
    logger.info('system digest posted', { period: period.period, alerts: contents.total, recorded });
    return recorded;
  }
}

function severityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'low';
}
