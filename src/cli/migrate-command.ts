import type { VouchConfig } from '../config/config.js';
import { migrateToLatest } from '../store/migrate.js';
import { openConfiguredStore } from './open-store.js';

/**
 * `vouch migrate`: applies the pending migrations and says which, one line each, then a summary;
 * "database is up to date" alone when there was nothing to apply.
 */
export async function migrateCommand(config: VouchConfig): Promise<string> {
  const store = await openConfiguredStore(config, {
    migrate: false,
    checkMigrated: false,
    // The running service migrated the database when it started; a newer version migrates on its own start.
    whileRunning: () => 'Stop the service and run vouch migrate again (vouch start also applies pending migrations).',
  });
  let applied: string[];
  try {
    applied = (await migrateToLatest(store)).filter((result) => result.status === 'Success').map((result) => result.migrationName);
  } finally {
    await store.close();
  }
  return migrationSummary(applied, store.kind);
}

/** What `vouch migrate` prints for the migrations it applied. */
export function migrationSummary(applied: readonly string[], kind: string): string {
  if (applied.length === 0) return `database is up to date (${kind})\n`;
  const lines = applied.map((name) => `applied ${name}\n`);
  return `${lines.join('')}applied ${applied.length} migration${applied.length === 1 ? '' : 's'}; database is up to date (${kind})\n`;
}
