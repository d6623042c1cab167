import { randomBytes } from 'node:crypto';
import cron from 'node-cron';
import { IdentityResolver } from './alerts/identity.js';
import type { ChatPort } from './chat/chat-port.js';
import { SlackChat } from './chat/slack/slack-chat.js';
import { createSlackReceiver } from './chat/slack/slack-receiver.js';
import { systemClock, type Clock } from './clock.js';
import type { DuoConfig, SlackConfig, VouchConfig } from './config/config.js';
import { loadDefaultRules, loadRuleFile } from './detect/load-rules.js';
import type { RuleSet } from './detect/rule.js';
import { ConfigError, coerceError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { routeReviewConsole } from './review/console/route-review-console.js';
import { routeReviewApi } from './server/review-api.js';
import { setUpConsoleAuth } from './review/console/console-setup.js';
import type { ConsoleAuth } from './review/console/console-auth.js';
import { routeIngest, startIdleHeldLinesReader } from './server/ingest-api.js';
import { sendText } from './http/respond.js';
import { HttpServer, routeHealthz } from './server/http-server.js';
import { Metrics } from './server/metrics.js';
import { startSandbox, type Sandbox } from './sandbox/sandbox.js';
import { sandboxHostGuard } from './sandbox/sandbox-host-check.js';
import { assertStartable } from './config/sandbox-mode.js';
import { prepareDataDir } from './config/prepare-data-dir.js';
import { FileSource } from './sources/file-source.js';
import { Ingestor } from './sources/ingest.js';
import { uidMapResolver } from './sources/parser.js';
import { configuredDatabaseOptions, openDatabase, type DatabaseOptions, type VouchDatabase } from './store/database.js';
import { writeServiceFile } from './service-file.js';
import { migrateToLatest } from './store/migrate.js';
import { untilDatabaseAnswers, type WaitOptions } from './store/wait-for-database.js';
import { describeBrokenChain, verifyAuditTrail } from './store/queries/audit-trail.js';
import { openNoticeCounts } from './store/queries/health.js';
import { countFailedJobs } from './store/queries/jobs.js';
import { getOrCreateSetting } from './store/queries/settings.js';
import type { RetryPolicy } from './store/retry-transient.js';
import { DuoClient } from './verify/duo/duo-client.js';
import { DuoSecondFactor } from './verify/duo/duo-second-factor.js';
import { JobRunner, type JobEvents } from './workflow/job-runner.js';
import { listenForJobs } from './store/job-notifications.js';
import { Workflow } from './workflow/workflow.js';
import { DigestPoster } from './digest/digest-poster.js';
import { HealthMonitor } from './health/health-monitor.js';
import { healthNoticeGauge } from './health/health-metrics.js';
import { PagerDuty } from './page/pagerduty.js';

export interface ServiceOptions {
  config: VouchConfig;
  logger?: Logger;
  clock?: Clock;
  /** An already open (and migrated) store, e.g. a test's isolated schema; closed by stop() only if not given. */
  store?: VouchDatabase;
  /** Start the timers that poll sources and run jobs. Default true; tests drive runOnce() themselves. */
  autoRun?: boolean;
  /** How ingestion retries a transaction that failed for a transient reason. Default DEFAULT_RETRY_POLICY. */
  ingestRetry?: RetryPolicy;
  /** How a start waits for a database it cannot reach yet (see untilDatabaseAnswers). Default 1 s doubling to 30 s. */
  databaseWait?: Pick<WaitOptions, 'firstWaitMs' | 'maxWaitMs' | 'sleep'>;
  /** Options added to those of the store the service opens when none is given (a test's schema). */
  storeOptions?: Partial<DatabaseOptions>;
  /**
   * Who may use the review console (/review) and how they sign in. Without one the console's
   * routes are not mounted.
   */
  consoleAuth?: ConsoleAuth;
}

export interface RunningService {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  url: string;
  store: VouchDatabase;
  workflow: Workflow;
  runner: JobRunner;
  sources: FileSource[];
  ingestor: Ingestor;
  rules: RuleSet;
  metrics: Metrics;
  /** Posts each ended period's digest of system-actor alerts (every minute when auto-running). */
  digests: DigestPoster;
  /** Pipeline health: silent hosts, malformed spikes, recoveries and the posts (every minute when auto-running). */
  health: HealthMonitor;
  /** The review API's bearer token. */
  reviewToken: string;
  /** Sign-in for the review console and authentication for the review API. */
  consoleAuth: ConsoleAuth;
  /** Present when running on the built-in simulators. */
  sandbox: Sandbox | null;
  stop(): Promise<void>;
}

/**
 * Assembles and starts the whole service: store (migrated), rules, chat, second factor, workflow,
 * job runner, sources and the HTTP server. In sandbox mode (asked for, or a bare start with nothing
 * configured) it runs both simulators in-process, a demo audit log, and the pages at /sandbox, on
 * loopback only; a live configuration missing Slack or Duo credentials is refused (ConfigError).
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config } = options;
  // Before anything opens: a live start without credentials, or a sandbox beyond loopback, is refused.
  assertStartable(config);
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  const ownsStore = !options.store;
  // The embedded database and the sandbox keep their files in the data directory: private, whatever the database.
  if ((ownsStore && !config.database.url) || config.sandbox) prepareDataDir(config.database.dataDir);
  // A bad rule file or port is the configuration's to fix: said at once, before waiting for a database.
  const rules = config.rules ? loadRuleFile(config.rules) : loadDefaultRules();
  const http = new HttpServer(logger);
  const url = await http.listen(config.server.port, config.server.host).catch((error: unknown) => {
    throw listenRefusal(error, config.server);
  });
  // Until every route is in place, requests are answered 503 (see holdRequests).
  http.holdRequests('starting');
  const cleanups: Array<() => Promise<void> | void> = [() => http.close()];
  try {
    if (config.sandbox) http.guard(sandboxHostGuard({ port: Number(new URL(url).port), host: config.server.host }));
    // A start during a database outage waits for it (logging each try), as a running service does.
    const waiting = { ...options.databaseWait, logger };
    if (ownsStore) http.holdRequests('waiting for the database');
    const store =
      options.store ??
      (await untilDatabaseAnswers(
        'connecting',
        () =>
          openDatabase(
            configuredDatabaseOptions(config.database, {
              onConnectionError: (error) => logger.warn('database connection lost; queries are retried', { error }),
              ...options.storeOptions,
            }),
          ),
        waiting,
      ));
    if (ownsStore) {
      cleanups.push(() => store.close());
      await untilDatabaseAnswers('migrating', () => migrateToLatest(store), waiting);
    }
    http.holdRequests('starting');
    const metrics = new Metrics(config.jobs.maxAttempts);

    const sandbox = config.sandbox ? await startSandbox({ config, store, http, baseUrl: url, clock, logger }) : null;
    if (sandbox) cleanups.push(() => sandbox.stop());
    const slack = (sandbox?.slack ?? config.slack) as SlackConfig;
    const duo = (sandbox?.duo ?? config.duo) as DuoConfig;
    const identityConfig = sandbox?.identity ?? config.identity;

    // Few, quick retries: a job holds a slot while the SDK waits, and the runner retries later anyway.
    const chat: ChatPort = new SlackChat({
      botToken: slack.botToken,
      apiUrl: slack.apiUrl,
      securityChannel: slack.securityChannel,
      timeoutMs: 10_000,
      retryConfig: { retries: 2, minTimeout: 1000, maxTimeout: 10_000 },
      logger,
    });
    const secondFactor = new DuoSecondFactor(
      new DuoClient({ integrationKey: duo.integrationKey, secretKey: duo.secretKey, apiHost: duo.apiHost, apiUrl: duo.apiUrl, clock, requestTimeoutMs: config.workflow.duoRequestTimeoutMs }),
    );
    const identity = new IdentityResolver({ config: identityConfig, chat, db: store.db, clock, ttlMs: config.workflow.identityTtlMs });
    let runner: JobRunner | null = null;
    const wake = () => runner?.wake();
    const systemDigest = config.workflow.systemActor === 'digest' ? config.workflow.systemDigest : null;
    // The sandbox pages its own simulator; a sandbox with a real routing key never starts (assertStartable).
    const paging = sandbox?.pagerduty ?? config.pagerduty;
    const pager = paging ? new PagerDuty({ routingKey: paging.routingKey, apiUrl: paging.apiUrl }) : null;
    const workflow = new Workflow({ db: store.db, chat, secondFactor, identity, clock, logger, timings: config.workflow, onScheduled: wake, systemDigest, pager });
    const digests = new DigestPoster({ db: store.db, chat, clock, logger });
    const health = new HealthMonitor({ db: store.db, chat, clock, logger, config: config.health });
    metrics.addGauge(healthNoticeGauge);
    runner = new JobRunner({
      db: store.db,
      clock,
      logger,
      handle: (job, context) => workflow.handleJob(job, context),
      onExhausted: (job, error) => workflow.onJobExhausted(job, error),
      concurrency: config.jobs.concurrency,
      leaseMs: config.jobs.leaseMs,
      maxAttempts: config.jobs.maxAttempts,
      events: jobMetrics(metrics),
    });
    const jobRunner = runner;

    const ingestor = new Ingestor({ db: store.db, rules, clock, policy: config.workflow, onAlert: wake, logger, retry: options.ingestRetry, recordHostActivity: true });
    const sourceConfigs = [...config.sources, ...(sandbox ? [sandbox.demoSource] : [])];
    const sources = sourceConfigs
      .filter((source) => source.path !== null)
      .map((source) => new FileSource({ source, ingestor, db: store.db, clock, logger, metrics, resolveUid: uidMapResolver(identityConfig.uids) }));

    const receiver = createSlackReceiver({ signingSecret: slack.signingSecret, botToken: slack.botToken, apiUrl: slack.apiUrl, clock, handlers: workflow, logger });
    http.route('POST', '/slack/events', (req, res) => receiver.handle(req, res));
    routeHealthz(http, {
      checkDatabase: async () => {
        const [notices, failed] = await Promise.all([openNoticeCounts(store.db), countFailedJobs(store.db, config.jobs.maxAttempts)]);
        return { healthNotices: sum(notices), failedJobs: sum(failed) };
      },
      pingDatabase: (timeoutMs) => store.ping(timeoutMs),
      details: { database: store.kind, sandbox: Boolean(sandbox) },
    });
    http.route('GET', '/metrics', async (_req, res) => sendText(res, 200, await metrics.render(store.db), metrics.contentType));
    const reviewToken = config.review.token ?? (await getOrCreateSetting(store.db, 'review_token', () => randomBytes(24).toString('base64url')));
    // Tests may bring their own sign-in; otherwise SSO, or the sandbox's own identity provider.
    const consoleAuth = options.consoleAuth ?? setUpConsoleAuth({ config, store, http, baseUrl: url, clock, logger, sharedToken: reviewToken });
    const ruleIds = new Set(rules.specs.map((spec) => spec.id));
    routeReviewApi(http, { db: store.db, clock, auth: consoleAuth, ruleIds, logger });
    routeReviewConsole(http, { db: store.db, clock, auth: consoleAuth, ruleIds, onScheduled: wake, logger });
    const ingestRoute = { sources: config.sources, ingestor, clock, logger, metrics, resolveUid: uidMapResolver(identityConfig.uids) };
    routeIngest(http, ingestRoute);

    if (options.autoRun ?? true) {
      jobRunner.start(config.workflow.pollIntervalMs);
      cleanups.push(() => jobRunner.stop());
      // Replicas wake each other through Postgres; the embedded database has one process only.
      if (store.kind === 'postgres' && config.database.url) {
        const notifications = listenForJobs({ url: config.database.url, onNotify: wake, logger });
        cleanups.push(() => notifications.close());
      }
      for (const source of sources) {
        source.start(config.workflow.pollIntervalMs);
        cleanups.push(() => source.stop());
      }
      // Hourly, recompute the audit trail's hash chain so tampering is noticed without a reviewer asking.
      const trailCheck = cron.schedule('17 * * * *', () => void checkTrail(store, logger));
      cleanups.push(() => void trailCheck.stop());
      // Every minute: post the digests whose period ended, check pipeline health and post notices.
      const quietRounds = cron.schedule('* * * * *', () => void runQuietRounds([digests, health], logger));
      cleanups.push(() => void quietRounds.stop());
      // Every second: the lines of events a shipper's request ended inside, whose host sent nothing since.
      const idleHeld = startIdleHeldLinesReader(ingestRoute, logger);
      cleanups.push(() => idleHeld.stop());
    } else {
      cleanups.push(async () => {
        await jobRunner.stop();
        for (const source of sources) await source.stop();
      });
    }
    if (store.kind === 'pglite') cleanups.push(writeServiceFile(config.database.dataDir, url, reviewToken));

    http.holdRequests(null);
    logger.info('vouch started', { url, database: store.kind, sandbox: Boolean(sandbox), rules: rules.size, sources: sources.map((s) => s.name) });
    let stopped = false;
    return {
      url,
      store,
      workflow,
      runner: jobRunner,
      sources,
      ingestor,
      rules,
      metrics,
      digests,
      health,
      reviewToken,
      consoleAuth,
      sandbox,
      async stop() {
        if (stopped) return;
        stopped = true;
        await runCleanups(cleanups, logger);
      },
    };
  } catch (error) {
    // The server, and the store when this start opened it, are closed again.
    await runCleanups(cleanups, logger);
    throw error;
  }
}

/**
 * A port or address the server cannot listen on is the configuration's to fix (exit code 2, as
 * for every refused start): the error names the key and the way out instead of `listen EADDRINUSE`.
 */
function listenRefusal(error: unknown, server: { port: number; host: string }): Error {
  const where = `${server.port} (VOUCH_PORT)`;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ConfigError('server.port', `${where} is already in use on ${server.host}: stop the other process or choose another port`);
    case 'EACCES':
      return new ConfigError('server.port', `${where} on ${server.host} needs privileges this user lacks: choose a port above 1023`);
    case 'EADDRNOTAVAIL':
      return new ConfigError('server.host', `${server.host} (VOUCH_HOST) is not an address of this machine: listen on one it has, 127.0.0.1 or 0.0.0.0`);
    default:
      return coerceError(error);
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>, logger: Logger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      logger.warn('error while stopping', { error: coerceError(error) });
    }
  }
  cleanups.length = 0;
}

async function runQuietRounds(rounds: ReadonlyArray<{ runOnce(): Promise<number> }>, logger: Logger): Promise<void> {
  for (const round of rounds) {
    try {
      await round.runOnce();
    } catch (error) {
      logger.warn('digest or health round failed; tried again in a minute', { error: coerceError(error) });
    }
  }
}

async function checkTrail(store: VouchDatabase, logger: Logger): Promise<void> {
  try {
    const check = await verifyAuditTrail(store.db);
    if (!check.broken) logger.info('audit trail intact', { rows: check.rows, chains: check.chains });
    else {
      logger.error(`audit trail hash chain is broken: ${describeBrokenChain(check.broken)}`, {
        alertId: check.broken.alertId,
        chain: check.broken.chain,
        rowId: check.broken.rowId,
      });
    }
  } catch (error) {
    logger.warn('audit trail check failed', { error: coerceError(error) });
  }
}

/** The job runner's counters, as /metrics shows them. */
function jobMetrics(metrics: Metrics): JobEvents {
  return {
    failed: (kind) => metrics.jobFailed(kind),
    exhausted: (kind) => metrics.jobAbandoned(kind),
    leaseExpired: (kind) => metrics.jobLeaseExpired(kind),
  };
}

/** The total of per-kind counts. */
function sum(counts: ReadonlyArray<{ count: number }>): number {
  return counts.reduce((total, row) => total + row.count, 0);
}
