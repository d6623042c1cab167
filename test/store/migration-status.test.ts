import { sql, type KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import { DatabaseNotMigratedError, MigrationError } from '../../src/errors.js';
import { assertMigrated, migrateToLatest, migrationStatus } from '../../src/store/migrate.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

const NAMES = Object.keys(MIGRATIONS);

describe.each(storeKinds())('migration status (%s)', (kind) => {
  let store: TestStore | null = null;
  afterEach(async () => {
    await store?.destroy();
    store = null;
  });

  it('says a database never migrated, or behind, is to be migrated, in the words doctor uses', async () => {
    store = await createTestStore(kind);
    expect(await migrationStatus(store)).toEqual({ pending: [], neverMigrated: false });
    await assertMigrated(store);

    // As kysely's migrator sees a database no migration ever ran on.
    await sql`delete from kysely_migration`.execute(store.db);
    expect(await migrationStatus(store)).toEqual({ pending: NAMES, neverMigrated: true });
    const never = assertMigrated(store);
    await expect(never).rejects.toBeInstanceOf(DatabaseNotMigratedError);
    await expect(never).rejects.toThrow(`${kind} reachable but not migrated yet: run vouch migrate`);

    await sql`insert into kysely_migration (name, timestamp) values (${NAMES[0]}, ${new Date().toISOString()})`.execute(store.db);
    expect((await migrationStatus(store)).pending).toEqual(NAMES.slice(1));
    await expect(assertMigrated(store)).rejects.toThrow(`${kind} reachable but ${NAMES.length - 1} migration(s) not applied yet: run vouch migrate`);
  });

  it('applies nothing to a database that is up to date, and says so with no results', async () => {
    store = await createTestStore(kind);
    expect(await migrateToLatest(store)).toEqual([]);
  });

  it('tries again, with a pause, while other schemas vanish under its catalog reads', async () => {
    store = await createTestStore(kind);
    // Each query of the next `failures` fails as a read of a schema dropped meanwhile does.
    let failures = 0;
    // A schema, a table or a column of another schema, gone while the catalog was read.
    const errors = [
      Object.assign(new Error('relation "t_gone.alerts" does not exist'), { code: '42P01' }),
      Object.assign(new Error('column "action" of relation "audit_trail" does not exist'), { code: '42703' }),
    ];
    const vanishing: KyselyPlugin = {
      transformQuery(args) {
        if (failures > 0) {
          failures--;
          throw errors[failures % errors.length];
        }
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const racing = { ...store, db: store.db.withPlugin(vanishing) };
    failures = 4;
    expect(await migrateToLatest(racing)).toEqual([]);
    failures = 100;
    await expect(migrateToLatest(racing)).rejects.toBeInstanceOf(MigrationError);
  });
});
