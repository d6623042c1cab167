import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import { scheduleJob } from '../../src/store/queries/jobs.js';
import { ALICE, Harness, waitFor } from './harness.js';

/**
 * Side effects once, as people see them, when Slack or Duo answers are lost, when a process dies
 * between a call and its commit, and when jobs keep failing.
 */
describe('conversations happen once and fail closed', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  async function askedAlert() {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert?.status).toBe('asked');
    return alert!;
  }

  it("posts one DM when Slack's answer to the post is lost: the message is found by its metadata", async () => {
    h.slack.loseResponseNext('chat.postMessage');
    const alert = await askedAlert();
    expect(h.dm(ALICE)).toHaveLength(1);
    expect(h.dm(ALICE)[0]?.metadata).toEqual({ event_type: 'vouch_question', event_payload: { alert_id: alert.id, round: 0 } });
    expect(alert.dm_ts).toBe(h.dm(ALICE)[0]?.ts);
  });

  it('a re-run after a post whose outcome it never saw adopts the message instead of posting again', async () => {
    // The post happens, its answer is lost, and the immediate look at the channel fails too: the
    // job fails, and its retry must find the message rather than post a second one.
    h.slack.loseResponseNext('chat.postMessage');
    h.slack.failNext('conversations.history', 'internal_error');
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [pending] = await h.alerts();
    expect(pending).toMatchObject({ status: 'new' });
    expect(pending?.dm_requested_at).toBeInstanceOf(Date);
    expect(h.dm(ALICE)).toHaveLength(1);
    await h.advance(5000);
    const alert = await h.alert(pending!.id);
    expect(alert).toMatchObject({ status: 'asked', dm_ts: h.dm(ALICE)[0]?.ts });
    expect(h.dm(ALICE)).toHaveLength(1);
  });

  it('an escalation post whose answer was lost is posted once', async () => {
    const alert = await askedAlert();
    h.slack.loseResponseNext('chat.postMessage');
    await h.click(ALICE, alert, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'the escalation');
    await h.settle();
    expect(h.security()).toHaveLength(1);
    expect((await h.alert(alert.id)).escalation_ts).toBe(h.security()[0]?.ts);
  });

  it('a DM that cannot be delivered escalates as delivery_failed through the channel, never stays new', async () => {
    h.slack.failNext('conversations.open', 'account_inactive', 1000);
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    for (let i = 0; i < 20; i += 1) await h.advance(5 * 60_000);
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'escalated', escalation_reason: 'delivery_failed' });
    expect(alert?.escalation_detail).toMatch(/could not send the question after 12 attempts: .*account_inactive/);
    expect(h.security()).toHaveLength(1);
    const trail = await auditTrailFor(h.service.store.db, alert!.id);
    expect(trail.map((step) => step.action)).toEqual(expect.arrayContaining(['job_failed', 'escalated', 'security_notified']));
    const metrics = await (await fetch(`${h.service.url}/metrics`)).text();
    expect(metrics).toMatch(/vouch_jobs_abandoned_total\{kind="ask"\} 1/);
    expect(metrics).toMatch(/vouch_job_failures_total\{kind="ask"\} 12/);
  });

  it('a job out of attempts whose escalation fails once escalates after its next run, with one job_failed step', async () => {
    h.slack.failNext('conversations.open', 'internal_error', 1000);
    // The database goes away for the first escalation only.
    const escalation = vi.spyOn(h.service.workflow, 'onJobExhausted').mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    for (let i = 0; i < 20; i += 1) await h.advance(5 * 60_000);
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'escalated', escalation_reason: 'delivery_failed' });
    expect(escalation).toHaveBeenCalledTimes(2);
    expect(h.security()).toHaveLength(1);
    const trail = (await auditTrailFor(h.service.store.db, alert!.id)).map((step) => step.action);
    expect(trail.filter((action) => action === 'job_failed')).toHaveLength(1);
    const metrics = await (await fetch(`${h.service.url}/metrics`)).text();
    expect(metrics).toMatch(/vouch_jobs_abandoned_total\{kind="ask"\} 1/);
    expect(metrics).toMatch(/vouch_job_failures_total\{kind="ask"\} 13/);
  });

  it('an approval made while no replica was polling is read after the deadline, never escalated as unanswered', async () => {
    const alert = await askedAlert();
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, 'Auditing password ages for the quarterly review');
    const push = await pushed;
    await h.service.runner.idle();
    await h.service.stop();
    // Down past the push's deadline; the person approved in time.
    h.duo.respond(push.txid, 'allow');
    h.clock.advance(120_000);
    await h.startService();
    await h.settle();
    expect(await h.alert(alert.id)).toMatchObject({ status: 'verified', second_factor: 'allow' });
    expect(h.duo.pushes()).toHaveLength(1);
  });

  it('a push whose /auth outcome was never recorded is not sent again until the first one would have expired, however late it reached Duo', async () => {
    const alert = await askedAlert();
    const db = h.service.store.db;
    // As if the process died inside the /auth round trip: intent recorded, txid never learnt.
    await db
      .updateTable('alerts')
      .set({ status: 'verifying', justification: 'Auditing password ages', answered_at: h.clock.now(), second_factor_user: 'alice', push_requested_at: h.clock.now() })
      .where('id', '=', alert.id)
      .execute();
    await scheduleJob(db, alert.id, 'push', h.clock.now());
    await h.settle();
    expect(h.duo.pushes()).toHaveLength(0);
    expect((await auditTrailFor(db, alert.id)).map((step) => step.action)).toContain('push_outcome_unknown');
    // The first push may have reached Duo up to two request timeouts (preauth, auth) after its
    // intent was recorded: its 90 s only end then.
    await h.advance(91_000);
    expect(h.duo.pushes()).toHaveLength(0);
    await h.advance(20_000);
    expect(h.duo.pushes()).toHaveLength(1);
    expect((await h.alert(alert.id)).push_txid).toBe(h.duo.pushes()[0]?.txid);
  });

  it('a Duo blip while polling does not escalate a live push', async () => {
    const alert = await askedAlert();
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, alert, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, 'Auditing password ages for the quarterly review');
    const push = await pushed;
    await h.service.runner.idle();
    h.duo.failNext(3, 503, 'upstream unavailable');
    for (let i = 0; i < 3; i += 1) await h.advance(1000);
    expect((await h.alert(alert.id)).status).toBe('verifying');
    h.duo.respond(push.txid, 'allow');
    await h.advance(1000);
    await waitFor(async () => (await h.alert(alert.id)).status === 'verified', 'verified');
  });
});
