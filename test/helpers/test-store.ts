import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type VouchDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export type StoreKind = 'postgres' | 'pglite';

/** Real Postgres when TEST_DATABASE_URL is set (CI), embedded PGlite always. */
export function storeKinds(): StoreKind[] {
  return process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
}

/** The driver tests use when they do not run on both: Postgres when there is one. */
export function defaultStoreKind(): StoreKind {
  return process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
}

let sharedPglite: Promise<PGlite> | null = null;

/** One embedded instance per test file (it takes seconds to boot); tests isolate by schema. */
function pglite(): Promise<PGlite> {
  sharedPglite ??= import('@electric-sql/pglite').then(async ({ PGlite }) => {
    const db = new PGlite();
    await db.waitReady;
    return db;
  });
  return sharedPglite;
}

export interface TestStore extends VouchDatabase {
  /** Closes the store and drops its schema. */
  destroy(): Promise<void>;
  /** Opens another store on the same schema (a second replica, or the service after a restart). */
  reopen(): Promise<VouchDatabase>;
}

/** A migrated store in a schema of its own, so tests never see each other's rows. */
export async function createTestStore(kind: StoreKind = defaultStoreKind()): Promise<TestStore> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const open = async (): Promise<VouchDatabase> =>
    kind === 'postgres'
      ? openDatabase({ url: process.env.TEST_DATABASE_URL as string, dataDir: null, schema, poolSize: 5 })
      : openDatabase({ url: null, dataDir: null, schema, pglite: await pglite() });
  const migrate = async (): Promise<VouchDatabase> => {
    const store = await open();
    await migrateToLatest(store);
    return store;
  };
  const store = kind === 'postgres' ? await whileSchemasHeld(async (admin) => {
    await admin.query(`create schema "${schema}"`);
    return migrate();
  }) : await migrate();
  return {
    ...store,
    close: () => store.close(),
    reopen: open,
    async destroy() {
      await store.close();
      // "if exists": a test whose set-up timed out may tear down a store twice.
      if (kind === 'postgres') await whileSchemasHeld((admin) => admin.query(`drop schema if exists "${schema}" cascade`));
      else await (await pglite()).exec(`drop schema if exists "${schema}" cascade`);
    },
  };
}

/** Serialises test schema set-up and tear-down across test workers. */
const SCHEMA_LOCK = 0x7465_7374; // "test"

/**
 * Runs `work` holding a lock that every test's schema creation, migration and drop take: kysely's
 * migrator reads the catalog of every schema, and fails if another test drops its schema meanwhile.
 */
async function whileSchemasHeld<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    return await work(admin);
  } finally {
    await admin.end();
  }
}
