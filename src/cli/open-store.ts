import type { VouchConfig } from '../config/config.js';
import { prepareDataDir } from '../config/prepare-data-dir.js';
import { configuredDatabaseOptions, openDatabase, type VouchDatabase } from '../store/database.js';
import { assertMigrated, migrateToLatest } from '../store/migrate.js';
import { refuseWhileServiceRuns, type RunningServiceInfo } from './running-service.js';

export interface OpenStoreOptions {
  /**
   * True: apply pending migrations. False: refuse a database that misses any, saying to run
   * `vouch migrate` (DatabaseNotMigratedError), unless `checkMigrated` is false.
   */
  migrate: boolean;
  /** With `migrate: false`, whether to refuse a database not fully migrated. Default true. */
  checkMigrated?: boolean;
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
  if (!config.database.url) {
    refuseWhileServiceRuns(config.database.dataDir, options.whileRunning);
    prepareDataDir(config.database.dataDir);
  }
  const store = await openDatabase(configuredDatabaseOptions(config.database));
  try {
    if (options.migrate) await migrateToLatest(store);
    else if (options.checkMigrated ?? true) await assertMigrated(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
