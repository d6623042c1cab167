import type { VouchConfig } from '../config/config.js';
import { configuredDatabaseOptions, openDatabase, type VouchDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { refuseWhileServiceRuns, type RunningServiceInfo } from './running-service.js';

export interface OpenStoreOptions {
  migrate: boolean;
  /**
   * What the operator can do instead while the service holds the embedded database, appended to
   * the refusal (default: stop the service and run the command again).
   */
  whileRunning?: (running: RunningServiceInfo) => string;
}

/**
 * The database the service uses: Postgres when configured, else the embedded one in the data dir.
 * Embedded PGlite admits one process, so while the service runs on it this refuses before
 * opening the files (a second process would corrupt or race them).
 */
export async function openConfiguredStore(config: VouchConfig, options: OpenStoreOptions): Promise<VouchDatabase> {
  if (!config.database.url) refuseWhileServiceRuns(config.database.dataDir, options.whileRunning);
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
