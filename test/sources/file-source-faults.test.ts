import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { silentLogger } from '../../src/logger.js';
import { FileSource } from '../../src/sources/file-source.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { loadCheckpoints } from '../../src/store/queries/sources.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { NumberedLog } from './file-source-support.js';

const databaseUrl = process.env.TEST_DATABASE_URL;

/**
 * Real Postgres, real Ingestor: the source's own transactions are cancelled and its own
 * connections terminated while it reads a backlog, then the database is let go. Only backends
 * waiting for the lock this test holds on its own schema's table are touched.
 */
describe.skipIf(!databaseUrl)('FileSource on Postgres whose commits fail', () => {
  let dir: string;
  let store: TestStore;
  let admin: pg.Client;
  let source: FileSource | null = null;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-faults-'));
    store = await createTestStore('postgres');
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
  });

  afterEach(async () => {
    await source?.stop();
    source = null;
    await admin.end();
    await store.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  /** Polls `check` every few milliseconds until it holds; fails after ten seconds. */
  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function stored(): Promise<{ rows: number; distinct: number }> {
    const result = await admin.query(`select count(*)::int as rows, count(distinct event_key)::int as distinct from "${store.schema}".command_events`);
    return result.rows[0] as { rows: number; distinct: number };
  }

  /**
   * Holds an exclusive lock on the checkpoint table (every ingest transaction writes it last) and
   * ends each transaction that waits for it, by cancel or by killing its connection, for `ms`.
   */
  async function failCommitsFor(ms: number, how: 'pg_cancel_backend' | 'pg_terminate_backend'): Promise<number> {
    const table = `"${store.schema}".source_checkpoints`;
    await admin.query('begin');
    await admin.query(`lock table ${table} in access exclusive mode`);
    let ended = 0;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const result = await admin.query(
        `select ${how}(pid) as done from pg_locks where relation = $1::regclass and not granted and pid <> pg_backend_pid()`,
        [table],
      );
      ended += result.rows.filter((row: { done: boolean }) => row.done).length;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await admin.query('commit');
    return ended;
  }

  it.each(['pg_cancel_backend', 'pg_terminate_backend'] as const)(
    'stores a whole backlog exactly once after its commits fail mid-way (%s)',
    async (how) => {
      const log = new NumberedLog(path.join(dir, 'audit.log'));
      await writeFile(log.file, '');
      await log.append(200);
      const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock: systemClock });
      source = new FileSource({
        source: { name: 'audit', type: 'auditd', path: log.file, token: null, host: null },
        ingestor,
        db: store.db,
        clock: systemClock,
        logger: silentLogger,
        tail: { maxBatchBytes: 8 * 1024 },
        retry: { initialMs: 20, maxMs: 200 },
      });
      source.start(60_000);
      await until(async () => (await stored()).rows > 0, 'the backlog to be under way');
      const ended = await failCommitsFor(600, how);
      expect(ended).toBeGreaterThan(0);
      await until(async () => (await stored()).rows >= 200, 'every event to be stored');
      expect(await stored()).toEqual({ rows: 200, distinct: 200 });
      await until(async () => (await loadCheckpoints(store.db, 'audit'))[0]?.offset === log.size, 'the checkpoint to reach the end');
    },
    60_000,
  );
});
