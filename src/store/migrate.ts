import { Migrator, sql, type MigrationResult } from 'kysely';
import { MIGRATIONS } from '../../migrations/index.js';
import { DatabaseNotMigratedError, MigrationError } from '../errors.js';
import type { VouchDatabase } from './database.js';

/**
 * Postgres: a schema, or a table, named in a query does not exist: another schema of the
 * database was dropped while the catalog was read (its tables vanish first, then the schema).
 */
const INVALID_SCHEMA_NAME = '3F000';
const UNDEFINED_TABLE = '42P01';
/** A column of a table dropped meanwhile (or altered by another schema's migration): the catalog read met it half gone. */
const UNDEFINED_COLUMN = '42703';
/** Postgres's internal error, which a catalog lookup of an object dropped meanwhile raises as "cache lookup failed". */
const INTERNAL_ERROR = 'XX000';
const ATTEMPTS = 6;
/** The wait after the first failed try; it doubles, so a drop still under way (a schema of many tables) can finish. */
const FIRST_RETRY_MS = 25;

/**
 * Applies every pending migration. Throws MigrationError naming the one that failed. Returns
 * kysely's result per migration it ran (status `Success`); empty when the database was up to date.
 */
export async function migrateToLatest(store: VouchDatabase): Promise<MigrationResult[]> {
  return retryWhileSchemasChange(async () => {
    const { error, results = [] } = await (await migrator(store)).migrateToLatest();
    if (error) {
      const failed = results.find((result) => result.status === 'Error');
      const name = failed ? ` ${failed.migrationName}` : '';
      throw new MigrationError(`migration${name} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
    }
    return results;
  });
}

/** How far this database is behind the product's migrations. */
export interface MigrationStatus {
  /** Migrations not applied yet, in order. */
  pending: string[];
  /** No migration ever ran here: an empty database, or one `vouch migrate` never saw. */
  neverMigrated: boolean;
}

/**
 * Reads kysely's migration table without creating it, so checking changes nothing (doctor,
 * report and the other commands that only read or write rows call this before their queries).
 */
export async function migrationStatus(store: VouchDatabase): Promise<MigrationStatus> {
  const migrations = await retryWhileSchemasChange(async () => (await migrator(store)).getMigrations());
  const pending = migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
  return { pending, neverMigrated: pending.length > 0 && pending.length === migrations.length };
}

/**
 * Throws DatabaseNotMigratedError, saying to run `vouch migrate`, unless every migration is
 * applied: a command's first query would otherwise fail with `relation "alerts" does not exist`.
 */
export async function assertMigrated(store: VouchDatabase): Promise<void> {
  const { pending, neverMigrated } = await migrationStatus(store);
  if (neverMigrated) throw new DatabaseNotMigratedError(`${store.kind} reachable but not migrated yet: run vouch migrate`);
  if (pending.length > 0) throw new DatabaseNotMigratedError(`${store.kind} reachable but ${pending.length} migration(s) not applied yet: run vouch migrate`);
}

/**
 * The migrator of this store's schema. Named explicitly: without one, kysely's migrator takes a
 * migration table in ANY schema of the database (another application's) as its own.
 */
async function migrator(store: VouchDatabase): Promise<Migrator> {
  const schema = store.schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema;
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => MIGRATIONS },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/**
 * kysely's migrator reads the table list of every schema in the database; if another schema is
 * dropped at that moment the read fails, naming the schema, one of its tables or a column. That says
 * nothing about ours, so it is tried again (a migration runs in one transaction: a failed try
 * leaves nothing behind; a table of ours truly missing fails the same way each time).
 */
async function retryWhileSchemasChange<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isVanishedCatalogEntry(error) || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, FIRST_RETRY_MS * 2 ** (attempt - 1)));
    }
  }
}

/** A catalog read that failed because another schema, or one of its tables, was dropped meanwhile. */
function isVanishedCatalogEntry(error: unknown): boolean {
  const cause = (error instanceof MigrationError ? error.cause : error) as { code?: string; message?: string } | undefined;
  const code = cause?.code;
  if (code === INVALID_SCHEMA_NAME || code === UNDEFINED_TABLE || code === UNDEFINED_COLUMN) return true;
  return code === INTERNAL_ERROR && /cache lookup failed/.test(cause?.message ?? '');
}
