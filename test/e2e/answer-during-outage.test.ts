import { afterEach, describe, expect, it } from 'vitest';
import { ANSWER_NOT_RECORDED } from '../../src/workflow/workflow.js';
import { ALICE, Harness, messageText, waitFor } from './harness.js';

/**
 * A click Slack was already told about (the ack comes first, within Slack's 3 s) whose handling
 * then fails must not vanish: the person is told nothing was recorded and to click again.
 */
describe('an answer while the database is unreachable', { timeout: 90_000 }, () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it.each(['vouch.deny', 'vouch.confirm'] as const)('tells the person a %s click was not recorded', async (actionId) => {
    h = await new Harness().start();
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'asked' });
    // The service's database goes away: every query now fails.
    await h.service.store.close();
    const answer = await h.click(ALICE, alert!, actionId);
    expect(answer.status).toBe(200);
    const channel = alert!.dm_channel as string;
    const notice = await waitFor(
      () => h.slack.messages(channel).find((m) => m.ephemeralTo === ALICE.slackId && messageText(m).includes(ANSWER_NOT_RECORDED)),
      'the not-recorded notice',
    );
    expect(notice).toBeDefined();
  });
});
