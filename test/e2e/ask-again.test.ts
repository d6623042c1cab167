import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askAgain } from '../../src/review/console/alert-actions.js';
import { DEMO_IDENTITIES } from '../review/console/fake-console-auth.js';
import { ALICE, Harness, waitFor } from './harness.js';

/**
 * "Ask again" from the review console: the owner gets a new question with buttons, answers it
 * and verifies with a new push, as for any question. The round before must not stand in for it.
 */
describe('asking again after an answer', { timeout: 90_000 }, () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const askAgainAsDana = (alertId: string) => askAgain({ db: h.service.store.db, clock: h.clock, identity: DEMO_IDENTITIES.dana! }, alertId);

  it('posts a new question after "not me", and its answer verifies the alert', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    await h.settle();
    const postsBefore = h.security().length;

    await askAgainAsDana(first!.id);
    await h.settle();
    const again = await h.alert(first!.id);
    expect(again).toMatchObject({ status: 'asked', justification: null, escalation_reason: null });
    expect([again.dm_channel, again.dm_ts]).not.toEqual([first!.dm_channel, first!.dm_ts]);
    const dms = h.dm(ALICE);
    expect(dms).toHaveLength(2);
    expect(JSON.stringify(dms[1]!.blocks)).toContain('vouch.confirm');

    const pushed = h.duo.nextPush('alice');
    expect((await h.click(ALICE, again, 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the justification form');
    expect((await h.justify(ALICE, 'It was me after all: restoring a backup')).status).toBe(200);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(first!.id)).status === 'verified', 'verified');
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ status: 'verified', justification: 'It was me after all: restoring a backup' });
    expect(h.security().length).toBe(postsBefore);
  });

  it('waits for the owner\'s other open question before asking again', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    // Elsewhere, so it is a conversation of its own.
    h.runCommand(ALICE, ['nc', '-lvnp', '4444'], { host: 'web-2' });
    await h.settle();
    const second = (await h.alerts()).find((row) => row.id !== first!.id)!;
    expect(second.status).toBe('asked');

    await askAgainAsDana(first!.id);
    await h.settle();
    expect((await h.alert(first!.id)).status).toBe('new');
    await h.click(ALICE, await h.alert(second.id), 'vouch.deny');
    await waitFor(async () => (await h.alert(second.id)).status === 'escalated', 'the other answered');
    await h.settle();
    expect((await h.alert(first!.id)).status).toBe('asked');
  });
});
