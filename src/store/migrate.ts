import { Migrator, sql, type MigrationResult } from 'kysely';
import { MIGRATIONS } from '../../migrations/index.js';
import { MigrationError } from '../errors.js';
import type { VouchDatabase } from './database.js';

/** Applies every pending migration. Throws MigrationError naming the one that failed. */
export async function migrateToLatest(store: VouchDatabase): Promise<MigrationResult[]> {
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
