import { Migrator, sql, type MigrationResult } from 'kysely';
import { MIGRATIONS } from '../../migrations/index.js';
import { MigrationError } from '../errors.js';
import type { VouchDatabase } from './database.js';

/** Postgres: a schema named in a query does not exist (dropped while the catalog was read). */
const INVALID_SCHEMA_NAME = '3F000';
const ATTEMPTS = 3;

/**
 * Applies every pending migration. Throws MigrationError naming the one that failed.
 *
 * kysely's migrator reads the table list of every schema in the database; if another schema is
 * dropped at that moment the read fails. That says nothing about ours, so it is tried again.
 */
export async function migrateToLatest(store: VouchDatabase): Promise<MigrationResult[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await migrateOnce(store);
    } catch (error) {
      const code = ((error as MigrationError).cause as { code?: string } | undefined)?.code;
      if (code !== INVALID_SCHEMA_NAME || attempt >= ATTEMPTS) throw error;
    }
  }
}

async function migrateOnce(store: VouchDatabase): Promise<MigrationResult[]> {
  // Name the schema explicitly: without one, kysely's migrator takes a migration table in ANY
  // schema of the database (another application's) as its own.
  const schema = store.schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema;
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => MIGRATIONS },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error');
    const name = failed ? ` ${failed.migrationName}` : '';
    throw new MigrationError(`migration${name} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  return results;
}
