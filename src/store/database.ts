import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import { DatabaseError } from '../errors.js';
import { makePrivateDir, restrictToOwner } from '../private-files.js';
import { lockEmbeddedDatabase } from './embedded-database-lock.js';
import { PGlitePool } from './pglite-pool.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  /** A postgres:// URL; null selects embedded PGlite. */
  url: string | null;
  /** PGlite's data directory; null keeps PGlite in memory (tests). Ignored for Postgres. */
  dataDir: string | null;
  /** Postgres schema to use (tests isolate themselves this way); defaults to the server's path. */
  schema?: string;
  /** Pool size for Postgres. Default 10. */
  poolSize?: number;
  /** An embedded instance to share (tests); it stays open when this store closes. */
  pglite?: PGlite;
  /**
   * Postgres `application_name` of every connection, so an operator (or a test) can find this
   * store's backends in pg_stat_activity. Default `vouch`.
   */
  applicationName?: string;
  /** Postgres cancels a statement running longer (57014); 0 disables. Default 30 s. */
  statementTimeoutMs?: number;
  /** A statement waiting longer for a lock fails (55P03); 0 disables. Default 10 s. */
  lockTimeoutMs?: number;
  /** A session left idle inside a transaction longer is ended by the server; 0 disables. Default 60 s. */
  idleInTransactionTimeoutMs?: number;
  /** How long opening a connection may take before it fails (and the work is retried). Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long a query may wait for the server's answer before its connection is dropped, on this
   * side: a server (or a network path) that stops answering without closing the socket is never
   * reached by statement_timeout, and would hold the query, and whoever waits on it, forever.
   * Default statement timeout plus QUERY_DEADLINE_GRACE_MS; 0 (or a statement timeout of 0)
   * leaves only TCP keepalive to notice.
   */
  queryDeadlineMs?: number;
  /**
   * Told about connection errors raised outside any query (a server restart, a dropped socket).
   * They never reach the process as uncaught errors; the query in flight, if any, fails and is
   * retried by its caller. Default: ignored.
   */
  onConnectionError?: (error: Error) => void;
}

/** Defaults of the timeouts above, milliseconds. */
export const DATABASE_TIMEOUT_DEFAULTS = {
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
} as const;

/** How much longer than the statement timeout a query may wait before its connection is given up. */
export const QUERY_DEADLINE_GRACE_MS = 15_000;

/** Idle time before TCP keepalive probes a connection (the OS default is two hours). */
const KEEPALIVE_IDLE_MS = 10_000;

export interface VouchDatabase {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /** The schema migrations and queries run in, when one was chosen. */
  readonly schema: string | undefined;
  /**
   * Asks the database for an answer on a connection of its own, outside the pool: tells a
   * database that answers but has every pooled connection busy (each waiting on a lock, say) from
   * one that does not answer at all. Rejects when no answer comes within `timeoutMs`.
   */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * The options of the configured store (`database:` in the config): Postgres at its URL, or
 * embedded PGlite in `<data_dir>/pgdata`, with the configured timeouts.
 */
export function configuredDatabaseOptions(config: DatabaseConfig, extra: Partial<DatabaseOptions> = {}): DatabaseOptions {
  return {
    url: config.url,
    dataDir: path.join(config.dataDir, 'pgdata'),
    statementTimeoutMs: config.statementTimeoutMs,
    lockTimeoutMs: config.lockTimeoutMs,
    ...extra,
  };
}

/** Opens the store: Postgres over `pg` when a URL is configured, embedded PGlite otherwise. */
export async function openDatabase(options: DatabaseOptions): Promise<VouchDatabase> {
  const pool = options.url ? postgresPool(options) : await pglitePool(options);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new DatabaseError(`cannot reach the database (${describe(options)}): ${(error as Error).message}`, { cause: error });
  }
  const url = options.url;
  return {
    db,
    kind: url ? 'postgres' : 'pglite',
    schema: options.schema,
    // PGlite has no connections to run out of: its own queue answers.
    ping: (timeoutMs) => withTimeout(url ? pingOutsidePool(url, timeoutMs) : db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute(), timeoutMs),
    close: () => db.destroy(),
  };
}

/** One `select 1` on a connection of its own, closed afterwards whatever happens. */
async function pingOutsidePool(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'vouch health check' });
  // A failure arrives as the rejection below; the event must not crash the process.
  client.on('error', () => undefined);
  const timer = setTimeout(() => void client.end().catch(() => undefined), timeoutMs);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    clearTimeout(timer);
    await client.end().catch(() => undefined);
  }
}

/** `work`, or a rejection once `timeoutMs` passed without it settling. */
async function withTimeout(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function postgresPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url ?? undefined,
    max: options.poolSize ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    application_name: options.applicationName ?? 'vouch',
    statement_timeout: options.statementTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.statementTimeoutMs,
    lock_timeout: options.lockTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.lockTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.idleInTransactionTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.connectTimeoutMs,
    // A peer that vanished without closing the socket is noticed instead of waited for forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    // Row ids and counters are bigint; they stay far below 2^53, and numbers keep both drivers alike.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const report = (error: Error) => options.onConnectionError?.(error);
  // An idle client that loses its connection must not crash the process; the next query reports it.
  pool.on('error', report);
  // pg emits `error` on a client while it is checked out (the pool listens only to idle ones), and
  // an `error` event nobody listens to is an uncaught exception: every client gets a listener for
  // its whole life. The query in flight fails on its own; pg-pool discards the broken client.
  pool.on('connect', (client) => client.on('error', report));
  const statementTimeout = options.statementTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.statementTimeoutMs;
  const deadline = options.queryDeadlineMs ?? (statementTimeout > 0 ? statementTimeout + QUERY_DEADLINE_GRACE_MS : 0);
  if (deadline > 0) pool.on('connect', (client) => dropWhenUnanswered(client, deadline));
  return pool;
}

/**
 * Gives every query of `client` a deadline: past it the socket is destroyed, so the query fails
 * as a lost connection (retried by its caller like any other), and pg-pool discards the client
 * instead of handing out a connection stuck behind a query that will never be answered.
 */
function dropWhenUnanswered(client: pg.PoolClient, deadlineMs: number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const pending = query(...args);
    if (!(pending instanceof Promise)) return pending;
    const timer = setTimeout(() => {
      const stream = (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream;
      // ETIMEDOUT, as a socket that timed out says: the classifier, and so every caller, retries it.
      const error = Object.assign(new Error(`the database did not answer within ${deadlineMs} ms; dropping the connection`), { code: 'ETIMEDOUT' });
      if (stream) stream.destroy(error);
      else void client.end().catch(() => undefined);
    }, deadlineMs);
    timer.unref();
    const settle = () => clearTimeout(timer);
    pending.then(settle, settle);
    return pending;
  }) as typeof client.query;
}

async function pglitePool(options: DatabaseOptions): Promise<PGlitePool> {
  if (options.pglite) {
    if (options.schema) await options.pglite.exec(`create schema if not exists "${options.schema.replace(/"/g, '""')}"`);
    return new PGlitePool(options.pglite, { schema: options.schema, closeOnEnd: false });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = options.dataDir;
  // The database holds every alert and answer: only this user may read or change it. A directory
  // left open by an earlier version is tightened before it is used again.
  if (dir) makePrivateDir(dir, { recursive: true });
  // Taken before any of its files is opened, and held until the store is closed (by a service, for its whole life).
  const lock = dir ? lockEmbeddedDatabase(dir) : null;
  let embedded: PGlite | null = null;
  try {
    embedded = dir ? new PGlite(dir) : new PGlite();
    await embedded.waitReady;
    if (dir) restrictToOwner(dir, true);
  } catch (error) {
    await embedded?.close().catch(() => undefined);
    lock?.release();
    throw new DatabaseError(`cannot open the embedded database in ${dir ?? 'memory'}: ${(error as Error).message}`, { cause: error });
  }
  return new PGlitePool(embedded, { schema: options.schema, closeOnEnd: true, onClosed: () => lock?.release() });
}

function describe(options: DatabaseOptions): string {
  if (!options.url) return `embedded PGlite in ${options.dataDir ?? 'memory'}`;
  try {
    const url = new URL(options.url);
    return `postgres at ${url.host}${url.pathname}`;
  } catch {
    return 'postgres (database.url is not a valid URL)';
  }
}
