import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import { waitFor } from './harness.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'vouch');
const databaseUrl = process.env.TEST_DATABASE_URL;
const built = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'));
const SCHEMA_LOCK = 0x7465_7374;

/**
 * A real `vouch start` process follows an audit log while it is written, rotated by rename, and
 * the process is killed with SIGKILL at arbitrary moments and started again. Every event must be
 * stored exactly once. (Postgres only: an embedded database killed mid-write is not this test's
 * subject.)
 */
describe.skipIf(!databaseUrl || !built)('crash and rotation recovery of a real process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-crash-'));
  const logPath = path.join(dir, 'audit.log');
  const schema = `crash_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  let child: ChildProcess | null = null;
  let serial = 1000;

  const env = {
    ...process.env,
    VOUCH_PORT: '0',
    VOUCH_DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    VOUCH_CONFIG: path.join(dir, 'vouch.yml'),
    // Ingestion without Slack and Duo: the sandbox, asked for explicitly.
    VOUCH_SANDBOX: '1',
    VOUCH_LOG_LEVEL: 'error',
  };

  function start(): ChildProcess {
    const proc = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => process.env.KEEP_CRASH_SCHEMA && process.stderr.write(chunk));
    return proc;
  }

  async function kill(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  /** Appends `count` distinct `cat /etc/shadow` executions (each a rule hit) to the live log. */
  function write(count: number): void {
    let text = '';
    for (let i = 0; i < count; i += 1) {
      serial += 1;
      text += auditdRecords({ login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow', `#${serial}`], cwd: '/root', host: 'db-1' }, new Date(), serial, 20_000 + serial);
    }
    appendFileSync(logPath, text);
  }

  async function storedEvents(): Promise<{ rows: number; distinct: number }> {
    const result = await admin.query(`select count(*)::int as rows, count(distinct event_key)::int as distinct from "${schema}".command_events where source = 'audit'`).catch(() => ({ rows: [{ rows: 0, distinct: 0 }] }));
    return result.rows[0] as { rows: number; distinct: number };
  }

  beforeAll(async () => {
    await admin.connect();
    // The same lock test-store.ts takes: kysely's migrator reads every schema's catalog.
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    await admin.query(`create schema "${schema}"`);
    await admin.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
    writeFileSync(env.VOUCH_CONFIG, `sources:\n  - { name: audit, type: auditd, path: ${logPath} }\n`);
    writeFileSync(logPath, '');
  });

  afterAll(async () => {
    if (child) await kill(child);
    if (!process.env.KEEP_CRASH_SCHEMA) {
      await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
    }
    await admin.end();
  });

  it('stores every event exactly once across SIGKILLs and a rotation', async () => {
    let written = 0;
    for (let round = 0; round < 4; round += 1) {
      const before = (await storedEvents()).rows;
      child = start();
      write(25);
      written += 25;
      // Kill only once this process is demonstrably ingesting, so each kill lands mid-work.
      await waitFor(async () => (await storedEvents()).rows > before, `round ${round} to make progress`, 60_000);
      for (let burst = 0; burst < 4; burst += 1) {
        write(40);
        written += 40;
        if (round === 1 && burst === 2) {
          // Rotation by rename while the process runs: the old file must be read to its end.
          renameSync(logPath, `${logPath}.1`);
          writeFileSync(logPath, '');
        }
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 150)));
      }
      await kill(child);
    }
    child = start();
    const final = await waitFor(async () => {
      const stored = await storedEvents();
      return stored.rows >= written ? stored : null;
    }, `${written} events to be stored`, 90_000);
    expect(final).toEqual({ rows: written, distinct: written });
    // Nothing more arrives later (no duplicates from a late re-read).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await storedEvents()).toEqual({ rows: written, distinct: written });
  }, 240_000);
});
