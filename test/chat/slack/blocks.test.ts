import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../../src/alerts/alert.js';
import {
  CONFIRM_ACTION_ID,
  DENY_ACTION_ID,
  JUSTIFY_CALLBACK_ID,
  REASON_ACTION_ID,
  escalationMessage,
  justificationModal,
  outcomeMessage,
  ownerStatusText,
  parseJustifyMetadata,
  questionMessage,
  reminderMessage,
  type SlackMessage,
} from '../../../src/chat/slack/blocks.js';
import { alertShortCode } from '../../../src/alerts/short-code.js';
import { validateBlocks, validateModal } from '../../../src/sandbox/slack-simulator.js';
import { alertView, textsOf } from './alert-fixture.js';

const HOSTILE = '<!channel> <!here> <@U123> <https://evil.example|safe> <script>x</script> ```\u0000\u001b[2J` &';

function hostileAlert(overrides: Partial<AlertView> = {}): AlertView {
  return alertView({
    command: `curl ${HOSTILE}`,
    host: `host${HOSTILE}`,
    owner: `alice${HOSTILE}`,
    runAs: `root${HOSTILE}`,
    cwd: `/tmp/${HOSTILE}`,
    ruleName: `rule${HOSTILE}`,
    attack: ['T1003.008', `T9999${HOSTILE}`],
    justification: `because ${HOSTILE}\nsecond line <!everyone>`,
    secondFactor: `deny${HOSTILE}`,
    escalationDetail: `Duo said ${HOSTILE}`,
    status: 'escalated',
    escalationReason: 'second_factor_failed',
    occurrences: 3,
    ...overrides,
  });
}

function allMessages(alert: AlertView): Array<[string, SlackMessage]> {
  return [
    ['question', questionMessage(alert)],
    ['reminder', reminderMessage(alert)],
    ['outcome', outcomeMessage(alert)],
    ['escalation', escalationMessage(alert)],
  ];
}

/** mrkdwn with our own markup (quotes, date tokens, MITRE links) removed: nothing else may use < or >. */
function strayMarkup(text: string): string[] {
  const withoutOwn = text
    .replace(/(^|\n)>/g, '$1')
    .replace(/<!date\^\d+\^\{date_short_pretty\} at \{time_secs\}\|[0-9T:.Z-]+>/g, '')
    .replace(/<https:\/\/attack\.mitre\.org\/techniques\/T\d{4}(?:\/\d{3})?\/\|T\d{4}(?:\.\d{3})?>/g, '');
  return withoutOwn.match(/[<>]/g) ?? [];
}

describe('question message', () => {
  it('asks with confirm and deny buttons carrying the alert id', () => {
    const message = questionMessage(alertView());
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions).toMatchObject({
      elements: [
        { type: 'button', action_id: CONFIRM_ACTION_ID, value: alertView().id, style: 'primary', text: { text: 'Yes, it was me' } },
        { type: 'button', action_id: DENY_ACTION_ID, value: alertView().id, style: 'danger', text: { text: 'No, not me' } },
      ],
    });
  });

  it('says what ran, where, when, as whom, and which rule', () => {
    const json = JSON.stringify(questionMessage(alertView()).blocks);
    for (const expected of ['cat /etc/shadow', 'db-01.prod.example.com', 'root', '/home/alice', 'Read of /etc/shadow', 'high', 'T1003.008']) {
      expect(json).toContain(expected);
    }
    expect(json).toContain(`<!date^${Date.UTC(2026, 0, 1, 12, 30, 0) / 1000}^`);
    expect(json).toContain('ATT&amp;CK');
    expect(json).not.toContain('Occurrences');
  });

  it('shows occurrences only when more than one', () => {
    expect(JSON.stringify(questionMessage(alertView({ occurrences: 4 })).blocks)).toContain('4 times');
  });

  it('has an escaped fallback text', () => {
    const message = questionMessage(alertView({ command: 'echo <!channel>' }));
    expect(message.text).toContain('&lt;!channel&gt;');
    expect(message.text).not.toMatch(/[<>]/);
  });
});

describe('hostile alert content', () => {
  it.each(allMessages(hostileAlert()))('%s: no live mentions, links, or control bytes', (_name, message) => {
    expect(strayMarkup(message.text)).toEqual([]);
    for (const { type, text, path } of textsOf(message.blocks)) {
      expect(text, path).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
      if (type === 'mrkdwn') expect(strayMarkup(text), `${path}: ${text}`).toEqual([]);
    }
  });

  it('keeps the command inside one intact code block', () => {
    const message = questionMessage(hostileAlert());
    const code = textsOf(message.blocks).find(({ text }) => text.startsWith('```'));
    expect(code).toBeDefined();
    expect(code?.text.match(/```/g)).toHaveLength(2);
    expect(code?.text.endsWith('```')).toBe(true);
    expect(code?.text).toContain('\\x00\\x1b[2J');
  });
});

describe('Slack limits', () => {
  const huge = `python -c "${'<!channel>&'.repeat(50_000)}😀${'a'.repeat(500_000)}"`;
  const big = hostileAlert({
    command: huge,
    host: 'h'.repeat(100_000),
    cwd: '/'.repeat(100_000),
    owner: 'o'.repeat(100_000),
    runAs: 'r'.repeat(100_000),
    ruleName: 'n'.repeat(100_000),
    justification: 'j'.repeat(100_000),
    escalationDetail: 'd\n'.repeat(100_000),
    secondFactor: 's'.repeat(100_000),
    attack: Array.from({ length: 100 }, (_, i) => `T${1000 + i}`),
  });

  it.each([...allMessages(big), ...allMessages(alertView())])('%s fits every Block Kit limit', (_name, message) => {
    expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(message.text.length).toBeGreaterThan(0);
    expect(message.text.length).toBeLessThanOrEqual(4000);
    for (const { text } of textsOf(message.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('the modal fits its limits even for a 1 MB command', () => {
    expect(validateModal(justificationModal(big, { channel: 'D1', ts: '1.000001' }) as unknown as Record<string, unknown>)).toEqual([]);
  });

  it('says how much of a long command was cut', () => {
    expect(JSON.stringify(questionMessage(big).blocks)).toMatch(/… \[\d+ more characters\]```/);
  });
});

describe('outcome message', () => {
  it('removes the buttons', () => {
    const message = outcomeMessage(alertView({ status: 'verifying', justification: 'rotating keys for OPS-1' }));
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain('rotating keys for OPS-1');
  });

  it.each([
    [{ status: 'asked' }, /Waiting/],
    [{ status: 'verifying' }, /Duo push/],
    [{ status: 'verified' }, /Verified/],
    [{ status: 'suppressed' }, /No action needed/],
    [{ status: 'escalated', escalationReason: 'denied_by_user' }, /not you/],
    [{ status: 'escalated', escalationReason: 'no_response' }, /did not get an answer/],
    [{ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'fraud' }, /Duo check did not succeed \(the Duo push was reported as fraud\)/],
    [{ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'no_device' }, /no phone enrolled in Duo: ask IT to enroll you/],
    [{ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'odd_word' }, /Duo answered `odd_word`/],
    [{ status: 'escalated', escalationReason: 'unknown_owner' }, /security team has been notified/],
  ] as Array<[Partial<AlertView>, RegExp]>)('states %j', (overrides, expected) => {
    const alert = alertView(overrides);
    expect(ownerStatusText(alert)).toMatch(expected);
    expect(JSON.stringify(outcomeMessage(alert).blocks)).toMatch(expected);
  });
});

describe('escalation message', () => {
  it('carries the full context', () => {
    const alert = alertView({
      status: 'escalated',
      escalationReason: 'second_factor_failed',
      secondFactor: 'timeout',
      justification: 'deploying hotfix',
      escalationDetail: 'Duo unreachable: ECONNREFUSED',
      occurrences: 2,
    });
    const message = escalationMessage(alert);
    const json = JSON.stringify(message.blocks);
    for (const expected of [
      'alice', 'db-01.prod.example.com', 'cat /etc/shadow', 'root', '/home/alice', 'Read of /etc/shadow',
      'credential-access.shadow-read', 'high', 'T1003.008', 'deploying hotfix', 'the Duo push was not answered in time', 'Second factor failed',
      'Duo unreachable: ECONNREFUSED', alert.id,
    ]) {
      expect(json).toContain(expected);
    }
    expect(message.text).toMatch(/^Second factor failed: /);
  });

  it('names a system actor when there is no owner', () => {
    expect(JSON.stringify(escalationMessage(alertView({ owner: null, status: 'escalated', escalationReason: 'unknown_owner' })).blocks)).toContain('system actor');
  });
});

describe('a conversation of several commands', () => {
  const conversation = { size: 3, commands: ['cat /etc/shadow', 'id'], hosts: ['db-1', 'db-2'], hostCount: 2 };
  const words = (message: SlackMessage) => textsOf(message.blocks).map((t) => t.text).join('\n');

  it('tells the owner, in the question and its outcome, that their answer covers all of them', () => {
    const asked = alertView({ conversation });
    for (const message of [questionMessage(asked), outcomeMessage({ ...asked, status: 'verifying', justification: 'rotation' })]) {
      expect(words(message)).toContain('*This is one activity of 3 commands* on 2 hosts: `db-1`, `db-2`. Your answer covers all of them.');
    }
  });

  it('tells the security channel that the escalation covers all of them, not about "your answer"', () => {
    const escalated = alertView({ conversation, status: 'escalated', escalationReason: 'no_response' });
    const text = words(escalationMessage(escalated));
    expect(text).toContain('*This is one activity of 3 commands* on 2 hosts: `db-1`, `db-2`. This escalation covers all of them.');
    expect(text).not.toMatch(/your answer/i);
  });
});

describe('justification modal', () => {
  it('has the contract ids and carries the alert and the question', () => {
    const modal = justificationModal(alertView(), { channel: 'D123', ts: '1700000000.000100' });
    expect(modal.callback_id).toBe(JUSTIFY_CALLBACK_ID);
    const inputs = modal.blocks.filter((block) => block.type === 'input');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({
      element: { type: 'plain_text_input', action_id: REASON_ACTION_ID, multiline: true, min_length: 10, max_length: 1000 },
    });
    expect(parseJustifyMetadata(modal.private_metadata)).toEqual({
      alertId: alertView().id,
      question: { channel: 'D123', ts: '1700000000.000100' },
      formKey: null,
    });
  });

  it('carries the key of its opening when given one', () => {
    const modal = justificationModal(alertView(), { channel: 'D123', ts: '1.2' }, 'k3y-of-this-opening');
    expect(parseJustifyMetadata(modal.private_metadata)).toMatchObject({ alertId: alertView().id, formKey: 'k3y-of-this-opening' });
  });

  it.each([undefined, '', 'not json', '[]', '{"alertId":5}', '{"alertId":""}', 'null'])('rejects metadata %j', (raw) => {
    expect(parseJustifyMetadata(raw)).toBeNull();
  });

  it('accepts metadata without a question', () => {
    expect(parseJustifyMetadata('{"alertId":"a"}')).toEqual({ alertId: 'a', question: null, formKey: null });
  });
});

describe('second-factor hygiene in messages', () => {
  it('the question shows the short code the Duo push shows', () => {
    const code = alertShortCode(alertView().id);
    expect(textsOf(questionMessage(alertView()).blocks).map((t) => t.text).join('\n')).toContain(`Code *${code}*`);
    expect(ownerStatusText(alertView({ status: 'verifying' }))).toContain(code);
  });

  it('a fraud report opens the security post with a warning header and says so in the notification', () => {
    const message = escalationMessage(alertView({ status: 'escalated', escalationReason: 'fraud_reported', secondFactor: 'fraud' }));
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: expect.stringContaining('FRAUD REPORTED') } });
    expect(message.text).toMatch(/^FRAUD REPORTED\. Duo push reported as fraud: /);
    expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
  });

  it('other escalations carry no fraud warning', () => {
    const message = escalationMessage(alertView({ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'deny' }));
    expect(JSON.stringify(message)).not.toContain('FRAUD');
  });

  it.each([
    ['fraud_reported', /reported the Duo push as fraud/],
    ['second_factor_paused', /pushes to you are paused/],
  ] as const)('tells the owner what %s means', (reason, text) => {
    expect(ownerStatusText(alertView({ status: 'escalated', escalationReason: reason }))).toMatch(text);
  });
});

describe('a command read late', () => {
  const ran = new Date('2026-11-18T03:00:00Z');
  const when = (message: { blocks?: unknown }) => textsOf(message.blocks).map((t) => t.text).find((text) => text.includes('*When*')) ?? '';

  it.each([
    ['at once', new Date('2026-11-18T03:00:05Z'), null],
    ['59 minutes later', new Date('2026-11-18T03:59:00Z'), null],
    ['3 hours later', new Date('2026-11-18T06:10:00Z'), '(read 3 hours later)'],
    ['a week later', new Date('2026-11-25T03:00:00Z'), '(read 7 days later)'],
  ])('says how late it was read when %s, in the question and the channel copy', (_when, raisedAt, note) => {
    const alert = alertView({ occurredAt: ran, raisedAt });
    for (const message of [questionMessage(alert), escalationMessage(alert)]) {
      const text = when(message);
      expect(text).toContain(`<!date^${ran.getTime() / 1000}^`);
      if (note === null) expect(text).not.toContain('later');
      else expect(text).toContain(note);
    }
  });
});
