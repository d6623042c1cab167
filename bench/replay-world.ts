/**
 * The whole service in process for the replay benchmark: startService on its own schema (or an
 * embedded PGlite), the Slack and Duo simulators on their own ports, a real audit log file and a
 * manual clock. Nothing runs on a timer: `settle()` reads the log and runs due jobs, digests and
 * health checks, the way the e2e harness drives the service.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config/load-config.js';
import { silentLogger } from '../src/logger.js';
import { createDuoSimulator, type DuoSimulator } from '../src/sandbox/duo-simulator.js';
import { auditdRecords, type DemoCommand } from '../src/sandbox/demo-log.js';
import { createSlackSimulator, type SimulatedMessage, type SlackSimulator } from '../src/sandbox/slack-simulator.js';
import { startService, type RunningService } from '../src/service.js';
import { openDatabase, type VouchDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';

export const SECURITY_CHANNEL = 'C0SECURITY';
const BOT_TOKEN = 'xoxb-bench-replay';
const SIGNING_SECRET = 'bench-replay-signing-secret-0123';
const DUO = { ikey: 'DIREPLAY000000000000', skey: 'bench-replay-duo-secret-key-0123456789', host: 'api-replay.duosecurity.com' };

export interface WorldPerson {
  login: string;
  slackId: string;
}

export interface ReplayWorldOptions {
  /** Postgres to make a schema in; null runs on an in-memory PGlite. */
  databaseUrl: string | null;
  /** People with a Slack account and a Duo phone; anyone else is unknown to both. */
  people: WorldPerson[];
  start: Date;
  /** More `workflow:` keys, e.g. `{ fleet_window: 30m }`; the defaults otherwise. */
  workflow?: string;
}

export interface ReplayWorld {
  clock: ManualClock;
  slack: SlackSimulator;
  duo: DuoSimulator;
  service: RunningService;
  /** Appends the audit records of `command` at `time`. */
  write(commands: Array<{ command: DemoCommand; time: Date }>): void;
  /** Reads the log, runs every due job, then the digest and health rounds. */
  settle(): Promise<void>;
  /** Question DMs and other bot messages in a person's DM, oldest first. */
  dm(person: WorldPerson): SimulatedMessage[];
  security(): SimulatedMessage[];
  stop(): Promise<void>;
}

export async function startReplayWorld(options: ReplayWorldOptions): Promise<ReplayWorld> {
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    return await assemble(options, closers, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function assemble(options: ReplayWorldOptions, closers: Array<() => Promise<void>>, stop: () => Promise<void>): Promise<ReplayWorld> {
  const clock = new ManualClock(options.start);
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-replay-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(options.databaseUrl, closers);
  const slack = createSlackSimulator({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, clock });
  for (const person of options.people) slack.addUser({ id: person.slackId, name: person.login, email: `${person.login}@example.com` });
  const slackServer = await slack.listen(0);
  closers.push(() => slackServer.close());
  // No long-poll: a held auth_status would hold settle() in real time; the job polls on the clock.
  const duo = createDuoSimulator({ integrationKey: DUO.ikey, secretKey: DUO.skey, apiHost: DUO.host, clock, longPollMs: 0 });
  for (const person of options.people) duo.addUser(person.login, { devices: 'push' });
  const duoServer = await duo.listen(0);
  closers.push(() => duo.close());
  const logPath = path.join(dir, 'audit.log');
  writeFileSync(logPath, '');
  const configFile = path.join(dir, 'vouch.yml');
  const workflow = options.workflow ? `workflow: ${options.workflow}` : '';
  writeFileSync(configFile, ['identity:', '  email_domain: example.com', 'sources:', `  - { name: audit, type: auditd, path: ${logPath} }`, workflow].join('\n'));
  const config = loadConfig({
    file: configFile,
    env: {
      VOUCH_PORT: '0',
      VOUCH_HOST: '127.0.0.1',
      VOUCH_DATA_DIR: path.join(dir, 'data'),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_SECURITY_CHANNEL: SECURITY_CHANNEL,
      SLACK_API_URL: slackServer.url,
      DUO_IKEY: DUO.ikey,
      DUO_SKEY: DUO.skey,
      DUO_API_HOST: DUO.host,
      DUO_API_URL: duoServer.url,
    },
  });
  const service = await startService({ config, store, clock, logger: silentLogger, autoRun: false });
  closers.push(() => service.stop());
  slack.setRequestUrl(`${service.url}/slack/events`);
  let serial = 1000;
  return {
    clock,
    slack,
    duo,
    service,
    write(commands) {
      const text = commands.map(({ command, time }) => {
        serial += 1;
        return auditdRecords(command, time, serial, 10_000 + (serial % 50_000));
      });
      if (text.length > 0) appendFileSync(logPath, text.join(''));
    },
    async settle() {
      for (const source of service.sources) await source.runOnce();
      await service.runner.idle();
      while ((await service.runner.runOnce()) > 0) await service.runner.idle();
      await service.digests.runOnce();
      await service.health.runOnce();
      while ((await service.runner.runOnce()) > 0) await service.runner.idle();
      await service.runner.idle();
    },
    dm: (person) => slack.messages(slack.dmChannelFor(person.slackId)).filter((m) => !m.ephemeralTo),
    security: () => slack.messages(SECURITY_CHANNEL),
    stop,
  };
}

/** A migrated store in a schema of its own (dropped at the end), or an in-memory PGlite. */
async function openStore(databaseUrl: string | null, closers: Array<() => Promise<void>>): Promise<VouchDatabase> {
  if (!databaseUrl) {
    const store = await openDatabase({ url: null, dataDir: null });
    closers.push(() => store.close());
    await migrateToLatest(store);
    return store;
  }
  const schema = `bench_replay_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  closers.push(async () => {
    await admin.query(`drop schema "${schema}" cascade`).catch(() => undefined);
    await admin.end();
  });
  const store = await openDatabase({ url: databaseUrl, dataDir: null, schema, poolSize: 5 });
  closers.push(() => store.close());
  await migrateToLatest(store);
  return store;
}
