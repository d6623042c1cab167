/**
 * The conversation engine under load, through real `vouch start` processes on Postgres against
 * the Slack and Duo simulators:
 *
 * - alert to DM while one Duo long-poll is pending: a held `auth_status` request must not delay
 *   anyone else's question (each job has its own slot);
 * - DMs per second for a burst across two replicas, with the duplicates counted: one alert-worthy
 *   command for each of many people at once (one person's burst is one conversation, one DM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { auditdRecords } from '../src/sandbox/demo-log.js';
import { createDuoSimulator, type DuoSimulator } from '../src/sandbox/duo-simulator.js';
import { createSlackSimulator, type SlackSimulator } from '../src/sandbox/slack-simulator.js';

export interface ConversationBenchOptions {
  databaseUrl: string;
  vouchBin: string;
  outDir: string;
  /** Alerts timed one by one while a long-poll is held. */
  latencySamples: number;
  /** People and commands per person in the burst. */
  burstPeople: number;
  burstPerPerson: number;
  log: (message: string) => void;
}

export interface ConversationBenchResult {
  dmWhileLongPoll: { samples: number; medianMs: number; p95Ms: number; maxMs: number; longPollHeld: boolean };
  burst: { replicas: number; alerts: number; dms: number; duplicates: number; seconds: number; dmsPerSecond: number };
}

const BOT_TOKEN = 'xoxb-bench-conversations';
const SIGNING_SECRET = 'bench-conversations-signing-secret';
const DUO = { ikey: 'DIBENCH0000000000000', skey: 'bench-duo-secret-key-0123456789abcdef0', host: 'api-bench.duosecurity.com' };
const SECURITY = 'C0SECURITY';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs: number, pollMs = 5): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

interface Replica {
  name: string;
  port: number;
  proc: ChildProcess | null;
}

/** Both measurements, each on its own schema and simulators. */
export async function runConversationBenchmark(options: ConversationBenchOptions): Promise<ConversationBenchResult> {
  const dmWhileLongPoll = await withWorld(options, 'latency', 1, options.latencySamples + 1, async (world) => {
    const [first, ...others] = world.people;
    // Alice's push is answered by nobody: its auth_status long-poll stays held.
    world.write(first!, 0);
    const question = await until(() => world.questions(first!)[0], 'the first DM', 60_000);
    await world.slack.clickButton({ userId: first!.slackId, channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' });
    const view = await until(() => world.slack.openViews(first!.slackId).find((v) => v.open), 'the form', 30_000);
    await world.slack.submitView({ userId: first!.slackId, viewId: view.id, values: { reason: 'Benchmarking the conversation engine' } });
    const longPollHeld = Boolean(await until(() => world.duo.heldRequests() > 0, 'the held long-poll', 30_000).catch(() => false));
    const samples: number[] = [];
    for (const person of others) {
      const started = performance.now();
      world.write(person, 0);
      await until(() => world.questions(person).length > 0, `the DM of ${person.login}`, 60_000, 2);
      samples.push(performance.now() - started);
      await sleep(200);
    }
    return { samples: samples.length, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95), maxMs: Math.max(...samples), longPollHeld };
  });
  options.log(`alert to DM while a Duo long-poll is held: median ${dmWhileLongPoll.medianMs.toFixed(0)} ms, p95 ${dmWhileLongPoll.p95Ms.toFixed(0)} ms`);

  const burst = await withWorld(options, 'burst', 2, options.burstPeople, async (world) => {
    const alerts = options.burstPeople * options.burstPerPerson;
    // Every person's hits are one conversation, so the burst asks one question per person.
    const expected = options.burstPeople;
    const started = performance.now();
    for (let n = 0; n < options.burstPerPerson; n += 1) for (const person of world.people) world.write(person, n);
    await until(() => world.allQuestions().length >= expected, `${expected} DMs`, 300_000, 20);
    const seconds = (performance.now() - started) / 1000;
    // Anything late shows up as a duplicate.
    await sleep(2000);
    const questions = world.allQuestions();
    const perAlert = new Map<string, number>();
    for (const message of questions) {
      const id = String(message.metadata?.event_payload.alert_id);
      perAlert.set(id, (perAlert.get(id) ?? 0) + 1);
    }
    const duplicates = [...perAlert.values()].reduce((sum, count) => sum + count - 1, 0);
    return { replicas: 2, alerts, dms: questions.length, duplicates, seconds, dmsPerSecond: questions.length / seconds };
  });
  options.log(`burst across two replicas: ${burst.dms} DMs in ${burst.seconds.toFixed(1)} s (${burst.dmsPerSecond.toFixed(0)} DMs/s), ${burst.duplicates} duplicates`);
  return { dmWhileLongPoll, burst };
}

interface World {
  slack: SlackSimulator;
  duo: DuoSimulator;
  people: Array<{ login: string; uid: number; slackId: string }>;
  write(person: { login: string; uid: number }, n: number): void;
  questions(person: { slackId: string }): Array<{ channel: string; ts: string; metadata?: { event_payload: Record<string, unknown> } | null }>;
  allQuestions(): Array<{ metadata?: { event_payload: Record<string, unknown> } | null }>;
}

async function withWorld<T>(options: ConversationBenchOptions, name: string, replicaCount: number, peopleCount: number, use: (world: World) => Promise<T>): Promise<T> {
  const schema = `bench_conv_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  const slack = createSlackSimulator({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  const people = Array.from({ length: peopleCount }, (_, i) => ({ login: `eng${i}`, uid: 2000 + i, slackId: `UENG${i}` }));
  for (const person of people) slack.addUser({ id: person.slackId, name: person.login, email: `${person.login}@example.com` });
  const slackServer = await slack.listen(0);
  // A long-poll that Duo holds until the person answers (nobody does here).
  const duo = createDuoSimulator({ integrationKey: DUO.ikey, secretKey: DUO.skey, apiHost: DUO.host, longPollMs: 60_000, pushExpiryMs: 120_000 });
  for (const person of people) duo.addUser(person.login, { devices: 'push' });
  const duoServer = await duo.listen(0);
  const logPath = path.join(options.outDir, `conversations-${name}.log`);
  writeFileSync(logPath, '');
  const replicas: Replica[] = [];
  for (let i = 0; i < replicaCount; i += 1) replicas.push({ name: String.fromCharCode(97 + i), port: await freePort(), proc: null });
  let serial = 50_000;
  try {
    for (const replica of replicas) {
      const config = path.join(options.outDir, `conversations-${name}-${replica.name}.yml`);
      const sources = replica.name === 'a' ? ['sources:', `  - { name: audit, type: auditd, path: ${logPath} }`] : [];
      writeFileSync(config, ['identity:', '  email_domain: example.com', ...sources, 'workflow: { push_timeout: 120s, poll_interval: 1s }'].join('\n'));
      const proc = spawn(process.execPath, [options.vouchBin, 'start'], {
        env: {
          ...process.env,
          VOUCH_PORT: String(replica.port),
          VOUCH_HOST: '127.0.0.1',
          VOUCH_CONFIG: config,
          VOUCH_DATA_DIR: path.join(options.outDir, `data-${name}-${replica.name}`),
          DATABASE_URL: `${options.databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_SECURITY_CHANNEL: SECURITY,
          SLACK_API_URL: slackServer.url,
          DUO_IKEY: DUO.ikey,
          DUO_SKEY: DUO.skey,
          DUO_API_HOST: DUO.host,
          DUO_API_URL: duoServer.url,
          VOUCH_LOG_LEVEL: 'error',
          VOUCH_SANDBOX: '',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      replica.proc = proc;
    }
    slack.setRequestUrl(`http://127.0.0.1:${replicas[0]!.port}/slack/events`);
    await until(async () => (await fetch(`http://127.0.0.1:${replicas[0]!.port}/healthz`).catch(() => null))?.ok, 'the service to start', 60_000, 50);
    const isQuestion = (m: { metadata?: { event_type: string } | null }) => m.metadata?.event_type === 'vouch_question';
    const world: World = {
      slack,
      duo,
      people,
      write(person, n) {
        serial += 1;
        const argv = ['cat', '/etc/shadow', `#${n}`];
        appendFileSync(logPath, auditdRecords({ login: person.login, uid: person.uid, runAs: 'root', runAsUid: 0, argv, cwd: '/root', host: 'bench-1' }, new Date(), serial, 40_000 + serial));
      },
      questions: (person) => slack.messages(slack.dmChannelFor(person.slackId)).filter(isQuestion),
      allQuestions: () => slack.messages().filter(isQuestion),
    };
    return await use(world);
  } finally {
    for (const replica of replicas) {
      const proc = replica.proc;
      if (proc && proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await exited;
      }
    }
    await duo.close();
    await slackServer.close();
    await admin.query(`drop schema "${schema}" cascade`).catch(() => undefined);
    await admin.end();
  }
}
