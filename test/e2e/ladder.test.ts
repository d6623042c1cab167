import { describe, expect, it } from 'vitest';
import { PagerDutySimulator } from '../../src/sandbox/pagerduty-simulator.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import type { AlertRow } from '../../src/store/schema.js';
import { ALICE, BOB, Harness, harnessPerTest, messageText, SECURITY_CHANNEL, waitFor, type HarnessOptions } from './harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000000';

describe('severity, working hours and the escalation ladder, end to end over HTTP', () => {
  const harness = harnessPerTest();
  let h: Harness;
  const start = async (options: HarnessOptions) => (h = await harness.start(options));

  async function trail(alert: AlertRow): Promise<string[]> {
    return (await auditTrailFor(h.service.store.db, alert.id)).map((step) => step.action);
  }

  async function alertFor(ruleId: string): Promise<AlertRow> {
    const found = (await h.alerts()).find((row) => row.rule_id === ruleId);
    if (!found) throw new Error(`no ${ruleId} alert`);
    return found;
  }

  /** Messages of the bot in the DM whose metadata says they are of `purpose`. */
  function dmOf(person: typeof ALICE, purpose: string) {
    return h.dm(person).filter((m) => m.metadata?.event_type === `vouch_${purpose}`);
  }

  it("an out-of-hours medium question waits for the person's morning in their time zone; a high one is asked at once", async () => {
    // 09:00 UTC on a Tuesday is 04:00 in New York: out of hours there.
    await start({
      workflowYaml: 'workflow: { remind_after: 30m, escalate_after: 2h, push_timeout: 90s, working_hours: "09:00-18:00 Mon-Fri" }',
      timeZones: { alice: 'America/New_York', bob: 'America/New_York' },
    });
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0']);
    // Another person's high alert (one person's hits would be one conversation, as urgent as its most severe).
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    const medium = await alertFor('packet-capture');
    const high = await alertFor('shadow-read');
    expect(high.status).toBe('asked');
    expect(medium.status).toBe('new');
    expect(medium.deferred_until?.toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(await trail(medium)).toContain('deferred');
    expect(dmOf(ALICE, 'question')).toHaveLength(0);
    expect(dmOf(BOB, 'question')).toHaveLength(1);
    // The zone is cached with the identity.
    const identity = await h.service.store.db.selectFrom('identities').selectAll().where('login', '=', 'alice').executeTakeFirstOrThrow();
    expect(identity.time_zone).toBe('America/New_York');

    // The high question's deadline ran on the clock while the medium one waited.
    await h.advance(4 * HOUR + 59 * MINUTE);
    expect((await h.alert(high.id)).status).toBe('escalated');
    expect((await h.alert(medium.id)).status).toBe('new');
    expect(dmOf(ALICE, 'question')).toHaveLength(0);

    await h.advance(MINUTE);
    const asked = await h.alert(medium.id);
    expect(asked.status).toBe('asked');
    expect(asked.asked_at?.toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(dmOf(ALICE, 'question')).toHaveLength(1);
    // One users.info per person: the zone is cached.
    expect(h.slack.calls('users.info')).toHaveLength(2);
  });

  it("a medium question's deadline that falls after hours waits for the next working morning", async () => {
    await start({
      workflowYaml: 'workflow: { remind_after: 30m, escalate_after: 2h, push_timeout: 90s, working_hours: "09:00-18:00 Mon-Fri" }',
      timeZones: { alice: 'America/New_York' },
    });
    // 16:30 in New York: asked at once, but the 2-hour deadline would land at 18:30.
    h.clock.set(new Date('2026-11-24T21:30:00Z'));
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert?.status).toBe('asked');
    await h.advance(3 * HOUR);
    expect((await h.alert(alert!.id)).status).toBe('asked');
    h.clock.set(new Date('2026-11-25T14:00:00Z'));
    await h.settle();
    expect(await h.alert(alert!.id)).toMatchObject({ status: 'escalated', escalation_detail: 'no answer within 16 hours 30 minutes' });
  });

  it('asks at once when Slack will not say the time zone (holding back needs it)', async () => {
    await start({
      workflowYaml: 'workflow: { remind_after: 30m, escalate_after: 2h, push_timeout: 90s, working_hours: "09:00-18:00 Mon-Fri" }',
      timeZones: { alice: 'America/New_York' },
    });
    h.slack.failNext('users.info', 'missing_scope');
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'asked', deferred_until: null });
    expect(await trail(alert!)).not.toContain('deferred');
  });

  it('two reminders, then the manager, then the channel; the reminders then say the conversation ended', async () => {
    await start({
      workflowYaml: 'workflow: { reminders: [30m, 90m], escalation_contact: manager, contact_after: 2h, escalate_after: 3h, push_timeout: 90s }',
      identityYaml: ['  users: { alice: { manager: bob } }'],
    });
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    await h.advance(29 * MINUTE);
    expect(dmOf(ALICE, 'reminder')).toHaveLength(0);
    await h.advance(MINUTE);
    expect(dmOf(ALICE, 'reminder')).toHaveLength(1);
    await h.advance(60 * MINUTE);
    expect(dmOf(ALICE, 'reminder')).toHaveLength(2);
    expect(h.dm(BOB)).toHaveLength(0);
    await h.advance(30 * MINUTE);
    const [toManager] = h.dm(BOB);
    expect(messageText(toManager!)).toContain('has not answered');
    expect(messageText(toManager!)).toContain('2 hours');
    expect(h.security()).toHaveLength(0);
    expect((await h.alert(alert!.id)).status).toBe('asked');

    await h.advance(HOUR);
    const done = await h.alert(alert!.id);
    expect(done).toMatchObject({ status: 'escalated', escalation_reason: 'no_response', escalation_detail: 'no answer within 3 hours', reminders_sent: 2 });
    expect(h.security()).toHaveLength(1);
    expect(await trail(alert!)).toEqual(expect.arrayContaining(['reminded', 'contact_notified', 'escalated']));
    // No reminder is left pointing at the buttons that are gone.
    for (const reminder of dmOf(ALICE, 'reminder')) {
      expect(reminder.edits.length).toBeGreaterThan(0);
      expect(messageText(reminder)).toContain('This question has ended');
      expect(messageText(reminder)).not.toContain('use the buttons');
    }
    // The manager's message no longer asks them to chase it.
    const [closed] = h.dm(BOB);
    expect(messageText(closed!)).toContain('has ended');
    expect(messageText(closed!)).not.toContain('Could you check');
    // Nothing more follows: no third reminder, no second contact.
    await h.advance(5 * HOUR);
    expect(dmOf(ALICE, 'reminder')).toHaveLength(2);
    expect(h.dm(BOB)).toHaveLength(1);
  });

  it('an on-call user group as the contact is mentioned in the security channel before the escalation', async () => {
    await start({ workflowYaml: 'workflow: { remind_after: 30m, escalation_contact: S0ONCALL, escalate_after: 2h, push_timeout: 90s }' });
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    // Halfway between the last reminder (30m) and the channel (2h): 75 minutes.
    await h.advance(74 * MINUTE);
    expect(h.security()).toHaveLength(0);
    await h.advance(MINUTE);
    const [mention] = h.security();
    expect(mention!.text + JSON.stringify(mention!.blocks)).toContain('<!subteam^S0ONCALL>');
    expect(mention!.metadata?.event_type).toBe('vouch_contact');
  });

  it('a reminder posted before the conversation ended is rewritten to say it ended', async () => {
    await start({});
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [alert] = await h.alerts();
    await h.advance(30 * MINUTE);
    const [reminder] = dmOf(ALICE, 'reminder');
    expect(messageText(reminder!)).toContain('use the buttons');
    await h.click(ALICE, alert!, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert!.id)).status === 'escalated', 'the escalation');
    await h.settle();
    const [ended] = dmOf(ALICE, 'reminder');
    expect(messageText(ended!)).toContain('This question has ended');
    expect(messageText(ended!)).toContain('not them');
  });

  it('a critical alert tells the channel at once, shows the answer there, and its outcome lands in the thread', async () => {
    await start({});
    h.runCommand(ALICE, ['systemctl', 'stop', 'auditd']);
    await h.settle();
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'asked', severity: 'critical' });
    const [headsUp] = h.security();
    expect(headsUp!.metadata?.event_type).toBe('vouch_announcement');
    expect(messageText(headsUp!)).toContain('Waiting for an answer');

    const pushed = h.duo.nextPush('alice');
    await h.click(ALICE, alert!, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the justification form');
    await h.justify(ALICE, 'Restarting auditd with the new rule set, change CHG-42');
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(alert!.id)).status === 'verified', 'the verification');
    await h.settle();

    const channel = h.security();
    const parent = channel.find((m) => m.ts === headsUp!.ts)!;
    expect(messageText(parent)).toContain('Verified');
    expect(messageText(parent)).toContain('CHG-42');
    const replies = channel.filter((m) => m.threadTs === headsUp!.ts);
    expect(replies).toHaveLength(1);
    expect(messageText(replies[0]!)).toContain('Outcome');
    expect(messageText(replies[0]!)).toContain('Verified');
    // Only the heads-up and its reply: a verified alert is not escalated.
    expect(channel.filter((m) => m.threadTs === null)).toHaveLength(1);
    expect((await h.alert(alert!.id)).outcome_ts).toBe(replies[0]!.ts);
  });

  it('the heads-up is posted once even when Slack loses the answers to the first posts', async () => {
    await start({});
    h.slack.loseResponseNext('chat.postMessage', 10);
    h.runCommand(ALICE, ['systemctl', 'stop', 'auditd']);
    await h.settle();
    await h.advance(5 * MINUTE);
    const headsUps = h.security().filter((m) => m.metadata?.event_type === 'vouch_announcement');
    expect(headsUps).toHaveLength(1);
    expect(dmOf(ALICE, 'question')).toHaveLength(1);
    const [alert] = await h.alerts();
    expect(alert).toMatchObject({ status: 'asked', announce_ts: headsUps[0]!.ts });
  });

  it('the outcome reply is not posted twice when Slack loses the answer to it', async () => {
    await start({});
    h.runCommand(ALICE, ['systemctl', 'stop', 'auditd']);
    await h.settle();
    const [alert] = await h.alerts();
    h.slack.loseResponseNext('chat.postMessage', 10);
    await h.click(ALICE, alert!, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert!.id)).status === 'escalated', 'the escalation');
    await h.settle();
    await h.advance(5 * MINUTE);
    const replies = h.slack.messages(SECURITY_CHANNEL).filter((m) => m.metadata?.event_type === 'vouch_outcome');
    expect(replies).toHaveLength(1);
    expect(h.slack.calls('conversations.replies').length).toBeGreaterThan(0);
    expect((await h.alert(alert!.id)).outcome_ts).toBe(replies[0]!.ts);
  });

  it('a critical command seen after its conversation escalated pages on its own', async () => {
    const pagerduty = new PagerDutySimulator({ routingKeys: [ROUTING_KEY] });
    const listener = await pagerduty.listen(0);
    harness.closeAfter(() => listener.close());
    await start({ extraYaml: ['pagerduty: { routing_key: ' + ROUTING_KEY + ', api_url: ' + listener.url + ' }'] });
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const high = await alertFor('shadow-read');
    await h.click(ALICE, high, 'vouch.deny');
    await waitFor(async () => (await h.alert(high.id)).status === 'escalated', 'the escalation');
    await h.settle();
    expect(pagerduty.incidents()).toEqual([]);
    // "Not me", and then the same account stops auditd: the repeat is critical, so it pages.
    h.runCommand(ALICE, ['systemctl', 'stop', 'auditd']);
    await h.settle();
    const critical = await alertFor('audit-disabled');
    expect(critical).toMatchObject({ status: 'escalated', conversation_id: high.id });
    // The incident is the conversation's: further critical repeats fold into it.
    expect(pagerduty.incidents().map((incident) => incident.dedupKey)).toEqual([high.id]);
    expect((await h.alert(critical.id)).paged_at).not.toBeNull();
    h.runCommand(ALICE, ['systemctl', 'disable', '--now', 'auditd']);
    await h.settle();
    expect(await h.alerts()).toHaveLength(3);
    expect(pagerduty.incidents()).toEqual([expect.objectContaining({ dedupKey: high.id, events: 2 })]);
  });

  it('a critical escalation pages PagerDuty once, even when the answer to the first trigger is lost', async () => {
    const pagerduty = new PagerDutySimulator({ routingKeys: [ROUTING_KEY] });
    const listener = await pagerduty.listen(0);
    harness.closeAfter(() => listener.close());
    await start({ extraYaml: ['pagerduty: { routing_key: ' + ROUTING_KEY + ', api_url: ' + listener.url + ' }'] });
    h.runCommand(ALICE, ['systemctl', 'stop', 'auditd']);
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    const critical = await alertFor('audit-disabled');
    const high = await alertFor('shadow-read');
    pagerduty.loseResponseNext(1);
    await h.click(ALICE, critical, 'vouch.deny');
    await h.click(BOB, high, 'vouch.deny');
    await waitFor(async () => (await h.alert(critical.id)).status === 'escalated' && (await h.alert(high.id)).status === 'escalated', 'both escalations');
    await h.settle();
    expect(pagerduty.events()).toHaveLength(1);
    expect((await h.alert(critical.id)).paged_at).toBeNull();
    // The runner retries the page a moment later; PagerDuty folds it into the same incident.
    await h.advance(5000);
    expect(pagerduty.events()).toHaveLength(2);
    const incidents = pagerduty.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ dedupKey: critical.id, severity: 'critical', source: 'db-1', events: 2 });
    expect(incidents[0]!.summary).toContain('Owner says it was not them');
    expect((await h.alert(critical.id)).paged_at).not.toBeNull();
    expect((await trail(critical)).filter((action) => action === 'paged')).toHaveLength(1);
    // The high escalation goes to the channel only.
    expect(pagerduty.incidents().some((incident) => incident.dedupKey === high.id)).toBe(false);

    // A reviewer's look resolves the incident.
    const reviewed = await fetch(`${h.service.url}/api/alerts/${critical.id}/review`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.service.reviewToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reviewer: 'dana@example.com', note: 'talked to alice: a stolen laptop, rotated keys' }),
    });
    expect(reviewed.status).toBe(200);
    await h.settle();
    expect(pagerduty.incidents()[0]?.status).toBe('resolved');
    expect((await trail(critical)).filter((action) => action === 'page_resolved')).toHaveLength(1);
  });
});
