import { sql, type Kysely } from 'kysely';

/**
 * Provenance: how far each event's attribution can be trusted (see src/sources/provenance.ts).
 * Command events get it as columns, so reviewers can select, say, every forgeable event; an alert
 * keeps a copy of its first event's provenance as JSON, beside the other fields it copies.
 *
 * Events stored before carry no record of how they arrived: their attribution is derived from
 * their format (an auditd event without exe or ppid, marked as run via sudo, is a USER_CMD) and
 * their transport and host binding stay null, which reads as "not recorded".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('command_events')
    .addColumn('attribution', 'text')
    .addColumn('forgeable', 'boolean')
    .addColumn('transport', 'text')
    .addColumn('host_binding', 'text')
    .execute();
  await sql`
    update command_events set attribution = case
      when source_format in ('auditd', 'go-audit', 'laurel')
        and exe is null and ppid is null and extra->>'via' = 'sudo' then 'audit-userspace'
      when source_format in ('auditd', 'go-audit', 'laurel') then 'kernel'
      when source_format = 'sudo-journald' then 'journal-trusted'
      when source_format = 'sudo' then 'syslog-unverified'
      else 'shipper'
    end`.execute(db);
  await sql`update command_events set forgeable = (attribution = 'syslog-unverified')`.execute(db);
  await db.schema.alterTable('alerts').addColumn('provenance', 'jsonb').execute();
  await sql`
    update alerts set provenance = jsonb_build_object(
      'format', e.source_format, 'attribution', e.attribution, 'forgeable', e.forgeable,
      'transport', null, 'host_binding', null)
    from command_events e where e.id = alerts.event_id`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').dropColumn('provenance').execute();
  await db.schema
    .alterTable('command_events')
    .dropColumn('attribution')
    .dropColumn('forgeable')
    .dropColumn('transport')
    .dropColumn('host_binding')
    .execute();
}
