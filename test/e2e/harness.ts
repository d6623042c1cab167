import { afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.js';
import type { VouchConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createDuoSimulator, type DuoSimulator } from '../../src/sandbox/duo-simulator.js';
import { auditdRecords, type DemoCommand } from '../../src/sandbox/demo-log.js';
import { createSlackSimulator, type SlackSimulator, type SimulatedMessage } from '../../src/sandbox/slack-simulator.js';
import { startService, type RunningService } from '../../src/service.js';
import { findAlert } from '../../src/store/queries/alerts.js';
import type { AlertRow } from '../../src/store/schema.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

export const SECURITY_CHANNEL = 'C0SECURITY';
const BOT_TOKEN = 'xoxb-e2e-bot-token';
const SIGNING_SECRET = 'e2e-signing-secret-0123456789';
const DUO = { ikey: 'DIE2E0000000000000000', skey: 'e2e-duo-secret-key-0123456789abcdef', host: 'api-e2e.duosecurity.com' };

export interface Person {
  login: string;
  uid: number;
  slackId: string;
}

export const ALICE: Person = { login: 'alice', uid: 1000, slackId: 'UALICE' };
export const BOB: Person = { login: 'bob', uid: 1001, slackId: 'UBOB' };
export const EVE: Person = { login: 'eve', uid: 1002, slackId: 'UEVE' };

export interface HarnessOptions {
  duoLongPollMs?: number;
  logger?: Logger;
  /** Replaces the `workflow:` line of the config file (one YAML line). */
  workflowYaml?: string;
  /** More lines under `identity:` (indented two spaces), e.g. `  users: { alice: { manager: bob } }`. */
  identityYaml?: string[];
  /** More top-level YAML lines for the config file (e.g. a `pagerduty:` section). */
  extraYaml?: string[];
  /** Slack time zones by login (default UTC). */
  timeZones?: Record<string, string>;
  /** More environment for loadConfig. */
  env?: Record<string, string>;
  /** More source entries (YAML flow mappings) beside the audit log. */
  sources?: string[];
  /** More top-level configuration lines (e.g. a `health:` section). */
  config?: string[];
  /** Puts something between the service and the Duo simulator (a hostile Duo): it gets the simulator's URL and returns the URL the service is configured with. */
  duoFront?: (url: string) => Promise<string>;
}

/**
 * The whole service, started in-process over real HTTP, with the Slack and Duo simulators on their
 * own ports, a real database (Postgres in CI), a real audit log file, and a manual clock. Timers
 * are driven by the test (sources and jobs run when `settle()` says), so nothing sleeps.
 */
export class Harness {
  readonly clock = new ManualClock(new Date('2026-11-24T09:00:00.000Z'));
  slack!: SlackSimulator;
  duo!: DuoSimulator;
  service!: RunningService;
  store!: TestStore;
  config!: VouchConfig;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'vouch-e2e-'));
  readonly logPath = path.join(this.dir, 'audit.log');
  private closers: Array<() => Promise<void>> = [];
  private serial = 100;

  /** Where the service logs; silent unless a test wants to read the log. */
  logger: Logger = silentLogger;

  async start(options: HarnessOptions = {}): Promise<this> {
    if (options.logger) this.logger = options.logger;
    this.store = await createTestStore();
    this.slack = createSlackSimulator({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, clock: this.clock });
    for (const person of [ALICE, BOB, EVE]) {
      this.slack.addUser({ id: person.slackId, name: person.login, email: `${person.login}@example.com`, tz: options.timeZones?.[person.login] });
    }
    const slackServer = await this.slack.listen(0);
    this.closers.push(() => slackServer.close());
    this.duo = createDuoSimulator({ integrationKey: DUO.ikey, secretKey: DUO.skey, apiHost: DUO.host, clock: this.clock, longPollMs: options.duoLongPollMs ?? 2000 });
    for (const person of [ALICE, BOB, EVE]) this.duo.addUser(person.login, { devices: 'push' });
    const duoServer = await this.duo.listen(0);
    this.closers.push(() => this.duo.close());
    writeFileSync(this.logPath, '');
    const configFile = path.join(this.dir, 'vouch.yml');
    writeFileSync(
      configFile,
      [
        'identity:',
        '  email_domain: example.com',
        ...(options.identityYaml ?? []),
        'sources:',
        `  - { name: audit, type: auditd, path: ${this.logPath} }`,
        ...(options.sources ?? []).map((source) => `  - ${source}`),
        options.workflowYaml ?? 'workflow: { remind_after: 30m, escalate_after: 2h, push_timeout: 90s }',
        ...(options.config ?? []),
        ...(options.extraYaml ?? []),
      ].join('\n'),
    );
    this.config = loadConfig({
      file: configFile,
      env: {
        VOUCH_PORT: '0',
        VOUCH_HOST: '127.0.0.1',
        VOUCH_DATA_DIR: path.join(this.dir, 'data'),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_SECURITY_CHANNEL: SECURITY_CHANNEL,
        SLACK_API_URL: slackServer.url,
        DUO_IKEY: DUO.ikey,
        DUO_SKEY: DUO.skey,
        DUO_API_HOST: DUO.host,
        DUO_API_URL: options.duoFront ? await options.duoFront(duoServer.url) : duoServer.url,
        ...options.env,
      },
    });
    await this.startService();
    return this;
  }

  /** Starts (or restarts) the service on the same database and log. */
  async startService(): Promise<void> {
    const store = await this.store.reopen();
    this.service = await startService({ config: this.config, store, clock: this.clock, logger: this.logger, autoRun: false });
    this.slack.setRequestUrl(`${this.service.url}/slack/events`);
    const service = this.service;
    this.closers.push(async () => {
      await service.stop();
      await store.close();
    });
  }

  /** Simulates a crash-free restart: stops the service and starts a new one on the same state. */
  async restart(): Promise<void> {
    await this.service.stop();
    await this.startService();
  }

  /** Appends an execve of `argv` by `person` (via sudo, as root) to the audit log. */
  runCommand(person: Person, argv: string[], options: Partial<DemoCommand> = {}): void {
    this.serial += 1;
    const command: DemoCommand = { login: person.login, uid: person.uid, runAs: 'root', runAsUid: 0, argv, cwd: '/home/' + person.login, host: 'db-1', ...options };
    appendFileSync(this.logPath, auditdRecords(command, this.clock.now(), this.serial, 5000 + this.serial));
  }

  /** Reads the sources and runs every due job until nothing is left to do. */
  async settle(): Promise<void> {
    for (const source of this.service.sources) await source.runOnce();
    await this.service.runner.idle();
    while ((await this.service.runner.runOnce()) > 0) await this.service.runner.idle();
    await this.service.runner.idle();
  }

  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  async alerts(): Promise<AlertRow[]> {
    return this.service.store.db.selectFrom('alerts').selectAll().orderBy('created_at').execute();
  }

  async alert(id: string): Promise<AlertRow> {
    const row = await findAlert(this.service.store.db, id);
    if (!row) throw new Error(`no alert ${id}`);
    return row;
  }

  /** The bot's messages in a person's DM, oldest first. */
  dm(person: Person): SimulatedMessage[] {
    return this.slack.messages(this.slack.dmChannelFor(person.slackId)).filter((m) => !m.ephemeralTo);
  }

  security(): SimulatedMessage[] {
    return this.slack.messages(SECURITY_CHANNEL);
  }

  /** Clicks a button on the question DM of `alert`, as `clicker`. */
  click(clicker: Person, alert: AlertRow, actionId: 'vouch.confirm' | 'vouch.deny') {
    return this.slack.clickButton({ userId: clicker.slackId, channel: alert.dm_channel as string, ts: alert.dm_ts as string, actionId });
  }

  /** Submits the open justification form of `person`. */
  async justify(person: Person, reason: string) {
    const view = this.slack.openViews(person.slackId).find((v) => v.open);
    if (!view) throw new Error(`${person.login} has no open form`);
    return this.slack.submitView({ userId: person.slackId, viewId: view.id, values: { reason } });
  }

  async stop(): Promise<void> {
    const closers = this.closers.reverse();
    this.closers = [];
    for (const close of closers) await close().catch(() => undefined);
    await this.store.destroy();
  }
}

/** Every text a message shows (top-level fallback and all block text), for assertions. */
export function messageText(message: SimulatedMessage): string {
  return `${message.text}\n${JSON.stringify(message.blocks)}`;
}

/** Waits for `check` to return a truthy value, polling briefly; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A harness started by a test and stopped after it, with what else the test opened. */
export interface HarnessPerTest {
  start(options?: HarnessOptions): Promise<Harness>;
  /** Runs `close` after the test, once its harness has stopped (a double's listener, say). */
  closeAfter(close: () => Promise<void>): void;
}

/** Registers (in the calling describe block) the afterEach that stops each test's harness. */
export function harnessPerTest(): HarnessPerTest {
  let current: Harness | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await current?.stop();
    current = undefined;
    for (const close of closers.splice(0)) await close();
  });
  return {
    async start(options = {}) {
      current = await new Harness().start(options);
      return current;
    },
    closeAfter(close) {
      closers.push(close);
    },
  };
}
