import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import { createDuoSimulator, type DuoSimulatedPush, type DuoSimulator } from '../../src/sandbox/duo-simulator.js';
import { createSlackSimulator, type SlackSimulator } from '../../src/sandbox/slack-simulator.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const databaseUrl = process.env.TEST_DATABASE_URL;
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));
const SCHEMA_LOCK = 0x7465_7374;
const BOT_TOKEN = 'xoxb-replicas-bot-token';
const SIGNING_SECRET = 'replicas-signing-secret-0123456789';
const DUO = { ikey: 'DIREPLICAS0000000000', skey: 'replicas-duo-secret-key-0123456789abcd', host: 'api-replicas.duosecurity.com' };
const PEOPLE = Array.from({ length: 8 }, (_, i) => ({ login: `eng${i}`, uid: 1000 + i, slackId: `UENG${i}` }));
/** Each wave gives every person one new conversation (a new session, once the last one was verified). */
const WAVES = 3;
const SECURITY = 'C0SECURITY';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two real `vouch start` replicas on one Postgres database answer a burst of alerts while either
 * is killed with SIGKILL at random moments and started again. People answer every DM and approve
 * every push. At the end every alert is verified, every DM was posted once, and no alert ever had
 * two live pushes (a second push is only ever sent after a crash inside the /auth round trip, once
 * the first has expired, and the trail says so).
 */
describe.skipIf(!databaseUrl || !built)('two replicas killed at random moments', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-replicas-'));
  const logPath = path.join(dir, 'audit.log');
  const schema = `replicas_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  let slack: SlackSimulator;
  let duo: DuoSimulator;
  const closers: Array<() => Promise<void>> = [];
  const replicas: Array<{ name: string; port: number; config: string; proc: ChildProcess | null; dataDir: string }> = [];
  let slackUrl = '';
  let duoUrl = '';

  function envFor(replica: (typeof replicas)[number]): NodeJS.ProcessEnv {
    return {
      ...process.env,
      VOUCH_PORT: String(replica.port),
      VOUCH_HOST: '127.0.0.1',
      VOUCH_DATA_DIR: replica.dataDir,
      VOUCH_CONFIG: replica.config,
      DATABASE_URL: `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_SECURITY_CHANNEL: SECURITY,
      SLACK_API_URL: slackUrl,
      DUO_IKEY: DUO.ikey,
      DUO_SKEY: DUO.skey,
      DUO_API_HOST: DUO.host,
      DUO_API_URL: duoUrl,
      VOUCH_LOG_LEVEL: process.env.KEEP_REPLICA_LOGS ? 'info' : 'error',
      VOUCH_SANDBOX: '',
    };
  }

  function start(replica: (typeof replicas)[number]): void {
    const proc = spawn(process.execPath, [bin, 'start'], { env: envFor(replica), stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => process.env.KEEP_REPLICA_LOGS && process.stderr.write(`[${replica.name}] ${chunk.toString()}`));
    replica.proc = proc;
  }

  async function kill(replica: (typeof replicas)[number]): Promise<void> {
    const proc = replica.proc;
    replica.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async function query<T>(text: string): Promise<T[]> {
    return (await admin.query(text.replaceAll('$schema', `"${schema}"`))).rows as T[];
  }

  beforeAll(async () => {
    await admin.connect();
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    await admin.query(`create schema "${schema}"`);
    await admin.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
    slack = createSlackSimulator({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
    for (const person of PEOPLE) slack.addUser({ id: person.slackId, name: person.login, email: `${person.login}@example.com` });
    const slackServer = await slack.listen(0);
    closers.push(() => slackServer.close());
    slackUrl = slackServer.url;
    duo = createDuoSimulator({ integrationKey: DUO.ikey, secretKey: DUO.skey, apiHost: DUO.host, longPollMs: 1000 });
    for (const person of PEOPLE) duo.addUser(person.login, { devices: 'push' });
    const duoServer = await duo.listen(0);
    closers.push(() => duo.close());
    duoUrl = duoServer.url;
    writeFileSync(logPath, '');
    for (const name of ['a', 'b']) {
      const config = path.join(dir, `vouch-${name}.yml`);
      // Only replica a reads the log (a source's checkpoint is shared); both run jobs and answer Slack.
      const sources = name === 'a' ? [`sources:`, `  - { name: audit, type: auditd, path: ${logPath} }`] : [];
      writeFileSync(
        config,
        ['identity:', '  email_domain: example.com', ...sources, 'workflow: { remind_after: 30m, escalate_after: 2h, push_timeout: 20s, poll_interval: 200ms }', 'jobs: { lease: 5s }', 'duo: { max_pushes_per_person: 50, request_timeout: 3s }'].join('\n'),
      );
      replicas.push({ name, port: await freePort(), config, proc: null, dataDir: path.join(dir, `data-${name}`) });
    }
  });

  afterAll(async () => {
    for (const replica of replicas) await kill(replica);
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (!process.env.KEEP_REPLICA_SCHEMA) {
      await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
    }
    await admin.end();
  });

  it('0 duplicate DMs, no alert with two live pushes, 0 approved pushes lost', async () => {
    const COMMANDS = PEOPLE.length * WAVES;
    let wavesWritten = 0;
    let chaos = true;
    let kills = 0;
    // Each wave is answered through at least two kills, so a quick run still tests crashes.
    let killsAtLastWave = 0;
    const chaosSinceLastWave = () => kills - killsAtLastWave >= 2 || !chaos;
    const writeWave = () => {
      killsAtLastWave = kills;
      let text = '';
      PEOPLE.forEach((person, i) => {
        const n = wavesWritten * PEOPLE.length + i;
        text += auditdRecords(
          { login: person.login, uid: person.uid, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${n}`], cwd: '/root', host: `web-${n % 5}`, session: 100 + n },
          new Date(),
          9000 + n,
          30_000 + n,
        );
      });
      appendFileSync(logPath, text);
      wavesWritten += 1;
    };
    for (const replica of replicas) start(replica);
    writeWave();

    // People approve each push after a moment, as a person reaching for their phone would.
    const answered = new Set<string>();
    duo.on('push', (push: DuoSimulatedPush) => {
      setTimeout(() => {
        if (push.outcome === null) {
          answered.add(push.txid);
          duo.respond(push.txid, 'allow');
        }
      }, 100 + Math.floor(Math.random() * 700));
    });

    // The chaos: every 0.4-1.5 s one replica is killed and started again shortly after.
    const chaosLoop = (async () => {
      while (chaos) {
        await sleep(400 + Math.floor(Math.random() * 1100));
        if (!chaos) break;
        const victim = replicas[Math.floor(Math.random() * replicas.length)]!;
        await kill(victim);
        kills += 1;
        await sleep(100 + Math.floor(Math.random() * 400));
        // Started again even when the chaos ended meanwhile: only replica a reads the log, and
        // left down it would hold back every later wave until the deadline.
        start(victim);
      }
    })();

    // Each person answers each question: confirm, then the reason in the form Vouch opens.
    const alive = () => replicas.filter((replica) => replica.proc !== null);
    const answeredViews = new Set<string>();
    const confirmedAt = new Map<string, number>();
    const deadline = Date.now() + 200_000;
    while (Date.now() < deadline) {
      const target = alive()[0];
      if (target) slack.setRequestUrl(`http://127.0.0.1:${target.port}/slack/events`);
      for (const person of PEOPLE) {
        for (const view of slack.openViews(person.slackId)) {
          if (!view.open || answeredViews.has(view.id)) continue;
          const response = await slack.submitView({ userId: person.slackId, viewId: view.id, values: { reason: 'Checking password ages for the audit' } }).catch(() => null);
          if (response && response.status === 200) answeredViews.add(view.id);
        }
        const channel = slack.dmChannelFor(person.slackId);
        for (const message of slack.messages(channel)) {
          const alertId = message.metadata?.event_payload.alert_id;
          if (message.metadata?.event_type !== 'vouch_question' || typeof alertId !== 'string') continue;
          const last = confirmedAt.get(alertId) ?? 0;
          if (Date.now() - last < 3000) continue;
          const [row] = await query<{ status: string }>(`select status from $schema.alerts where id = '${alertId}'`);
          if (row?.status !== 'asked') continue;
          confirmedAt.set(alertId, Date.now());
          await slack.clickButton({ userId: person.slackId, channel, ts: message.ts, actionId: 'vouch.confirm' }).catch(() => null);
        }
      }
      const counts = await query<{ verified: number; total: number }>(`select count(*) filter (where status = 'verified')::int as verified, count(*)::int as total from $schema.alerts`).catch(() => []);
      if ((counts[0]?.total ?? 0) === COMMANDS && counts[0]?.verified === COMMANDS && chaosSinceLastWave()) break;
      // The next wave once this one is answered: new sessions, so new conversations.
      if (wavesWritten < WAVES && counts[0]?.total === wavesWritten * PEOPLE.length && counts[0]?.verified === counts[0]?.total && chaosSinceLastWave()) writeWave();
      // Stop the chaos for the last stretch, so the run can finish.
      if (Date.now() > deadline - 60_000) chaos = false;
      await sleep(100);
    }
    chaos = false;
    await chaosLoop;
    for (const replica of replicas) if (!replica.proc) start(replica);

    const alerts = await query<{ id: string; status: string; escalation_reason: string | null }>(`select id, status, escalation_reason from $schema.alerts`);
    expect(kills).toBeGreaterThan(5);
    expect(alerts).toHaveLength(COMMANDS);
    // 0 approved pushes lost: every alert whose push was approved is verified, none escalated.
    expect(alerts.filter((alert) => alert.status !== 'verified')).toEqual([]);

    // 0 duplicate DMs: one question per alert in the DMs.
    const questions = PEOPLE.flatMap((person) => slack.messages(slack.dmChannelFor(person.slackId))).filter((m) => m.metadata?.event_type === 'vouch_question');
    const perAlert = new Map<string, number>();
    for (const message of questions) {
      const id = String(message.metadata?.event_payload.alert_id);
      perAlert.set(id, (perAlert.get(id) ?? 0) + 1);
    }
    expect([...perAlert.values()].filter((count) => count > 1)).toEqual([]);
    expect(perAlert.size).toBe(COMMANDS);

    // Pushes: never two live at once for one alert; a second one only after an unknown /auth outcome.
    const pushes = duo.pushes();
    const byAlert = new Map<string, DuoSimulatedPush[]>();
    for (const push of pushes) byAlert.set(push.pushinfo.alert ?? '?', [...(byAlert.get(push.pushinfo.alert ?? '?') ?? []), push]);
    const unknownOutcomes = await query<{ alert_id: string }>(`select distinct alert_id from $schema.audit_trail where action = 'push_outcome_unknown'`);
    for (const [alertId, list] of byAlert) {
      if (list.length === 1) continue;
      expect(unknownOutcomes.map((row) => row.alert_id)).toContain(alertId);
      const sorted = [...list].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime());
      for (let i = 1; i < sorted.length; i += 1) {
        expect(sorted[i]!.createdAt.getTime() - sorted[i - 1]!.createdAt.getTime()).toBeGreaterThanOrEqual(20_000);
      }
    }
    const duplicatePushes = [...byAlert.values()].filter((list) => list.length > 1).length;
    console.info(`replicas: ${kills} SIGKILLs, ${COMMANDS} alerts verified, ${questions.length} DMs, ${pushes.length} pushes (${duplicatePushes} re-sent after an unknown outcome)`);
  }, 240_000);
});
