import { afterEach, describe, expect, it } from 'vitest';
import { alertShortCode } from '../../src/alerts/short-code.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import type { AlertRow } from '../../src/store/schema.js';
import { ALICE, BOB, Harness, messageText, waitFor } from './harness.js';

/** "Report fraud" pauses pushes until a reviewer resumes them; pushes are rate-limited per person. */
// Generous: booting the embedded database on a loaded machine can take most of the default.
describe('second-factor hygiene, end to end over HTTP', { timeout: 90_000 }, () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  /**
   * One new question for `person`: a command on a host of its own with a program of its own, so
   * it starts a conversation instead of joining an earlier one (same session or command shape).
   */
  async function askedAlert(person = ALICE, argv = ['cat', '/etc/shadow'], host = 'db-1'): Promise<AlertRow> {
    const before = new Set((await h.alerts()).map((row) => row.id));
    h.runCommand(person, argv, { host });
    await h.settle();
    const alert = (await h.alerts()).find((row) => !before.has(row.id));
    expect(alert).toMatchObject({ owner: person.login, status: 'asked' });
    return alert!;
  }

  async function confirmAndJustify(alert: AlertRow, person = ALICE): Promise<void> {
    await h.click(person, alert, 'vouch.confirm');
    const view = await waitFor(() => h.slack.openViews(person.slackId).find((v) => v.open && v.privateMetadata.includes(alert.id)), 'the form');
    const answer = await h.slack.submitView({ userId: person.slackId, viewId: view.id, values: { reason: 'Rotating credentials for the quarterly drill' } });
    expect(answer.status).toBe(200);
  }

  function api(path: string, body?: unknown, token = h.service.reviewToken) {
    return fetch(`${h.service.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it('"Report fraud" escalates as fraud_reported, loudly, and pauses pushes to that person until a reviewer resumes them', async () => {
    h = await new Harness().start({ duoLongPollMs: 100 });
    const first = await askedAlert();
    const pushed = h.duo.nextPush('alice');
    await confirmAndJustify(first!);
    h.duo.respond((await pushed).txid, 'fraud');
    await waitFor(async () => (await h.alert(first!.id)).escalation_ts !== null, 'the security post');
    expect(await h.alert(first!.id)).toMatchObject({ status: 'escalated', escalation_reason: 'fraud_reported', second_factor: 'fraud' });
    const [post] = h.security();
    expect(post!.text).toMatch(/^FRAUD REPORTED/);
    expect(JSON.stringify(post!.blocks[0])).toMatch(/"type":"header".*FRAUD REPORTED/);
    const [reported] = (await (await api('/api/alerts?status=escalated')).json()) as Array<Record<string, unknown>>;
    expect(reported).toMatchObject({ id: first!.id, escalation_reason: 'fraud_reported', second_factor: 'fraud' });

    // The next alert of the same person is not pushed: it escalates at once.
    const second = await askedAlert(ALICE, ['head', '/etc/gshadow'], 'db-2');
    await confirmAndJustify(second!);
    await waitFor(async () => (await h.alert(second!.id)).status === 'escalated', 'the paused escalation');
    const paused = await h.alert(second!.id);
    expect(paused).toMatchObject({ escalation_reason: 'second_factor_paused', second_factor: 'paused' });
    expect(paused.escalation_detail).toContain('/api/people/alice/second-factor/resume');
    expect(h.duo.pushes()).toHaveLength(1);
    // Someone else is not affected.
    const bobs = await askedAlert(BOB, ['cat', '/etc/shadow'], 'db-3');
    const bobPushed = h.duo.nextPush('bob');
    await confirmAndJustify(bobs!, BOB);
    await bobPushed;

    // Only a reviewer, through the review API, resumes pushes.
    expect((await api('/api/second-factor/pauses', undefined, 'not-the-token')).status).toBe(401);
    expect((await api('/api/people/alice/second-factor/resume', { resumed_by: 'dana' }, 'not-the-token')).status).toBe(401);
    expect((await api('/api/people/alice/second-factor/resume', { note: 42 })).status).toBe(400);
    expect((await api('/api/people/carol/second-factor/resume', { resumed_by: 'dana' })).status).toBe(404);
    expect(await (await api('/api/second-factor/pauses')).json()).toMatchObject([{ username: 'alice', login: 'alice', alert_id: first!.id, reason: 'fraud_reported' }]);
    const resumed = await api('/api/people/alice/second-factor/resume', { resumed_by: 'dana', note: 'Phone replaced; spoke to alice' });
    expect(resumed.status).toBe(200);
    // Who resumed is the caller's identity, whatever the body claims.
    const [pause] = (await resumed.json()) as Array<{ username: string; resumed_by: string; resume_note: string }>;
    expect(pause).toMatchObject({ username: 'alice', resume_note: 'Phone replaced; spoke to alice' });
    expect(pause!.resumed_by).not.toBe('dana');
    expect(pause!.resumed_by).toBe((await (await api('/api/me')).json() as { actor: string }).actor);
    expect(await (await api('/api/second-factor/pauses')).json()).toEqual([]);
    expect((await auditTrailFor(h.service.store.db, first!.id)).map((s) => s.action)).toContain('second_factor_resumed');

    const third = await askedAlert(ALICE, ['tail', '/etc/shadow'], 'db-4');
    const resumedPush = h.duo.nextPush('alice');
    await confirmAndJustify(third!);
    h.duo.respond((await resumedPush).txid, 'allow');
    await waitFor(async () => (await h.alert(third!.id)).status === 'verified', 'verified after resuming');
  });

  it('pushes are rate-limited per person: over the limit a push waits, then goes out when the window has room', async () => {
    h = await new Harness().start({ duoLongPollMs: 100, config: ['duo: { max_pushes_per_person: 2, push_rate_window: 10m }'] });
    // One question at a time per person: each conversation is answered and approved in turn.
    const programs = ['cat', 'head', 'tail'];
    const alerts: AlertRow[] = [];
    for (const [i, program] of programs.entries()) {
      const alert = await askedAlert(ALICE, [program, '/etc/shadow'], `db-${i + 1}`);
      alerts.push(alert);
      await confirmAndJustify(alert);
      await h.settle();
      for (const push of h.duo.pendingPushes()) h.duo.respond(push.txid, 'allow');
      await h.advance(1000);
    }
    // Two pushes within the window; the third is not sent, and its alert waits (not escalated).
    expect(h.duo.pushes()).toHaveLength(2);
    const statuses = async () => (await Promise.all(alerts.map((a) => h.alert(a.id)))).map((row) => row.status);
    expect(await statuses()).toEqual(['verified', 'verified', 'verifying']);
    expect((await h.alert(alerts[2]!.id)).push_txid).toBeNull();
    await h.advance(5 * 60_000);
    expect(h.duo.pushes()).toHaveLength(2);
    await h.advance(5 * 60_000);
    expect(h.duo.pushes()).toHaveLength(3);
    for (const push of h.duo.pendingPushes()) h.duo.respond(push.txid, 'allow');
    await h.advance(1000);
    expect(await statuses()).toEqual(['verified', 'verified', 'verified']);
  });

  it('the DM and the Duo push show the same short code', async () => {
    h = await new Harness().start({ duoLongPollMs: 100 });
    const alert = await askedAlert();
    const code = alertShortCode(alert!.id);
    expect(code).toMatch(/^[ACDEFHJKMNPRTWXY3479]{4}$/);
    const [question] = h.dm(ALICE);
    expect(messageText(question!)).toContain(`Code *${code}*`);
    const pushed = h.duo.nextPush('alice');
    await confirmAndJustify(alert!);
    expect((await pushed).pushinfo).toMatchObject({ code });
  });
});
