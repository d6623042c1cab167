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
  if (kind === 'postgres') await adminQuery(`create schema "${schema}"`);
  const store = await open();
  await migrateToLatest(store);
  return {
    ...store,
    close: () => store.close(),
    reopen: open,
    async destroy() {
      await store.close();
      if (kind === 'postgres') await adminQuery(`drop schema "${schema}" cascade`);
      else await (await pglite()).exec(`drop schema "${schema}" cascade`);
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
