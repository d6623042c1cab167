import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DatabaseError } from '../errors.js';
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
}

export interface VouchDatabase {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /** The schema migrations and queries run in, when one was chosen. */
  readonly schema: string | undefined;
  close(): Promise<void>;
}

const INT8_OID = 20;

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
  return {
    db,
    kind: options.url ? 'postgres' : 'pglite',
    schema: options.schema,
    close: () => db.destroy(),
  };
}

function postgresPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url ?? undefined,
    max: options.poolSize ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Row ids and counters are bigint; they stay far below 2^53, and numbers keep both drivers alike.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // A client checked out of the pool has no error listener of its own: a connection killed under a
  // transaction would crash the process instead of failing the query, which reports it anyway.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

async function pglitePool(options: DatabaseOptions): Promise<PGlitePool> {
  if (options.pglite) {
    if (options.schema) await options.pglite.exec(`create schema if not exists "${options.schema.replace(/"/g, '""')}"`);
    return new PGlitePool(options.pglite, { schema: options.schema, closeOnEnd: false });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const embedded = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  try {
    await embedded.waitReady;
  } catch (error) {
    throw new DatabaseError(
      `cannot open the embedded database in ${options.dataDir}: ${(error as Error).message}. ` +
        'Is another vouch process using it? Stop it, or set database.url / DATABASE_URL.',
      { cause: error },
    );
  }
  return new PGlitePool(embedded, { schema: options.schema, closeOnEnd: true });
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
