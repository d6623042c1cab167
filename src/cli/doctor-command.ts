import { WebClient } from '@slack/web-api';
import { systemClock } from '../clock.js';
import type { VouchConfig } from '../config/config.js';
import { assertStartable } from '../config/sandbox-mode.js';
import { loadDefaultRules, loadRuleFile } from '../detect/load-rules.js';
import { coerceError } from '../errors.js';
import { failedJobs } from '../store/queries/jobs.js';
import { malformedCounts } from '../store/queries/sources.js';
import { describeBrokenChain, verifyAuditTrail } from '../store/queries/audit-trail.js';
import { DuoClient } from '../verify/duo/duo-client.js';
import type { VouchDatabase } from '../store/database.js';
import { openConfiguredStore } from './open-store.js';
import { healthTitle } from '../chat/slack/quiet-blocks.js';
import { toNoticeView } from '../health/health-monitor.js';
import { openNotices } from '../store/queries/health.js';
import { visibleText } from '../terminal-text.js';
import { consoleSignInCheck } from '../review/console/console-doctor.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs every check and reports each; `ok` is false if any failed. */
export async function doctorCommand(config: VouchConfig): Promise<{ text: string; ok: boolean }> {
  let health: Check | null = null;
  const checks: Check[] = [configCheck(config)];
  checks.push(await check('rules', async () => {
    const rules = config.rules ? loadRuleFile(config.rules) : loadDefaultRules();
    return `${rules.size} rules from ${config.rules ?? 'the default pack'}`;
  }));
  let jobs: Check | null = null;
  const database = await check('database', async () => {
    // Refuses a database that misses migrations, in the words report and the other commands use.
    const store = await openConfiguredStore(config, {
      migrate: false,
      whileRunning: (running) =>
        `Stop the service and run vouch doctor again to check the database; meanwhile ${running.url}/healthz says whether it is reachable and ${running.url}/metrics shows open health notices and failed jobs.`,
    });
    try {
      const trail = await verifyAuditTrail(store.db);
      if (trail.broken) throw new Error(`audit trail hash chain broken: ${describeBrokenChain(trail.broken)}; history was altered`);
      const malformed = await malformedCounts(store.db);
      const skipped = malformed.reduce((sum, row) => sum + row.count, 0);
      jobs = await jobHealth(store, config.jobs.maxAttempts);
      health = await healthCheck(store);
      return `${store.kind} reachable; audit trail intact (${trail.rows} steps in ${trail.chains} chains); ${skipped} malformed lines skipped so far`;
    } finally {
      await store.close();
    }
  });
  checks.push(database);
  if (jobs) checks.push(jobs);
  if (health) checks.push(health);
  checks.push(reviewCheck(config, database));
  checks.push(await consoleSignInCheck(config));
  if (config.slack) {
    const slack = config.slack;
    checks.push(await check('slack', async () => {
      const client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 1 }, timeout: 10_000 });
      const auth = await client.auth.test();
      return `authenticated as ${auth.user ?? '?'} in ${auth.team ?? '?'}`;
    }));
  }
  if (config.duo) {
    const duo = config.duo;
    checks.push(await check('duo', async () => {
      const client = new DuoClient({ integrationKey: duo.integrationKey, secretKey: duo.secretKey, apiHost: duo.apiHost, apiUrl: duo.apiUrl, clock: systemClock, requestTimeoutMs: config.workflow.duoRequestTimeoutMs });
      await client.check();
      return `credentials accepted by ${duo.apiHost}`;
    }));
  }
  const text = checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(9)} ${c.detail}`).join('\n') + '\n';
  return { text, ok: checks.every((c) => c.ok) };
}

/**
 * The configuration as `vouch start` judges it: the very check start-up runs, so doctor never calls
 * valid what start refuses (live mode without credentials, an unsafe sandbox).
 */
function configCheck(config: VouchConfig): Check {
  try {
    assertStartable(config);
  } catch (error) {
    return { name: 'config', ok: false, detail: coerceError(error).message };
  }
  return { name: 'config', ok: true, detail: config.sandbox ? 'valid (sandbox: Slack and Duo simulated)' : 'valid' };
}

/**
 * The review API's token. The API keeps its tokens (and everything it serves) in the database, so
 * while the database check fails this fails too, rather than calling the review API fine.
 */
function reviewCheck(config: VouchConfig, database: Check): Check {
  if (!database.ok) {
    return { name: 'review', ok: false, detail: 'not checked: the review API keeps its tokens in the database and serves everything from it, and doctor could not use it (see the database check)' };
  }
  return {
    name: 'review',
    ok: true,
    detail: config.review.token
      ? 'review API token set (recorded as token:review.token); for each machine, an admin can rather create a named one: POST /api/tokens {"name": "..."}'
      : 'review API token generated and kept in the database; to choose one, set review.token or VOUCH_REVIEW_TOKEN (at least 32 characters: openssl rand -hex 32); ' +
        'for each machine, an admin can rather create a named, revocable one: POST /api/tokens {"name": "..."}',
  };
}

/**
 * Jobs that used up their attempts (parked and retried every 15 minutes, or still waiting for their
 * escalation to go through) and alerts escalated because
 * Vouch could not reach their owner in the last week: both need an operator.
 */
async function jobHealth(store: VouchDatabase, maxAttempts: number): Promise<Check> {
  const failed = await failedJobs(store.db, maxAttempts, 5);
  const since = new Date(Date.now() - 7 * 24 * 3600_000);
  const undelivered = await store.db
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('escalation_reason', '=', 'delivery_failed')
    .where('resolved_at', '>=', since)
    .executeTakeFirst();
  const undeliveredCount = Number(undelivered?.count ?? 0);
  const pending = await store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirst();
  const parts = [`${Number(pending?.count ?? 0)} pending`];
  if (undeliveredCount > 0) parts.push(`${undeliveredCount} alert(s) escalated in the last 7 days because their owner could not be reached (delivery_failed)`);
  if (failed.length === 0) return { name: 'jobs', ok: true, detail: parts.join('; ') };
  const listed = failed.map((job) => {
    const state = job.failed_at !== null ? 'escalated, retried every 15 minutes' : 'its escalation has not gone through yet';
    return `${job.kind} for ${job.alert_id} (${job.attempts} attempts, ${state}: ${(job.last_error ?? '').slice(0, 200)})`;
  });
  return { name: 'jobs', ok: false, detail: `${parts.join('; ')}; used up their attempts: ${listed.join('; ')}` };
}

/**
 * The audit pipeline as the service last saw it: every open health notice (auditd stopped, events
 * lost, a silent host, ...) fails the check, named with its host and since when.
 */
async function healthCheck(store: VouchDatabase): Promise<Check> {
  const open = await openNotices(store.db, 20);
  if (open.length === 0) return { name: 'health', ok: true, detail: 'no open pipeline health notices' };
  const lines = open.map((notice) => `${healthTitle(toNoticeView(notice).kind)} on ${visibleText(notice.host)} since ${notice.opened_at.toISOString()}`);
  return { name: 'health', ok: false, detail: `${open.length} open pipeline health notice${open.length === 1 ? '' : 's'}: ${lines.join('; ')}` };
}

async function check(name: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: coerceError(error).message };
  }
}
