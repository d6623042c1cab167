import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleSessionStore } from '../../src/review/console/console-session-store.js';
import { auditTrailFor, verifyAuditTrail } from '../../src/store/queries/audit-trail.js';
import { ALICE, BOB, EVE, Harness, messageText, waitFor } from './harness.js';

describe('the verification flow, end to end over HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start({ config: ['review: { admins: [erin@example.com] }'] });
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Headers of a console session of erin, an admin, as a sign-in at the company's SSO would start it. */
  async function adminHeaders(): Promise<Record<string, string>> {
    const { sessionIdleMs, sessionMaxAgeMs } = h.config.review;
    const sessions = new ConsoleSessionStore({ db: h.service.store.db, clock: h.clock, idleMs: sessionIdleMs, maxAgeMs: sessionMaxAgeMs });
    const { id, csrfToken } = await sessions.create({ actor: 'erin@example.com', name: 'Erin Admin', groups: [] });
    return { cookie: `vouch_session=${id}`, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
  }

  async function askedAlert() {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'asked', owner: 'alice', rule_id: expect.any(String), chat_user_id: ALICE.slackId });
    return alert!;
  }

  async function justify(reason = 'Rotating the root password after the incident drill') {
    const alert = await askedAlert();
    const pushed = h.duo.nextPush('alice');
    expect((await h.click(ALICE, alert, 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the justification form');
    const submitted = await h.justify(ALICE, reason);
    expect(submitted.status).toBe(200);
    return { alert, pushed };
  }

  it('confirm, reason, Duo allow: verified, and the DM shows it', async () => {
    const { alert, pushed } = await justify();
    const push = await pushed;
    expect(push.pushinfo).toMatchObject({ host: 'db-1', command: 'cat /etc/shadow' });
    h.duo.respond(push.txid, 'allow');
    await waitFor(async () => (await h.alert(alert.id)).status === 'verified', 'verified');
    await h.settle();
    const done = await h.alert(alert.id);
    expect(done).toMatchObject({ status: 'verified', second_factor: 'allow', justification: 'Rotating the root password after the incident drill' });
    expect(done.resolved_at).not.toBeNull();
    const [question] = h.dm(ALICE);
    expect(question!.edits.length).toBeGreaterThan(0);
    expect(JSON.stringify(question!.blocks)).not.toContain('vouch.confirm');
    expect(h.security()).toEqual([]);
    const trail = (await auditTrailFor(h.service.store.db, alert.id)).map((step) => step.action);
    expect(trail).toEqual(expect.arrayContaining(['created', 'asked', 'confirm_clicked', 'justified', 'push_sent', 'verified']));
    expect((await verifyAuditTrail(h.service.store.db)).ok).toBe(true);
  });

  it('"no, not me": escalated at once with a security-channel post', async () => {
    const alert = await askedAlert();
    await h.click(ALICE, alert, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    await h.settle();
    expect(await h.alert(alert.id)).toMatchObject({ escalation_reason: 'denied_by_user', escalation_channel: 'C0SECURITY' });
    const [post] = h.security();
    expect(messageText(post!)).toContain('cat /etc/shadow');
    expect(messageText(post!)).toContain('alice');
    expect(h.duo.pushes()).toEqual([]);
  });

  it('silence: one reminder after remind_after, escalation after escalate_after', async () => {
    const alert = await askedAlert();
    await h.advance(29 * 60_000);
    expect(h.dm(ALICE)).toHaveLength(1);
    await h.advance(2 * 60_000);
    expect(h.dm(ALICE)).toHaveLength(2);
    expect((await h.alert(alert.id)).reminded_at).not.toBeNull();
    await h.advance(60 * 60_000);
    expect(h.dm(ALICE)).toHaveLength(2);
    expect((await h.alert(alert.id)).status).toBe('asked');
    await h.advance(30 * 60_000);
    expect(await h.alert(alert.id)).toMatchObject({ status: 'escalated', escalation_reason: 'no_response' });
    expect(h.security()).toHaveLength(1);
    await h.advance(5 * 3_600_000);
    expect(h.dm(ALICE)).toHaveLength(2);
    expect(h.security()).toHaveLength(1);
  });

  it('Duo deny: escalated as second_factor_failed', async () => {
    const { alert, pushed } = await justify();
    h.duo.respond((await pushed).txid, 'deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    await h.settle();
    expect(await h.alert(alert.id)).toMatchObject({ escalation_reason: 'second_factor_failed', second_factor: 'deny' });
    expect(h.security()).toHaveLength(1);
  });

  it('Duo fraud report: escalated, never verified', async () => {
    const { alert, pushed } = await justify();
    h.duo.respond((await pushed).txid, 'fraud');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    expect(await h.alert(alert.id)).toMatchObject({ escalation_reason: 'fraud_reported', second_factor: 'fraud' });
  });

  it('Duo unreachable: escalated (fail closed)', async () => {
    const alert = await askedAlert();
    h.duo.failNext(10, 503, 'upstream unavailable');
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, 'Checking the shadow file after a migration');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    await h.settle();
    const row = await h.alert(alert.id);
    expect(row).toMatchObject({ escalation_reason: 'second_factor_failed', second_factor: 'error' });
    expect(row.escalation_detail).toMatch(/Duo unreachable/);
    expect(h.security()).toHaveLength(1);
  });

  it('an unanswered push escalates when push_timeout passes', async () => {
    const { alert, pushed } = await justify();
    await pushed;
    await h.service.runner.idle();
    await h.advance(91_000);
    expect(await h.alert(alert.id)).toMatchObject({ status: 'escalated', escalation_reason: 'second_factor_failed', second_factor: 'timeout' });
  });

  it('rejects forged, stale and future-dated Slack signatures with 401 and changes nothing', async () => {
    const alert = await askedAlert();
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: ALICE.slackId, username: 'alice', team_id: 'T0' },
      team: { id: 'T0' },
      trigger_id: 'forged',
      channel: { id: alert.dm_channel },
      message: { ts: alert.dm_ts },
      container: { type: 'message', channel_id: alert.dm_channel, message_ts: alert.dm_ts },
      actions: [{ type: 'button', action_id: 'vouch.deny', block_id: 'b', value: alert.id, action_ts: '1' }],
    });
    const body = `payload=${encodeURIComponent(payload)}`;
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const forged = await h.slack.sendSigned(body, { secret: 'not-the-secret' });
    const stale = await h.slack.sendSigned(body, { timestamp: now - 301 });
    const future = await h.slack.sendSigned(body, { timestamp: now + 301 });
    const unsigned = await h.slack.sendSigned(body, { signature: '' });
    expect([forged.status, stale.status, future.status, unsigned.status]).toEqual([401, 401, 401, 401]);
    await h.settle();
    expect((await h.alert(alert.id)).status).toBe('asked');
    // The same payload, properly signed, does act: the refusals above were about the signatures.
    expect((await h.slack.sendSigned(body)).status).toBe(200);
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'the signed request to act');
  });

  it("ignores another user's click and submission", async () => {
    const alert = await askedAlert();
    expect((await h.click(BOB, alert, 'vouch.deny')).status).toBe(200);
    expect((await h.click(EVE, alert, 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.messages(alert.dm_channel as string).filter((m) => m.ephemeralTo).length === 2, 'the two "not yours" notes');
    await h.settle();
    expect((await h.alert(alert.id)).status).toBe('asked');
    expect(h.slack.openViews(EVE.slackId)).toEqual([]);
    // A forged submission naming alice's alert from bob's account is refused too.
    await h.click(ALICE, alert, 'vouch.confirm');
    const view = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    const forgedSubmission = {
      type: 'view_submission',
      user: { id: BOB.slackId, username: 'bob', team_id: 'T0' },
      team: { id: 'T0' },
      trigger_id: 't',
      view: {
        id: view.id,
        callback_id: 'vouch.justify',
        private_metadata: view.privateMetadata,
        hash: view.hash,
        state: { values: { 'vouch.reason': { reason: { type: 'plain_text_input', value: 'I am totally alice, trust me' } } } },
      },
    };
    const foreign = await h.slack.sendSigned(`payload=${encodeURIComponent(JSON.stringify(forgedSubmission))}`);
    expect(foreign.status).toBe(200);
    expect(JSON.stringify(foreign.json)).toContain('errors');
    expect((await h.alert(alert.id)).status).toBe('asked');
    const trail = (await auditTrailFor(h.service.store.db, alert.id)).map((s) => s.action);
    expect(trail.filter((a) => a === 'foreign_answer_ignored').length).toBeGreaterThanOrEqual(3);
  });

  it('asks for a real reason before pushing', async () => {
    const alert = await askedAlert();
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    const short = await h.justify(ALICE, 'ok');
    expect(short.json).toMatchObject({ response_action: 'errors' });
    expect((await h.alert(alert.id)).status).toBe('asked');
    expect(h.duo.pushes()).toEqual([]);
  });

  it('renders hostile command text harmlessly and within Slack limits', async () => {
    const hostile = ['cat', '/etc/shadow', '<!channel> <@U123> <!here> <https://evil.example|click> <script>alert(1)</script> \u0007\u001b[2J', 'A'.repeat(100 * 1024)];
    h.runCommand(ALICE, hostile);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert?.status).toBe('asked');
    const [question] = h.dm(ALICE);
    const call = h.slack.calls('chat.postMessage').at(-1)!;
    expect(call.status).toBe(200);
    expect(call.response.ok).toBe(true);
    const shown = messageText(question!);
    for (const injected of ['<!channel>', '<@U123>', '<!here>', '<https://evil.example|click>', '<script>']) expect(shown).not.toContain(injected);
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).not.toMatch(/[\u0007\u001b]/);
    expect(question!.text.length).toBeLessThanOrEqual(4000);
    await h.click(ALICE, alert!, 'vouch.deny');
    await waitFor(() => h.security().length === 1, 'the security post');
    const post = messageText(h.security()[0]!);
    expect(post).not.toContain('<!channel>');
    expect(h.slack.calls('chat.postMessage').every((c) => c.response.ok === true)).toBe(true);
  });

  it('escalates a command whose owner has no Slack account as unknown_owner', async () => {
    h.runCommand({ login: 'mallory', uid: 1666, slackId: 'none' }, ['nc', '-lvnp', '4444']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'escalated', escalation_reason: 'unknown_owner' });
    expect(alert?.escalation_detail).toContain('mallory@example.com');
    expect(h.security()).toHaveLength(1);
  });

  it('asks once about a repeated command and counts the repeats', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.occurrences).toBe(3);
    expect(h.dm(ALICE)).toHaveLength(1);
  });

  it('resumes after a restart: a pending reminder still fires, a pending push is polled again, nothing is sent twice', async () => {
    const first = await askedAlert();
    h.runCommand(BOB, ['tcpdump', '-i', 'eth0']);
    await h.settle();
    const bobAlert = (await h.alerts()).find((a) => a.owner === 'bob')!;
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, first, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, 'Auditing password ages for the quarterly review');
    const push = await pushed;
    await h.service.runner.idle();
    await h.restart();
    expect(h.dm(ALICE)).toHaveLength(1);
    expect(h.dm(BOB)).toHaveLength(1);
    // Alice approves while the service is down; the new process polls the same push and sees it.
    h.duo.respond(push.txid, 'allow');
    await h.advance(1000);
    await waitFor(async () => (await h.alert(first.id)).status === 'verified', 'the resumed push');
    expect(h.duo.pushes()).toHaveLength(1);
    await h.advance(31 * 60_000);
    expect(h.dm(BOB)).toHaveLength(2);
    expect((await h.alert(bobAlert.id)).reminded_at).not.toBeNull();
    expect(h.dm(ALICE)).toHaveLength(1);
    // The audit log is not read twice either.
    await h.restart();
    await h.settle();
    expect(await h.alerts()).toHaveLength(2);
  });

  it('serves the review API: report rows, one alert with its trail, and marking a finished alert reviewed', async () => {
    const alert = await askedAlert();
    const api = (path: string, init: RequestInit = {}, token = h.service.reviewToken) =>
      fetch(`${h.service.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    expect((await api('/api/alerts', {}, 'wrong-token')).status).toBe(401);
    expect((await fetch(`${h.service.url}/api/alerts`)).status).toBe(401);
    const rows = (await (await api('/api/alerts?status=asked')).json()) as Array<{ id: string }>;
    expect(rows.map((row) => row.id)).toEqual([alert.id]);
    expect((await api('/api/alerts?status=bogus')).status).toBe(400);
    const review = (body: unknown) => api(`/api/alerts/${alert.id}/review`, { method: 'POST', body: JSON.stringify(body) });
    expect((await review({ reviewer: 'dana' })).status).toBe(409);
    await h.click(ALICE, alert, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'escalation');
    expect((await review({ note: 42 })).status).toBe(400);
    expect((await api(`/api/alerts/${alert.id}/review`, { method: 'POST', body: '{not json' })).status).toBe(400);
    // A reviewer named in the body is ignored: the review is the shared token's, and says so.
    const reviewed = await review({ reviewer: 'dana', note: 'Confirmed with alice by phone: a test account.' });
    expect(reviewed.status).toBe(200);
    expect(await reviewed.json()).toMatchObject({ reviewed_by: 'token:review.token', review_note: 'Confirmed with alice by phone: a test account.', status: 'escalated' });
    const detail = (await (await api(`/api/alerts/${alert.id}`)).json()) as { trail: Array<{ action: string; actor: string }> };
    // The security-channel post may land before or after the review: look the step up.
    expect(detail.trail.find((step) => step.action === 'reviewed')).toMatchObject({ actor: 'token:review.token' });
    expect((await api('/api/alerts/al_missing')).status).toBe(404);
    expect((await verifyAuditTrail(h.service.store.db)).ok).toBe(true);
  });

  it('suppressions: a matching command is recorded as suppressed and nobody is asked, until the suppression is revoked', async () => {
    const api = (path: string, init: RequestInit = {}, token = h.service.reviewToken) =>
      fetch(`${h.service.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const admin = await adminHeaders();
    const post = (path: string, body: unknown) => fetch(`${h.service.url}${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    const spec = { created_by: 'dana', reason: 'Password migration by alice this week', for: '7d', command: 'cat /etc/shadow', user: 'alice', host: 'db-*' };
    expect((await api('/api/suppressions', { method: 'POST', body: JSON.stringify(spec) }, 'wrong-token')).status).toBe(401);
    // The shared review token is a machine: it reads suppressions but never manages them.
    expect((await api('/api/suppressions', { method: 'POST', body: JSON.stringify(spec) })).status).toBe(403);
    expect((await post('/api/suppressions', { ...spec, command: undefined })).status).toBe(400);
    expect((await post('/api/suppressions', { ...spec, for: '365d' })).status).toBe(400);
    const created = await post('/api/suppressions', spec);
    expect(created.status).toBe(201);
    const suppression = (await created.json()) as { id: string; expires_at: string };
    // created_by in the body is ignored: the caller's identity is recorded.
    expect(suppression).toMatchObject({ user: 'alice', host: 'db-*', command: 'cat /etc/shadow', created_by: 'erin@example.com', revoked_at: null });
    expect(suppression.expires_at).toBe(new Date(h.clock.now().getTime() + 7 * 86_400_000).toISOString());

    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    const [mine, bobs] = await h.alerts();
    expect(mine).toMatchObject({ owner: 'alice', status: 'suppressed', dm_ts: null });
    expect(mine!.resolved_at).not.toBeNull();
    expect(bobs).toMatchObject({ owner: 'bob', status: 'asked' });
    expect(h.dm(ALICE)).toHaveLength(0);
    const trail = await auditTrailFor(h.service.store.db, mine!.id);
    expect(trail.map((step) => step.action)).toEqual(['created', 'suppressed']);
    expect(trail[1]!.detail).toMatchObject({ suppression: suppression.id, by: 'erin@example.com', reason: 'Password migration by alice this week' });
    const report = (await (await api('/api/alerts?status=suppressed')).json()) as Array<{ id: string }>;
    expect(report.map((row) => row.id)).toEqual([mine!.id]);

    const live = (await (await api('/api/suppressions')).json()) as Array<{ id: string }>;
    expect(live.map((row) => row.id)).toEqual([suppression.id]);
    expect((await api(`/api/suppressions/${suppression.id}/revoke`, { method: 'POST', body: '{}' })).status).toBe(403);
    const revoked = await post(`/api/suppressions/${suppression.id}/revoke`, { revoked_by: 'dana' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ id: suppression.id, revoked_by: 'erin@example.com' });
    expect((await post(`/api/suppressions/${suppression.id}/revoke`, { revoked_by: 'dana' })).status).toBe(409);
    expect((await post('/api/suppressions/sp_missing/revoke', { revoked_by: 'dana' })).status).toBe(404);
    expect(await (await api('/api/suppressions')).json()).toEqual([]);
    expect(((await (await api('/api/suppressions?all=1')).json()) as unknown[]).length).toBe(1);

    // Revoked: the same command is asked about again.
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const latest = (await h.alerts()).at(-1);
    expect(latest).toMatchObject({ owner: 'alice', status: 'asked' });
    expect(h.dm(ALICE)).toHaveLength(1);
    expect((await verifyAuditTrail(h.service.store.db)).ok).toBe(true);
  });

  it('suppressions expire on their own', async () => {
    const response = await fetch(`${h.service.url}/api/suppressions`, {
      method: 'POST',
      headers: await adminHeaders(),
      body: JSON.stringify({ created_by: 'dana', reason: 'Maintenance window', for: '2h', rule: (await askedAlert()).rule_id }),
    });
    expect(response.status).toBe(201);
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    expect((await h.alerts()).at(-1)).toMatchObject({ owner: 'bob', status: 'suppressed' });
    await h.advance(2 * 3_600_000 + 1000);
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    expect((await h.alerts()).at(-1)).toMatchObject({ owner: 'bob', status: 'asked' });
  });

  it('answers /vouch with the caller\'s open alerts', async () => {
    await askedAlert();
    const reply = await h.slack.slashCommand({ userId: ALICE.slackId, command: '/vouch', text: '' });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('1 alert');
    const other = await h.slack.slashCommand({ userId: BOB.slackId, command: '/vouch', text: '' });
    expect(other.body).toContain('Nothing is waiting');
  });
});
