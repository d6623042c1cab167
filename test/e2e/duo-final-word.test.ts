import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINAL_WORD_GRACE_MS } from '../../src/workflow/workflow.js';
import { ALICE, Harness, waitFor } from './harness.js';

/**
 * Past a push's deadline Duo still has the last word: an approval made while no replica polled
 * is never lost to a Duo that is briefly unreachable when it is finally asked.
 */
describe("Duo's final word on a push", { timeout: 90_000 }, () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  /** A push sent, then the service down past its deadline while the person approves (or not). */
  async function pushedThenDown(approve: boolean): Promise<string> {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, alert!, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, 'Auditing password ages for the quarterly review');
    const push = await pushed;
    await h.service.runner.idle();
    await h.service.stop();
    if (approve) h.duo.respond(push.txid, 'allow');
    h.clock.advance(120_000);
    return alert!.id;
  }

  it('an approval is read after a Duo error at the first look past the deadline', async () => {
    const id = await pushedThenDown(true);
    h.duo.failNext(2, 503, 'upstream unavailable');
    await h.startService();
    await h.settle();
    for (let i = 0; i < 5 && (await h.alert(id)).status === 'verifying'; i++) await h.advance(5000);
    expect(await h.alert(id)).toMatchObject({ status: 'verified', second_factor: 'allow' });
    expect(h.duo.pushes()).toHaveLength(1);
  });

  it('an approval is read after Duo stalls once at the first look past the deadline', async () => {
    const id = await pushedThenDown(true);
    h.duo.hangNext(1);
    await h.startService();
    await h.settle();
    for (let i = 0; i < 5 && (await h.alert(id)).status === 'verifying'; i++) await h.advance(5000);
    expect(await h.alert(id)).toMatchObject({ status: 'verified', second_factor: 'allow' });
  });

  it('a push nobody answered still escalates as not answered in time, at once', async () => {
    const id = await pushedThenDown(false);
    await h.startService();
    await h.settle();
    expect(await h.alert(id)).toMatchObject({ status: 'escalated', second_factor: 'timeout' });
  });

  it('a Duo that stays away past the grace escalates as a second-factor error, never as unanswered', async () => {
    const id = await pushedThenDown(false);
    h.duo.failNext(10_000, 503, 'upstream unavailable');
    await h.startService();
    await h.settle();
    expect((await h.alert(id)).status).toBe('verifying');
    for (let waited = 0; waited <= FINAL_WORD_GRACE_MS && (await h.alert(id)).status === 'verifying'; waited += 30_000) await h.advance(30_000);
    expect(await h.alert(id)).toMatchObject({ status: 'escalated', escalation_reason: 'second_factor_failed', second_factor: 'error' });
    expect((await h.alert(id)).escalation_detail).toMatch(/^Duo unreachable/);
  });
});
