import { afterEach, describe, expect, it } from 'vitest';
import { JUSTIFY_FORM_HOLD_MS, UNOPENED_FORM_HOLD_MS } from '../../src/workflow/workflow.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import type { AlertRow } from '../../src/store/schema.js';
import { HostileDuo } from '../helpers/hostile-duo.js';
import { ALICE, BOB, Harness, waitFor, type Person } from './harness.js';

/**
 * Every answer must belong to the question Vouch asked: a Duo txid to exactly one alert, an
 * auth_status answer to the txid asked about, a justification to the form Vouch opened for that
 * alert and person. Over HTTP, with a Duo that answers the wrong question.
 */
// Generous: booting the embedded database on a loaded machine can take most of the default.
describe('answers are bound to their questions', { timeout: 90_000 }, () => {
  let h: Harness;
  let duo: HostileDuo | null = null;
  afterEach(async () => {
    await h.stop();
    await duo?.close();
    duo = null;
  });

  async function start(): Promise<void> {
    h = await new Harness().start({
      duoFront: async (url) => {
        duo = new HostileDuo(url);
        return duo.start();
      },
    });
  }

  async function askedAlert(argv: string[], person: Person = ALICE): Promise<AlertRow> {
    h.runCommand(person, argv);
    await h.settle();
    const alerts = await h.alerts();
    const alert = alerts.find((row) => row.command === argv.join(' ') && row.owner === person.login);
    expect(alert).toMatchObject({ status: 'asked' });
    return alert!;
  }

  async function confirmAndJustify(alert: AlertRow, reason = 'Checking the shadow file after a migration', person: Person = ALICE): Promise<void> {
    expect((await h.click(person, alert, 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.openViews(person.slackId).find((v) => v.open), 'the justification form');
    expect((await h.justify(person, reason)).status).toBe(200);
  }

  /** A signed view_submission for `alert`'s form, as Slack would send it, with any view id. */
  function submission(person: Person, alert: AlertRow, viewId: string, reason: string, metadata?: string) {
    const payload = {
      type: 'view_submission',
      user: { id: person.slackId, username: person.login, team_id: 'T0' },
      team: { id: 'T0' },
      trigger_id: 't',
      view: {
        id: viewId,
        callback_id: 'vouch.justify',
        private_metadata: metadata ?? JSON.stringify({ alertId: alert.id, channel: alert.dm_channel, ts: alert.dm_ts }),
        hash: '1.abc',
        state: { values: { 'vouch.reason': { reason: { type: 'plain_text_input', value: reason } } } },
      },
    };
    return h.slack.sendSigned(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  }

  it("an /auth answer carrying another alert's approved txid never verifies", async () => {
    await start();
    const first = await askedAlert(['cat', '/etc/shadow']);
    const pushed = h.duo.nextPush('alice');
    await confirmAndJustify(first);
    const approved = (await pushed).txid;
    h.duo.respond(approved, 'allow');
    await waitFor(async () => (await h.alert(first.id)).status === 'verified', 'the first alert verified');

    // From now on Duo hands out the approved transaction instead of the push it just sent.
    duo!.rewrite = (path, _query, response) => (path === '/auth/v2/auth' ? { ...response, txid: approved } : response);
    const second = await askedAlert(['cat', '/etc/gshadow'], BOB);
    await confirmAndJustify(second, 'Checking the gshadow file after a migration', BOB);
    await waitFor(async () => (await h.alert(second.id)).status === 'escalated', 'the second alert escalated');
    const row = await h.alert(second.id);
    expect(row).toMatchObject({ escalation_reason: 'second_factor_failed', second_factor: 'txid_reused', push_txid: null });
    expect(row.escalation_detail).toContain(first.id);
    expect((await h.alert(first.id)).push_txid).toBe(approved);
  });

  it('an auth_status allow naming another txid never verifies', async () => {
    await start();
    duo!.rewrite = (path, query, response) =>
      path === '/auth/v2/auth_status' ? { ...response, txid: `${query.get('txid')}-other` } : response;
    const alert = await askedAlert(['cat', '/etc/shadow']);
    const pushed = h.duo.nextPush('alice');
    await confirmAndJustify(alert);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    const row = await h.alert(alert.id);
    expect(row).toMatchObject({ escalation_reason: 'second_factor_failed', second_factor: 'txid_mismatch' });
    expect(row.escalation_detail).toMatch(/answered about transaction .*-other/);
  });

  it('an auth_status answer that names the txid asked about is accepted', async () => {
    await start();
    duo!.rewrite = (path, query, response) => (path === '/auth/v2/auth_status' ? { ...response, txid: query.get('txid') } : response);
    const alert = await askedAlert(['cat', '/etc/shadow']);
    const pushed = h.duo.nextPush('alice');
    await confirmAndJustify(alert);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(alert.id)).status === 'verified', 'verified');
  });

  it('a justification with no prior confirm does not move the alert', async () => {
    await start();
    const alert = await askedAlert(['cat', '/etc/shadow']);
    const response = await submission(ALICE, alert, 'VNEVEROPENED', 'I was rotating the root password');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ response_action: 'errors' });
    await h.settle();
    expect((await h.alert(alert.id)).status).toBe('asked');
    expect(h.duo.pushes()).toEqual([]);
    const trail = (await auditTrailFor(h.service.store.db, alert.id)).map((step) => step.action);
    expect(trail).toContain('unbound_answer_ignored');
  });

  it('only the form Vouch opened counts: another view id is refused, the opened one is accepted', async () => {
    await start();
    const alert = await askedAlert(['cat', '/etc/shadow']);
    await h.click(ALICE, alert, 'vouch.confirm');
    const view = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await waitFor(async () => (await h.alert(alert.id)).justify_view_id === view.id, 'the form bound');
    // The form's own metadata (its key included) under another view id is still refused.
    const forged = await submission(ALICE, alert, `${view.id}X`, 'I was rotating the root password', view.privateMetadata);
    expect(forged.json).toMatchObject({ response_action: 'errors' });
    expect((await h.alert(alert.id)).status).toBe('asked');
    expect((await h.justify(ALICE, 'I was rotating the root password')).status).toBe(200);
    expect((await h.alert(alert.id)).status).toBe('verifying');
  });

  it('a repeated confirm opens no second form and changes nothing; after the hold a fresh form replaces the old', async () => {
    await start();
    const alert = await askedAlert(['cat', '/etc/shadow']);
    await h.click(ALICE, alert, 'vouch.confirm');
    const first = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    for (let i = 0; i < 5; i++) expect((await h.click(ALICE, alert, 'vouch.confirm')).status).toBe(200);
    await waitFor(
      () => h.slack.messages(alert.dm_channel as string).filter((m) => m.ephemeralTo && m.text.includes('already open')).length === 5,
      'five "already open" notes',
    );
    expect(h.slack.openViews(ALICE.slackId).map((v) => v.id)).toEqual([first.id]);
    expect((await h.alert(alert.id)).status).toBe('asked');

    // The person may have cancelled the form (Slack does not tell): after the hold, a new one.
    h.clock.advance(JUSTIFY_FORM_HOLD_MS + 1);
    await h.click(ALICE, alert, 'vouch.confirm');
    const second = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open && v.id !== first.id), 'a fresh form');
    await waitFor(async () => (await h.alert(alert.id)).justify_view_id === second.id, 'the fresh form bound');
    const stale = await h.slack.submitView({ userId: ALICE.slackId, viewId: first.id, values: { reason: 'I was rotating the root password' } });
    expect(stale.json).toMatchObject({ response_action: 'errors' });
    expect((await h.alert(alert.id)).status).toBe('asked');
    const fresh = await h.slack.submitView({ userId: ALICE.slackId, viewId: second.id, values: { reason: 'I was rotating the root password' } });
    expect(fresh.status).toBe(200);
    expect((await h.alert(alert.id)).status).toBe('verifying');
  });

  it('a form reserved by a replica that died before opening it holds seconds, not the whole hold', async () => {
    await start();
    const alert = await askedAlert(['cat', '/etc/shadow']);
    // What a replica killed between reserving the form and opening it leaves behind.
    await h.service.store.db
      .updateTable('alerts')
      .set({ justify_view_id: null, justify_view_user: ALICE.slackId, justify_opened_at: h.clock.now(), justify_form_key: 'reserved-by-a-dead-replica' })
      .where('id', '=', alert.id)
      .execute();
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.messages(alert.dm_channel as string).some((m) => m.ephemeralTo && m.text.includes('already open')), 'an "already open" note');
    expect(h.slack.openViews(ALICE.slackId)).toEqual([]);

    h.clock.advance(UNOPENED_FORM_HOLD_MS + 1);
    await h.click(ALICE, alert, 'vouch.confirm');
    const form = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'a form after the short hold');
    await waitFor(async () => (await h.alert(alert.id)).justify_view_id === form.id, 'the form bound');
    expect(UNOPENED_FORM_HOLD_MS).toBeLessThan(JUSTIFY_FORM_HOLD_MS);
    expect((await h.justify(ALICE, 'Checking the shadow file after a migration')).status).toBe(200);
    expect((await h.alert(alert.id)).status).toBe('verifying');
  });

  it('a confirm whose form cannot open (a replay with a dead trigger id) leaves the open form in force', async () => {
    await start();
    const alert = await askedAlert(['cat', '/etc/shadow']);
    await h.click(ALICE, alert, 'vouch.confirm');
    const form = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await waitFor(async () => (await h.alert(alert.id)).justify_view_id === form.id, 'the form bound');
    // Alice takes her time; past the hold, a captured click is replayed and Slack refuses its trigger.
    h.clock.advance(JUSTIFY_FORM_HOLD_MS + 1000);
    h.slack.failNext('views.open', 'expired_trigger_id');
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.calls('views.open').length === 2, 'the second views.open');
    await h.settle();
    // The replay reserved the form before Slack refused to open it; the click's handler binds the
    // open form again once the refusal is back, which the call log shows a moment before.
    await waitFor(async () => (await h.alert(alert.id)).justify_view_id !== null, 'the reservation released');
    expect(await h.alert(alert.id)).toMatchObject({ justify_view_id: form.id, justify_view_user: ALICE.slackId });
    const submitted = await h.slack.submitView({ userId: ALICE.slackId, viewId: form.id, values: { reason: 'Checking the shadow file after a migration' } });
    expect(submitted.status).toBe(200);
    expect((await h.alert(alert.id)).status).toBe('verifying');
  });

  it('an /auth answer with an empty txid escalates at once instead of waiting for a push nobody can follow', async () => {
    await start();
    duo!.rewrite = (path, _query, response) => (path === '/auth/v2/auth' ? { ...response, txid: '' } : response);
    const alert = await askedAlert(['cat', '/etc/shadow']);
    await confirmAndJustify(alert);
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalated');
    expect(await h.alert(alert.id)).toMatchObject({ escalation_reason: 'second_factor_failed', second_factor: 'error', push_txid: null });
    expect((await h.alert(alert.id)).escalation_detail).toContain('empty "txid"');
  });
});
