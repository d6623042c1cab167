import { sql, type Kysely } from 'kysely';

/**
 * The initial schema: command events, alerts, the hash-chained audit trail, the workflow's timers
 * (jobs), source checkpoints, malformed-input counters and resolved identities.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('command_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('event_key', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('login_user', 'text')
    .addColumn('login_uid', 'bigint')
    .addColumn('run_as', 'text')
    .addColumn('argv', 'jsonb', (c) => c.notNull())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('exe', 'text')
    .addColumn('cwd', 'text')
    .addColumn('pid', 'integer')
    .addColumn('ppid', 'integer')
    .addColumn('source_format', 'text', (c) => c.notNull())
    .addColumn('sudo_denied', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('extra', 'jsonb')
    .addColumn('rule_id', 'text')
    .addColumn('ingested_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('command_events_source_key', ['source', 'event_key'])
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_id', 'bigint', (c) => c.references('command_events.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('run_as', 'text')
    .addColumn('cwd', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('rule_name', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('attack', 'jsonb', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('occurrences', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('chat_user_id', 'text')
    .addColumn('dm_channel', 'text')
    .addColumn('dm_ts', 'text')
    .addColumn('asked_at', 'timestamptz')
    .addColumn('reminded_at', 'timestamptz')
    .addColumn('answered_at', 'timestamptz')
    .addColumn('justification', 'text')
    .addColumn('second_factor_user', 'text')
    .addColumn('push_txid', 'text')
    .addColumn('push_started_at', 'timestamptz')
    .addColumn('second_factor', 'text')
    .addColumn('escalation_reason', 'text')
    .addColumn('escalation_detail', 'text')
    .addColumn('escalation_channel', 'text')
    .addColumn('escalation_ts', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('reviewed_by', 'text')
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('review_note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_status').on('alerts').columns(['status', 'occurred_at']).execute();
  await db.schema.createIndex('alerts_owner').on('alerts').columns(['owner', 'occurred_at']).execute();
  await db.schema.createIndex('alerts_dedupe').on('alerts').columns(['dedupe_key', 'created_at']).execute();
  await db.schema.createIndex('alerts_occurred').on('alerts').column('occurred_at').execute();

  await db.schema
    .createTable('audit_trail')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('alert_id', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_trail_alert').on('audit_trail').columns(['alert_id', 'id']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addUniqueConstraint('jobs_alert_kind', ['alert_id', 'kind'])
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').column('run_at').execute();

  await db.schema
    .createTable('source_checkpoints')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('file_path', 'text', (c) => c.notNull())
    .addColumn('file_id', 'text', (c) => c.notNull())
    .addColumn('offset', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('source_checkpoints_pk', ['source', 'file_path'])
    .execute();

  await db.schema
    .createTable('source_malformed')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addColumn('sample', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('source_malformed_pk', ['source', 'reason'])
    .execute();

  await db.schema
    .createTable('identities')
    .addColumn('login', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text')
    .addColumn('chat_user_id', 'text')
    .addColumn('resolved_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // The service's own settings that must survive restarts (e.g. the sandbox's generated secrets).
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await sql`comment on table audit_trail is 'Append-only; each row carries the hash of the previous row.'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['settings', 'identities', 'source_malformed', 'source_checkpoints', 'jobs', 'audit_trail', 'alerts', 'command_events']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
