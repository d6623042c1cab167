import type { VouchConfig } from '../config/config.js';
import { configuredDatabaseOptions, openDatabase, type VouchDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';

/** The database the service uses: Postgres when configured, else the embedded one in the data dir. */
export async function openConfiguredStore(config: VouchConfig, options: { migrate: boolean }): Promise<VouchDatabase> {
  const store = await openDatabase(configuredDatabaseOptions(config.database));
  if (options.migrate) {
    try {
      await migrateToLatest(store);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
