import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { openDatabase, type DatabaseOptions, type VouchDatabase } from '../../src/store/database.js';
import { classifyDatabaseError } from '../../src/store/database-errors.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { makeEvent } from '../detect/make-event.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const url = process.env.TEST_DATABASE_URL as string;
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const policy = loadConfig({ env: {} }).workflow;

const shadow = (n: number): CommandEvent =>
  makeEvent(['cat', '/etc/shadow'], { time: clock.now(), host: `web-${n}`, cwd: null, pid: n, ppid: 1, sourceFormat: 'json', eventKey: `fault-${n}` });

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Faults on real Postgres, each confined to this test's own schema, connections and backends. */
describe.skipIf(!url)('database faults during ingestion (Postgres)', () => {
  let store: TestStore;
  let faulty: VouchDatabase;
  let holder: pg.Client;
  let monitor: pg.Client;
  let application: string;
  let holding = false;

  const open = async (options: Partial<DatabaseOptions> = {}) => {
    faulty = await openDatabase({ url, dataDir: null, schema: store.schema, poolSize: 2, applicationName: application, ...options });
    return faulty;
  };

  /** Holds an exclusive lock on this test's command_events, so the ingesting statement waits. */
  const holdLock = async () => {
    await holder.query('begin');
    await holder.query(`lock table "${store.schema}".command_events in access exclusive mode`);
    holding = true;
  };
  const releaseLock = async () => {
    if (!holding) return;
    holding = false;
    await holder.query('commit');
  };
  /** The pid of this test's ingesting backend once it waits for the lock. */
  const waitingBackend = () =>
    waitFor(async () => {
      const { rows } = await monitor.query<{ pid: number }>(
        "select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'",
        [application],
      );
      return rows[0]?.pid;
    }, 'the ingesting backend to wait for the lock');
  const ingestor = (db: VouchDatabase, sleeps: number[]) =>
    new Ingestor({
      db: db.db,
      rules: loadDefaultRules(),
      policy,
      clock,
      random: () => 0,
      // The retry's wait is where the fault ends: the lock is let go.
      sleep: async (ms) => {
        sleeps.push(ms);
        await releaseLock();
      },
    });
  const count = async (table: 'command_events' | 'alerts') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  beforeEach(async () => {
    store = await createTestStore('postgres');
    application = `vouch-fault-${store.schema}`;
    holder = new pg.Client({ connectionString: url, application_name: `${application}-holder` });
    monitor = new pg.Client({ connectionString: url, application_name: `${application}-monitor` });
    await holder.connect();
    await monitor.connect();
  });

  afterEach(async () => {
    await releaseLock().catch(() => undefined);
    await holder.end();
    await monitor.end();
    await faulty?.close();
    await store.destroy();
  });

  it('survives its backend being terminated mid-transaction, and stores every event once', async () => {
    const db = await open();
    const sleeps: number[] = [];
    await holdLock();
    const ingesting = ingestor(db, sleeps).ingest('fault', { events: [shadow(1), shadow(2)], malformed: [] });
    const pid = await waitingBackend();
    await monitor.query('select pg_terminate_backend($1)', [pid]);
    const stats = await ingesting;
    // Two alerts in one conversation (one question).
    expect(stats.alertsCreated + stats.alertsFolded).toBe(2);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(await count('command_events')).toBe(2);
    expect(await count('alerts')).toBe(2);
  });

  it('retries a statement cancelled by pg_cancel_backend', async () => {
    const db = await open();
    const sleeps: number[] = [];
    await holdLock();
    const ingesting = ingestor(db, sleeps).ingest('fault', { events: [shadow(1)], malformed: [] });
    const pid = await waitingBackend();
    await monitor.query('select pg_cancel_backend($1)', [pid]);
    expect((await ingesting).alertsCreated).toBe(1);
    expect(sleeps).toHaveLength(1);
    expect(await count('command_events')).toBe(1);
  });

  it('gives up waiting for a lock after lock_timeout, and retries', async () => {
    const db = await open({ lockTimeoutMs: 200 });
    const sleeps: number[] = [];
    await holdLock();
    // Nothing here ends the wait but lock_timeout: without it the ingest would wait forever.
    const stats = await ingestor(db, sleeps).ingest('fault', { events: [shadow(1)], malformed: [] });
    expect(stats.alertsCreated).toBe(1);
    expect(sleeps).toHaveLength(1);
    expect(await count('command_events')).toBe(1);
  });

  it('sets the configured timeouts and application name on every connection', async () => {
    const db = await open({ statementTimeoutMs: 1234, lockTimeoutMs: 567, idleInTransactionTimeoutMs: 8900 });
    const { rows } = await db.db
      .selectNoFrom((eb) => [
        eb.fn<string>('current_setting', [eb.val('statement_timeout')]).as('statement'),
        eb.fn<string>('current_setting', [eb.val('lock_timeout')]).as('lock'),
        eb.fn<string>('current_setting', [eb.val('idle_in_transaction_session_timeout')]).as('idle'),
        eb.fn<string>('current_setting', [eb.val('application_name')]).as('name'),
      ])
      .execute()
      .then((result) => ({ rows: result }));
    expect(rows[0]).toEqual({ statement: '1234ms', lock: '567ms', idle: '8900ms', name: application });
  });

  it('drops a connection whose server stops answering, and the next query runs on a new one', async () => {
    const target = new URL(url);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.start();
    try {
      const viaProxy = new URL(url);
      viaProxy.port = String(port);
      const errors: Error[] = [];
      const db = await open({ url: viaProxy.toString(), poolSize: 1, statementTimeoutMs: 500, queryDeadlineMs: 1500, onConnectionError: (error) => errors.push(error) });
      await db.db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
      // The open connection goes silent: statement_timeout never reaches a server that gets nothing.
      proxy.freeze();
      const started = Date.now();
      const failure = await db.db
        .selectNoFrom((eb) => eb.lit(2).as('ok'))
        .execute()
        .then(() => null, (error: unknown) => error);
      expect(Date.now() - started).toBeLessThan(5000);
      // Retried like any lost connection (an HTTP client gets 503), never taken for a bug.
      expect(classifyDatabaseError(failure)).toBe('transient');
      const rows = await db.db.selectNoFrom((eb) => eb.lit(3).as('ok')).execute();
      expect(rows).toEqual([{ ok: 3 }]);
      expect(errors.map((error) => error.message).join('\n')).toContain('did not answer within 1500 ms');
    } finally {
      await proxy.stop();
    }
  });
});
