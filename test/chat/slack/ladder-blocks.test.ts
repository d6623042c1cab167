import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../../src/alerts/alert.js';
import type { SlackMessage } from '../../../src/chat/slack/blocks.js';
import {
  announcementMessage,
  contactEndedMessage,
  contactMessage,
  outcomeReplyMessage,
  reminderEndedMessage,
} from '../../../src/chat/slack/ladder-blocks.js';
import { validateBlocks } from '../../../src/sandbox/slack-simulator.js';
import { alertView, textsOf } from './alert-fixture.js';

const HOSTILE = '<!channel> <!here> <@U123> <https://evil.example|safe> <script>x</script> ```\u0000\u001b[2J` &';

function hostileAlert(overrides: Partial<AlertView> = {}): AlertView {
  return alertView({
    command: `curl ${HOSTILE}`,
    host: `host${HOSTILE}`,
    owner: `alice${HOSTILE}`,
    ruleName: `rule${HOSTILE}`,
    justification: `because ${HOSTILE}`,
    secondFactor: `deny${HOSTILE}`,
    escalationDetail: `Duo said ${HOSTILE}`,
    status: 'escalated',
    escalationReason: 'second_factor_failed',
    ...overrides,
  });
}

function allMessages(alert: AlertView): Array<[string, SlackMessage]> {
  return [
    ['reminder ended', reminderEndedMessage(alert)],
    ['contact (manager)', contactMessage(alert, { chatUserId: 'UBOB' }, 2 * 3_600_000)],
    ['contact (group)', contactMessage(alert, { userGroupId: 'S0ONCALL' }, 2 * 3_600_000)],
    ['contact ended', contactEndedMessage(alert)],
    ['announcement', announcementMessage(alert)],
    ['outcome reply', outcomeReplyMessage(alert)],
  ];
}

/** mrkdwn with our own markup (the group mention, date tokens) removed: nothing else may use < or >. */
function strayMarkup(text: string): string[] {
  return text.replace('<!subteam^S0ONCALL>', '').match(/[<>]/g) ?? [];
}

describe('ladder messages', () => {
  it.each(allMessages(hostileAlert()))('%s: no live mentions, links, or control bytes; valid Block Kit', (_name, message) => {
    expect(strayMarkup(message.text)).toEqual([]);
    for (const { type, text, path } of textsOf(message.blocks)) {
      expect(text, path).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
      if (type === 'mrkdwn') expect(strayMarkup(text), `${path}: ${text}`).toEqual([]);
    }
    expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
  });

  it('a huge command still renders within Slack limits', () => {
    for (const [, message] of allMessages(hostileAlert({ command: 'x'.repeat(1024 * 1024) }))) {
      expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
    }
  });

  it('the contact message mentions only the configured group, and says how long in words', () => {
    const text = JSON.stringify(contactMessage(alertView({ status: 'asked' }), { userGroupId: 'S0ONCALL' }, 100 * 60_000).blocks);
    expect(text).toContain('<!subteam^S0ONCALL>');
    expect(text).toContain('1 hour 40 minutes');
    expect(JSON.stringify(contactMessage(alertView({ status: 'asked' }), { chatUserId: 'UBOB' }, 60_000).blocks)).not.toContain('subteam');
  });

  it('a reminder says whether the question ended or was answered', () => {
    expect(JSON.stringify(reminderEndedMessage(alertView({ status: 'verifying' })).blocks)).toContain('You answered this question');
    expect(JSON.stringify(reminderEndedMessage(alertView({ status: 'verified' })).blocks)).toContain('This question has ended: Verified');
  });
});
