import type { Kysely } from 'kysely';

/**
 * Suppressions: a reviewer's statement that alerts matching some conditions (a rule, a user, a
 * host glob, an exact command) need nobody's answer until a set time. Matching alerts are still
 * recorded, as `suppressed`; suppressions are never deleted, only revoked.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('suppressions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule_id', 'text')
    .addColumn('owner', 'text')
    .addColumn('host_glob', 'text')
    .addColumn('command', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_by', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('suppressions_live').on('suppressions').columns(['revoked_at', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('suppressions').ifExists().execute();
}
