import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { makeEvent } from '../detect/make-event.js';

const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const policy = loadConfig({ env: {} }).workflow;

function shadowRead(key: string, fields: Partial<CommandEvent> = {}): CommandEvent {
  return makeEvent(['cat', '/etc/shadow'], { time: new Date('2026-11-24T14:00:00Z'), sourceFormat: 'json', eventKey: key, ...fields });
}

describe.each(storeKinds())('hits grouped into conversations on %s', (kind) => {
  let store: TestStore;
  let ingestor: Ingestor;

  beforeEach(async () => {
    store = await createTestStore(kind);
    ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy, clock });
  });

  afterEach(async () => {
    await store.destroy();
  });

  const alerts = () => store.db.selectFrom('alerts').select(['id', 'host', 'occurrences', 'status', 'conversation_id']).orderBy('host').orderBy('created_at').execute();
  const trail = (alertId: string) => store.db.selectFrom('audit_trail').select('action').where('alert_id', '=', alertId).orderBy('id').execute();

  it('one batch: repeats fold into their alert, the same command on another host joins the conversation, one question', async () => {
    const stats = await ingestor.ingest('s', {
      events: [shadowRead('a'), shadowRead('b'), shadowRead('c', { host: 'web-2' }), shadowRead('d')],
      malformed: [],
    });
    expect(stats).toMatchObject({ alertsCreated: 1, alertsFolded: 3 });
    const rows = await alerts();
    expect(rows.map((r) => [r.host, r.occurrences])).toEqual([['web-1', 3], ['web-2', 1]]);
    const lead = rows[0]!;
    expect(rows.every((r) => r.conversation_id === lead.id)).toBe(true);
    expect((await trail(lead.id)).map((r) => r.action)).toEqual(['created', 'repeated', 'repeated']);
    expect((await trail(rows[1]!.id)).map((r) => r.action)).toEqual(['created', 'joined']);
    const jobs = await store.db.selectFrom('jobs').select(['alert_id', 'kind']).execute();
    expect(jobs).toEqual([{ alert_id: lead.id, kind: 'ask' }]);
  });

  it("writes a batch's trail in order, and the hash chain holds across batches", async () => {
    for (let batch = 0; batch < 3; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => shadowRead(`k${batch}-${i}`, { host: `web-${i % 7}` }));
      await ingestor.ingest('s', { events, malformed: [] });
    }
    // 7 alerts (one per host) in one conversation: 150 steps of the hits, 6 of them joining.
    expect(await verifyAuditTrail(store.db)).toMatchObject({ ok: true, rows: 156 });
    const first = await store.db.selectFrom('audit_trail').select(['id', 'action']).orderBy('id').limit(4).execute();
    expect(first.map((r) => r.action)).toEqual(['created', 'created', 'joined', 'created']);
  });

  it('a later batch folds into the open conversation; repeats of an escalated one fold into it too, with a thread note and no question', async () => {
    await ingestor.ingest('s', { events: [shadowRead('a')], malformed: [] });
    await ingestor.ingest('s', { events: [shadowRead('b'), shadowRead('c')], malformed: [] });
    let rows = await alerts();
    expect(rows.map((r) => r.occurrences)).toEqual([3]);
    const lead = rows[0]!;
    await store.db.updateTable('alerts').set({ status: 'escalated', escalation_reason: 'denied_by_user', resolved_at: clock.now() }).execute();
    await store.db.deleteFrom('jobs').execute();
    const stats = await ingestor.ingest('s', { events: [shadowRead('d'), shadowRead('e')], malformed: [] });
    expect(stats).toMatchObject({ alertsCreated: 0, alertsFolded: 2 });
    rows = await alerts();
    expect(rows.map((r) => [r.status, r.conversation_id === lead.id])).toEqual([['escalated', true], ['escalated', true], ['escalated', true]]);
    const jobs = await store.db.selectFrom('jobs').select(['alert_id', 'kind']).execute();
    expect(jobs).toEqual([{ alert_id: lead.id, kind: 'notify_repeat' }]);
  });

  it('a verification covers the same session only: another session, or a critical rule, asks again', async () => {
    const session = (ses: string, key: string, fields: Partial<CommandEvent> = {}) => shadowRead(key, { extra: { ses }, ...fields });
    await ingestor.ingest('s', { events: [session('3', 'a')], malformed: [] });
    const [lead] = await alerts();
    await store.db.updateTable('alerts').set({ status: 'verified', resolved_at: clock.now(), justification: 'rotating passwords', second_factor: 'allow' }).execute();
    await store.db.deleteFrom('jobs').execute();
    // The same session, soon after: covered, nobody asked.
    const covered = await ingestor.ingest('s', { events: [session('3', 'b', { argv: ['cat', '/etc/gshadow'], command: 'cat /etc/gshadow' })], malformed: [] });
    expect(covered).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
    // Another session (an attacker holding another login): asked.
    const other = await ingestor.ingest('s', { events: [session('9', 'c')], malformed: [] });
    expect(other).toMatchObject({ alertsCreated: 1 });
    // Past the reuse window, the same session asks again too.
    clock.advance(policy.reuseWindowMs + 1000);
    const late = await ingestor.ingest('s', { events: [session('3', 'd', { argv: ['cat', '/etc/shadow-'], command: 'cat /etc/shadow-' })], malformed: [] });
    expect(late).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
    const rows = await store.db.selectFrom('alerts').select(['id', 'status', 'conversation_id', 'command', 'session_key']).execute();
    const byCommand = (command: string, session: string) => rows.find((row) => row.command === command && row.session_key?.endsWith(`ses:${session}`));
    expect(byCommand('cat /etc/gshadow', '3')).toMatchObject({ status: 'verified', conversation_id: lead!.id });
    const asked = byCommand('cat /etc/shadow', '9')!;
    expect(asked).toMatchObject({ status: 'new', conversation_id: asked.id });
    // The late one joins the other session's waiting question rather than asking a third time.
    expect(byCommand('cat /etc/shadow-', '3')).toMatchObject({ status: 'new', conversation_id: asked.id });
  });
  it('one batch adds members on many hosts and folds its later repeats into them, written together', async () => {
    await ingestor.ingest('s', { events: [shadowRead('a')], malformed: [] });
    const events = Array.from({ length: 12 }, (_, i) => shadowRead(`m${i}`, { host: `web-${2 + (i % 4)}` }));
    const stats = await ingestor.ingest('s', { events, malformed: [] });
    expect(stats).toMatchObject({ alertsCreated: 0, alertsFolded: 12 });
    const rows = await alerts();
    expect(rows.map((r) => [r.host, r.occurrences])).toEqual([['web-1', 1], ['web-2', 3], ['web-3', 3], ['web-4', 3], ['web-5', 3]]);
    expect(rows.every((r) => r.conversation_id === rows[0]!.id)).toBe(true);
    for (const member of rows.slice(1)) expect((await trail(member.id)).map((r) => r.action)).toEqual(['created', 'joined', 'repeated', 'repeated']);
    expect(await verifyAuditTrail(store.db)).toMatchObject({ ok: true });
  });

  it('a critical command seen again after its conversation escalated pages each new member, written before its page', async () => {
    const auditOff = (key: string, host: string) => makeEvent(['auditctl', '-e', '0'], { time: new Date('2026-11-24T14:00:00Z'), sourceFormat: 'json', eventKey: key, host });
    await ingestor.ingest('s', { events: [auditOff('a', 'web-1')], malformed: [] });
    const [lead] = await alerts();
    await store.db.updateTable('alerts').set({ status: 'escalated', escalation_reason: 'denied_by_user', resolved_at: clock.now() }).execute();
    await store.db.deleteFrom('jobs').execute();
    const stats = await ingestor.ingest('s', { events: [auditOff('b', 'web-2'), auditOff('c', 'web-3')], malformed: [] });
    expect(stats).toMatchObject({ alertsCreated: 0, alertsFolded: 2 });
    const rows = await alerts();
    const members = rows.filter((r) => r.id !== lead!.id);
    expect(members.map((r) => [r.host, r.status, r.conversation_id])).toEqual([
      ['web-2', 'escalated', lead!.id],
      ['web-3', 'escalated', lead!.id],
    ]);
    const jobs = await store.db.selectFrom('jobs').select(['alert_id', 'kind']).orderBy('id').execute();
    expect(jobs).toEqual([
      { alert_id: lead!.id, kind: 'notify_repeat' },
      { alert_id: members[0]!.id, kind: 'page' },
      { alert_id: members[1]!.id, kind: 'page' },
    ]);
  });

  it('a line any local user could forge, or an unbound HTTP event, never joins, folds into or is covered by a conversation of attested records', async () => {
    await ingestor.ingest('s', { events: [shadowRead('kernel-1', { sourceFormat: 'auditd', extra: { ses: '3' } })], malformed: [] });
    const [lead] = await alerts();
    // The same command, forged in sudo's syslog text: same user, host, session and rule.
    const forged = shadowRead('forged-1', { sourceFormat: 'sudo', extra: { ses: '3' } });
    const unbound = shadowRead('unbound-1', {
      sourceFormat: 'auditd',
      extra: { ses: '3' },
      provenance: { format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'http', hostBinding: 'unbound' },
    });
    const bound = shadowRead('bound-1', {
      sourceFormat: 'auditd',
      host: 'web-2',
      extra: { ses: '3' },
      provenance: { format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'http', hostBinding: 'bound' },
    });
    const stats = await ingestor.ingest('s', { events: [forged, unbound, bound], malformed: [] });
    expect(stats).toMatchObject({ alertsCreated: 2, alertsFolded: 1 });
    const rows = await store.db.selectFrom('alerts').select(['id', 'host', 'conversation_id', 'provenance']).orderBy('created_at').orderBy('id').execute();
    const conversationOf = (attribution: string, binding: string | null) =>
      rows.find((r) => (r.provenance as { attribution: string; host_binding: string | null }).attribution === attribution && (r.provenance as { host_binding: string | null }).host_binding === binding)?.conversation_id;
    // The bound HTTP event is as attested as the file's: it joins; the other two are asked on their own.
    expect(conversationOf('kernel', 'bound')).toBe(lead!.id);
    expect(conversationOf('syslog-unverified', null)).not.toBe(lead!.id);
    expect(conversationOf('kernel', 'unbound')).not.toBe(lead!.id);
    expect(new Set(rows.map((r) => r.conversation_id)).size).toBe(3);

    // Verified, the attested conversation still covers only attested repeats.
    await store.db.updateTable('alerts').set({ status: 'verified', resolved_at: clock.now() }).where('conversation_id', '=', lead!.id).execute();
    const later = await ingestor.ingest('s', { events: [shadowRead('forged-2', { sourceFormat: 'sudo', host: 'web-3', extra: { ses: '3' } })], malformed: [] });
    // It joins the open conversation of the first forged line, not the verified one.
    expect(later).toMatchObject({ alertsCreated: 0, alertsFolded: 1 });
    const forgedAgain = await store.db.selectFrom('alerts').select(['conversation_id', 'status']).where('host', '=', 'web-3').executeTakeFirstOrThrow();
    expect(forgedAgain).toEqual({ conversation_id: conversationOf('syslog-unverified', null), status: 'new' });
  });

  it('concurrent ingests of one person make one pending conversation behind the open question, not one each', async () => {
    await ingestor.ingest('s', { events: [shadowRead('first', { extra: { ses: '1' } })], malformed: [] });
    await store.db.updateTable('alerts').set({ status: 'asked', asked_at: clock.now() }).execute();
    // Ten shippers (or replicas) at once, each with a hit of the same person from another session.
    const others = Array.from({ length: 10 }, () => new Ingestor({ db: store.db, rules: loadDefaultRules(), policy, clock }));
    const listener = (i: number) =>
      makeEvent(['nc', '-lvnp', '4444'], { time: new Date('2026-11-24T14:00:00Z'), sourceFormat: 'json', eventKey: `burst-${i}`, host: `web-${i + 2}`, extra: { ses: `${i + 10}` } });
    await Promise.all(others.map((other, i) => other.ingest(`s${i}`, { events: [listener(i)], malformed: [] })));
    const leads = await store.db.selectFrom('alerts').select(['id', 'status']).whereRef('id', '=', 'conversation_id').execute();
    expect(leads.map((lead) => lead.status).sort()).toEqual(['asked', 'new']);
  });
});
