import { Migrator, type MigrationResult } from 'kysely';
import { MIGRATIONS } from '../../migrations/index.js';
import { MigrationError } from '../errors.js';
import type { VouchDatabase } from './database.js';

/** Applies every pending migration. Throws MigrationError naming the one that failed. */
export async function migrateToLatest(store: VouchDatabase): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => MIGRATIONS },
    ...(store.schema ? { migrationTableSchema: store.schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error');
    const name = failed ? ` ${failed.migrationName}` : '';
    throw new MigrationError(`migration${name} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  return results;
}
