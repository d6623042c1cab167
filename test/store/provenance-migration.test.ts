import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import * as eventProvenance from '../../migrations/0003_event_provenance.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

describe.each(storeKinds())('migration 0003_event_provenance (%s)', (kind) => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  it('derives the provenance of events and alerts stored before it', async () => {
    store = await createTestStore(kind);
    // Back to the schema before provenance, with rows written then.
    await eventProvenance.down(store.db as Kysely<unknown>);
    const at = new Date('2026-11-24T14:00:00Z');
    const legacy = [
      { key: 'k1', format: 'auditd', exe: '/usr/bin/cat', ppid: 900, extra: null },
      { key: 'k2', format: 'auditd', exe: null, ppid: null, extra: { via: 'sudo', ses: '3' } },
      { key: 'k3', format: 'auditd', exe: '/usr/bin/cat', ppid: 901, extra: { via: 'sudo' } },
      { key: 'k4', format: 'sudo', exe: '/usr/bin/cat', ppid: null, extra: null },
      { key: 'k5', format: 'sudo-journald', exe: '/usr/bin/cat', ppid: null, extra: null },
      { key: 'k6', format: 'falco', exe: null, ppid: null, extra: null },
      { key: 'k7', format: 'laurel', exe: '/usr/bin/cat', ppid: 7, extra: null },
    ];
    for (const row of legacy) {
      await sql`insert into command_events (source, event_key, occurred_at, host, argv, command, exe, ppid, source_format, extra, ingested_at)
        values ('old', ${row.key}, ${at}, 'web-1', '["cat"]', 'cat', ${row.exe}, ${row.ppid}, ${row.format}, ${JSON.stringify(row.extra)}, ${at})`.execute(store.db);
    }
    await sql`insert into alerts (id, event_id, status, host, command, occurred_at, rule_id, rule_name, severity, attack, dedupe_key, created_at, updated_at, conversation_id)
      select 'a-old', id, 'verified', 'web-1', 'cat', ${at}, 'r', 'R', 'high', '[]', 'd', ${at}, ${at}, 'a-old' from command_events where event_key = 'k4'`.execute(store.db);

    await eventProvenance.up(store.db as Kysely<unknown>);

    const events = await store.db.selectFrom('command_events').select(['event_key', 'attribution', 'forgeable', 'transport', 'host_binding']).orderBy('event_key').execute();
    expect(events).toEqual([
      { event_key: 'k1', attribution: 'kernel', forgeable: false, transport: null, host_binding: null },
      { event_key: 'k2', attribution: 'audit-userspace', forgeable: false, transport: null, host_binding: null },
      { event_key: 'k3', attribution: 'kernel', forgeable: false, transport: null, host_binding: null },
      { event_key: 'k4', attribution: 'syslog-unverified', forgeable: true, transport: null, host_binding: null },
      { event_key: 'k5', attribution: 'journal-trusted', forgeable: false, transport: null, host_binding: null },
      { event_key: 'k6', attribution: 'shipper', forgeable: false, transport: null, host_binding: null },
      { event_key: 'k7', attribution: 'kernel', forgeable: false, transport: null, host_binding: null },
    ]);
    const alert = await store.db.selectFrom('alerts').select('provenance').where('id', '=', 'a-old').executeTakeFirstOrThrow();
    expect(alert.provenance).toEqual({ format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: null, host_binding: null });
  });
});
