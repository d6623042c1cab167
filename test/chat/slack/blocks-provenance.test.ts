import { describe, expect, it } from 'vitest';
import { escalationMessage, outcomeMessage, questionMessage, reminderMessage, type Block } from '../../../src/chat/slack/blocks.js';
import { announcementMessage, contactMessage } from '../../../src/chat/slack/ladder-blocks.js';
import { validateBlocks } from '../../../src/sandbox/slack-simulator.js';
import type { Provenance } from '../../../src/sources/provenance.js';
import { alertView } from './alert-fixture.js';

const KERNEL: Provenance = { format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'file', hostBinding: null };
const SYSLOG: Provenance = { format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', hostBinding: null };
const UNBOUND: Provenance = { format: 'falco', attribution: 'shipper', forgeable: false, transport: 'http', hostBinding: 'unbound' };
const BOUND: Provenance = { ...UNBOUND, hostBinding: 'bound' };

/** The text of every context block that names the source. */
function sourceLines(blocks: Block[]): string[] {
  return blocks.flatMap((block) => (block.type === 'context' ? block.elements.map((element) => element.text) : [])).filter((text) => text.includes('Source:'));
}

describe('provenance in Slack messages', () => {
  it('says a kernel record is one', () => {
    expect(sourceLines(questionMessage(alertView({ provenance: KERNEL })).blocks)).toEqual(['Source: auditd (kernel record)']);
  });

  it('warns that any local user can write sudo syslog', () => {
    const lines = sourceLines(questionMessage(alertView({ provenance: SYSLOG })).blocks);
    expect(lines).toEqual([':warning: Source: sudo syslog — any local user can write this log']);
  });

  it('warns about HTTP events whose host was not bound, and not about bound ones', () => {
    expect(sourceLines(questionMessage(alertView({ provenance: UNBOUND })).blocks)).toEqual([
      ':warning: Source: Falco (as trusted as its shipper), over HTTP, host not bound to its source',
    ]);
    expect(sourceLines(questionMessage(alertView({ provenance: BOUND })).blocks)).toEqual([
      'Source: Falco (as trusted as its shipper), over HTTP, host checked against its source',
    ]);
  });

  it('shows it in the outcome and the escalation too, and stays valid Block Kit', () => {
    const escalated = alertView({ provenance: SYSLOG, status: 'escalated', escalationReason: 'denied_by_user' });
    for (const message of [questionMessage(escalated), outcomeMessage(escalated), escalationMessage(escalated)]) {
      expect(sourceLines(message.blocks)).toHaveLength(1);
      expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
    }
  });

  it('goes with every message that says who ran it: the channel heads-up, the contact and the reminder', () => {
    const open = alertView({ provenance: SYSLOG, severity: 'critical', status: 'asked' });
    const messages = [announcementMessage(open), contactMessage(open, { chatUserId: 'U0MANAGER' }, 30 * 60_000), reminderMessage(open)];
    for (const message of messages) {
      expect(sourceLines(message.blocks)).toEqual([':warning: Source: sudo syslog — any local user can write this log']);
      expect(validateBlocks(message.blocks, 50, '/blocks')).toEqual([]);
    }
  });

  it('escapes a stored format name it does not know', () => {
    const odd: Provenance = { ...KERNEL, format: '<!channel> *x*' };
    const [line] = sourceLines(questionMessage(alertView({ provenance: odd })).blocks);
    expect(line).not.toContain('<!channel>');
    expect(line).toContain('&lt;!channel&gt;');
  });

  it('adds nothing for alerts raised before provenance was recorded', () => {
    expect(sourceLines(questionMessage(alertView({ provenance: null })).blocks)).toEqual([]);
    expect(sourceLines(questionMessage(alertView()).blocks)).toEqual([]);
  });
});
