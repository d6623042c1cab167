import { sql, type Kysely } from 'kysely';

/**
 * The review console: signed-in sessions and the sign-ins under way (both keyed by the sha256 of
 * a random id the browser holds in a cookie, so a copy of the table signs nobody in), named API
 * tokens for machines (only their hash is kept), and reviews as rows of their own, so a second
 * review appends to the first instead of overwriting its note.
 *
 * Reviews already recorded on alerts (reviewed_by, reviewed_at, review_note) become each alert's
 * first review; those columns stay, holding the latest review, for the report.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('console_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('identity', 'jsonb', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_sessions_expiry').on('console_sessions').column('expires_at').execute();
  await db.schema
    .createTable('console_sign_ins')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_tokens')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema
    .createTable('reviews')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reviews_alert').on('reviews').columns(['alert_id', 'at']).execute();
  await sql`
    insert into reviews (alert_id, actor, note, at)
    select id, reviewed_by, review_note, reviewed_at from alerts
    where reviewed_by is not null and reviewed_at is not null
    order by reviewed_at`.execute(db);
  await sql`comment on table reviews is 'Append-only; alerts.reviewed_by/review_note hold the latest row for the report.'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['reviews', 'api_tokens', 'console_sign_ins', 'console_sessions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
