import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { ALICE, Harness, waitFor } from './harness.js';

interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

describe('info-level step logs', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('logs each step of an alert once, after it is stored, without the command or the reason', async () => {
    const lines: LogLine[] = [];
    const logger = createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line) as LogLine) });
    h = await new Harness().start({ logger });
    const secretReason = 'Rotating the password hunter2 after the drill';
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, alert!, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the justification form');
    await h.justify(ALICE, secretReason);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(alert!.id)).status === 'verified', 'verified');
    await h.settle();

    const steps = lines.filter((line) => line.level === 'info' && line.message.startsWith('alert'));
    expect(lines.find((line) => line.message === 'alerts created')).toMatchObject({ level: 'info', source: 'audit', created: 1 });
    expect(steps.map((line) => line.message)).toEqual(expect.arrayContaining(['alert asked', 'alert justified', 'alert push_sent', 'alert verified']));
    expect(steps.find((line) => line.message === 'alert asked')).toMatchObject({ alert: alert!.id, from: 'new', to: 'asked' });
    expect(steps.find((line) => line.message === 'alert verified')).toMatchObject({ alert: alert!.id, from: 'verifying', to: 'verified', second_factor: 'allow' });
    expect(steps.filter((line) => line.message === 'alert verified')).toHaveLength(1);
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('/etc/shadow');
  }, 60_000);

  it('logs an escalation with its reason code', async () => {
    const lines: LogLine[] = [];
    h = await new Harness().start({ logger: createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line) as LogLine) }) });
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    await h.click(ALICE, alert!, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert!.id)).status === 'escalated', 'escalation');
    await h.settle();
    expect(lines.find((line) => line.message === 'alert escalated')).toMatchObject({ level: 'info', alert: alert!.id, to: 'escalated', reason: 'denied_by_user' });
    // Its start, and a reviewer's step through the review API, are logged too.
    expect(lines.find((line) => line.message === 'alert created')).toMatchObject({ level: 'info', alert: alert!.id, source: 'audit', rule: alert!.rule_id, host: alert!.host, owner: 'alice' });
    const review = await fetch(`${h.service.url}/api/alerts/${alert!.id}/review`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.service.reviewToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'Talked to alice' }),
    });
    expect(review.status).toBe(200);
    expect(lines.find((line) => line.message === 'alert reviewed')).toMatchObject({ level: 'info', alert: alert!.id, actor: 'token:review.token' });
    expect(JSON.stringify(lines)).not.toContain('Talked to alice');
  }, 60_000);
});
