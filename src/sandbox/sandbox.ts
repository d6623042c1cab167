import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { DuoConfig, IdentityConfig, PagerDutyConfig, SlackConfig, SourceConfig, VouchConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { PRIVATE_FILE_MODE, makePrivateDir } from '../private-files.js';
import type { HttpServer, RouteHandler } from '../server/http-server.js';
import type { VouchDatabase } from '../store/database.js';
import { createDuoSimulator, type DuoSimulator } from './duo-simulator.js';
import { PagerDutySimulator } from './pagerduty-simulator.js';
import { DEMO_COMMANDS, DEMO_PEOPLE, auditdRecords, type DemoCommand } from './demo-log.js';
import { routeSandboxPages } from './sandbox-pages.js';
import { SandboxPersistence } from './sandbox-persistence.js';
import { createSlackSimulator, type SlackSimulator } from './slack-simulator.js';

export const SANDBOX_SECURITY_CHANNEL = 'C0SECURITY';
const SANDBOX_EMAIL_DOMAIN = 'sandbox.vouch.example';
const SANDBOX_DUO_HOST = 'api-sandbox.duosecurity.example';

export interface Sandbox {
  slack: SlackConfig;
  duo: DuoConfig;
  /** The simulated PagerDuty the sandbox's critical escalations page (never a real one). */
  pagerduty: PagerDutyConfig;
  identity: IdentityConfig;
  demoSource: SourceConfig;
  slackSimulator: SlackSimulator;
  duoSimulator: DuoSimulator;
  pagerDutySimulator: PagerDutySimulator;
  /** Appends a demo command to the demo audit log, as if someone had just run it. */
  runDemoCommand(command: DemoCommand): void;
  stop(): Promise<void>;
}

/**
 * The sandbox: the Slack, Duo and PagerDuty simulators served by the service itself (under
 * /sandbox/slack, /sandbox/duo and /sandbox/pagerduty), a cast of demo engineers, a demo auditd
 * log, and the pages where a person plays
 * each engineer. Credentials are generated per start: nothing here is a real secret.
 */
export async function startSandbox(options: {
  config: VouchConfig;
  store: VouchDatabase;
  http: HttpServer;
  baseUrl: string;
  clock: Clock;
  logger: Logger;
}): Promise<Sandbox> {
  const { config, http, baseUrl, clock, logger } = options;
  const slack: SlackConfig = {
    botToken: `xoxb-sandbox-${randomBytes(12).toString('hex')}`,
    signingSecret: randomBytes(16).toString('hex'),
    apiUrl: `${baseUrl}/sandbox/slack/api/`,
    securityChannel: SANDBOX_SECURITY_CHANNEL,
  };
  const duo: DuoConfig = {
    integrationKey: `DI${randomBytes(9).toString('hex').toUpperCase()}`,
    secretKey: randomBytes(20).toString('hex'),
    apiHost: SANDBOX_DUO_HOST,
    apiUrl: `${baseUrl}/sandbox/duo`,
  };
  const pagerduty: PagerDutyConfig = { routingKey: randomBytes(16).toString('hex'), apiUrl: `${baseUrl}/sandbox/pagerduty` };
  const pagerDutySimulator = new PagerDutySimulator({ routingKeys: [pagerduty.routingKey] });
  const slackSimulator = createSlackSimulator({ botToken: slack.botToken, signingSecret: slack.signingSecret, requestUrl: `${baseUrl}/slack/events`, clock });
  const duoSimulator = createDuoSimulator({ integrationKey: duo.integrationKey, secretKey: duo.secretKey, apiHost: duo.apiHost, clock, longPollMs: 2000 });
  const emailDomain = config.identity.emailDomain ?? SANDBOX_EMAIL_DOMAIN;
  for (const person of DEMO_PEOPLE) {
    slackSimulator.addUser({ id: `U${person.login.toUpperCase()}`, name: person.login, email: `${person.login}@${emailDomain}`, realName: person.name });
    duoSimulator.addUser(person.login, { devices: person.device });
  }
  const logDir = path.join(config.database.dataDir, 'sandbox');
  // Its state and demo log (every command typed on the page) are private, on Postgres as on PGlite.
  makePrivateDir(logDir, { recursive: true });
  // A restart continues where the last run stopped: the alerts in the database point at these DMs and pushes.
  const persistence = new SandboxPersistence(logDir, slackSimulator, duoSimulator, logger);
  persistence.load();
  // Every change to either simulator arrives as a request (the service's API calls, the page's
  // clicks): each one answered is followed by a save.
  const saving = {
    route(method: string, routePath: string, handler: RouteHandler): unknown {
      http.route(method, routePath, (req, res, url) => {
        res.once('finish', () => persistence.schedule());
        return handler(req, res, url);
      });
      return saving;
    },
  };
  saving.route('*', '/sandbox/slack/api/*', (req, res, url) => slackSimulator.handle(req, res, url.pathname.slice('/sandbox/slack/api'.length) + url.search));
  saving.route('*', '/sandbox/duo/*', (req, res, url) => duoSimulator.handle(req, res, url.pathname.slice('/sandbox/duo'.length) + url.search));
  http.route('*', '/sandbox/pagerduty/*', (req, res, url) => pagerDutySimulator.handle(req, res, url.pathname.slice('/sandbox/pagerduty'.length)));

  const logPath = path.join(logDir, 'audit.log');
  let serial = Math.floor(clock.now().getTime() / 1000) % 1_000_000;
  const runDemoCommand = (command: DemoCommand) => {
    serial += 1;
    appendFileSync(logPath, auditdRecords(command, clock.now(), serial, 4000 + (serial % 30000)), { mode: PRIVATE_FILE_MODE });
  };
  if (!existsSync(logPath)) {
    for (const command of DEMO_COMMANDS) runDemoCommand(command);
  }
  routeSandboxPages(saving, { slack: slackSimulator, duo: duoSimulator, store: options.store, runDemoCommand, securityChannel: SANDBOX_SECURITY_CHANNEL, clock });
  logger.info('sandbox: Slack and Duo are simulated; open the sandbox page to play the engineers', { url: `${baseUrl}/sandbox` });
  return {
    slack,
    duo,
    pagerduty,
    identity: { ...config.identity, emailDomain },
    demoSource: { name: 'sandbox-demo', type: 'auditd', path: logPath, token: null, host: 'sandbox' },
    slackSimulator,
    duoSimulator,
    pagerDutySimulator,
    runDemoCommand,
    stop: async () => {
      await duoSimulator.close();
      persistence.saveNow();
    },
  };
}
