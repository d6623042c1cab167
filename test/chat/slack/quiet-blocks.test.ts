import { describe, expect, it } from 'vitest';
import type { DigestLine } from '../../../src/chat/quiet-views.js';
import { DIGEST_MAX_LINES, digestMessage, healthNoticeMessage, healthRecoveryMessage } from '../../../src/chat/slack/quiet-blocks.js';
import { SLACK_LIMITS } from '../../../src/chat/slack/blocks.js';

const HOSTILE = '<!channel> <https://evil.example|click> *bold* `tick` ```fence``` \u202egnp.exe\nnext line';

function line(overrides: Partial<DigestLine> = {}): DigestLine {
  const at = new Date('2026-12-01T03:00:00Z');
  return { host: 'web-1', ruleName: 'Read of password hashes', severity: 'high', command: 'cat /etc/shadow', runAs: 'root', alerts: 1, runs: 1, firstAt: at, lastAt: at, ...overrides };
}

describe('digest and health messages', () => {
  it('show hostile hosts and commands only escaped, in code, never as mentions, links or markup', () => {
    const digest = digestMessage({
      cadence: 'daily',
      startsAt: new Date('2026-12-01T00:00:00Z'),
      endsAt: new Date('2026-12-02T00:00:00Z'),
      total: 1,
      runs: 3,
      lines: [line({ host: HOSTILE, command: HOSTILE, runAs: HOSTILE, ruleName: HOSTILE, runs: 3 })],
    });
    const notice = healthNoticeMessage({ id: 1, host: HOSTILE, kind: 'auditd_stopped', detail: HOSTILE, openedAt: new Date(), lastSeenAt: new Date(), occurrences: 1, recoveredAt: null, recoveryDetail: null });
    const recovery = healthRecoveryMessage({ id: 1, host: HOSTILE, kind: 'auditd_stopped', detail: HOSTILE, openedAt: new Date(), lastSeenAt: new Date(), occurrences: 2, recoveredAt: new Date(), recoveryDetail: HOSTILE });
    for (const message of [digest, notice, recovery]) {
      const json = JSON.stringify(message);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<https://evil');
      expect(json).not.toContain('\u202e');
      expect(json).toContain('&lt;!channel&gt;');
    }
    expect(digest.text).toBe('Daily digest: 3 commands with no login user');
  });

  it('lists at most a screenful of lines and counts the rest, within Slack limits', () => {
    const lines = Array.from({ length: DIGEST_MAX_LINES }, (_, i) => line({ host: `web-${i}`, command: 'x'.repeat(100_000) }));
    const message = digestMessage({ cadence: 'hourly', startsAt: new Date(0), endsAt: new Date(3600_000), total: 400, runs: 900, lines });
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of message.blocks) if (block.type === 'section') expect(block.text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('and 385 more alerts in this period');
  });
});
