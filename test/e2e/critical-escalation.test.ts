import { afterEach, describe, expect, it } from 'vitest';
import { escalationMessage } from '../../src/chat/slack/blocks.js';
import { SlackChat } from '../../src/chat/slack/slack-chat.js';
import type { SimulatedMessage } from '../../src/sandbox/slack-simulator.js';
import { toAlertView } from '../../src/store/queries/alerts.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import { scheduleJob, type JobKind } from '../../src/store/queries/jobs.js';
import type { AlertRow } from '../../src/store/schema.js';
import { ALICE, BOB, Harness, messageText, SECURITY_CHANNEL, waitFor } from './harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const STOP_AUDITD = ['systemctl', 'stop', 'auditd'];

describe('a critical escalation becomes its heads-up: one channel message, end to end', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  /** Top-level messages in the security channel (thread replies left out). */
  function channelPosts(): SimulatedMessage[] {
    return h.security().filter((m) => m.threadTs === null);
  }

  async function trail(alert: AlertRow) {
    return auditTrailFor(h.service.store.db, alert.id);
  }

  /** A critical alert its owner denied, escalated through its heads-up: the alert and that one message. */
  async function deniedCriticalAlert() {
    h = await new Harness().start({});
    h.runCommand(ALICE, STOP_AUDITD);
    await h.settle();
    const alert = await onlyAlert();
    await deny(alert);
    await h.settle();
    return { alert, message: await expectOneEscalationMessage(alert.id) };
  }

  async function onlyAlert(): Promise<AlertRow> {
    const [alert, ...others] = await h.alerts();
    expect(others).toHaveLength(0);
    return alert!;
  }

  /** Moves a job's next run, as a job still backing off or not yet picked up would be. */
  async function postpone(alert: AlertRow, kind: JobKind, until: Date): Promise<void> {
    await h.service.store.db.updateTable('jobs').set({ run_at: until }).where('alert_id', '=', alert.id).where('kind', '=', kind).execute();
  }

  /** Runs an alert's job by hand, with the runner stopped; `done` removes it as finishing would. */
  async function runJobByHand(alert: AlertRow, kind: JobKind, done: boolean): Promise<void> {
    const db = h.service.store.db;
    const job = await db.selectFrom('jobs').selectAll().where('alert_id', '=', alert.id).where('kind', '=', kind).executeTakeFirstOrThrow();
    if (done) await db.deleteFrom('jobs').where('id', '=', job.id).execute();
    await h.service.workflow.handleJob(job);
  }

  /**
   * The critical alert asked and its heads-up's first attempt failed: the intent is recorded, no
   * ts. The runner is left stopped (a click would wake it); restart the service to run jobs again.
   */
  async function askWithHeadsUpFailing(): Promise<AlertRow> {
    h.runCommand(ALICE, STOP_AUDITD);
    // Jobs one at a time, by hand: the runner would run the heads-up right after the question.
    await h.service.runner.stop();
    for (const source of h.service.sources) await source.runOnce();
    const created = await onlyAlert();
    await runJobByHand(created, 'ask', true);
    h.slack.failNext('chat.postMessage', 'internal_error');
    await expect(runJobByHand(created, 'announce', false)).rejects.toThrow(/internal_error/);
    const alert = await h.alert(created.id);
    expect(alert).toMatchObject({ status: 'asked', severity: 'critical', announce_ts: null });
    expect(alert.announce_requested_at).not.toBeNull();
    expect(channelPosts()).toHaveLength(0);
    return alert;
  }

  async function deny(alert: AlertRow): Promise<void> {
    await h.click(ALICE, alert, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'the escalation');
  }

  /**
   * The channel holds one message for the alert: the escalation (its metadata, the blocks a posted
   * escalation has), recorded as both heads-up and escalation, with the outcome in its thread.
   */
  async function expectOneEscalationMessage(alertId: string): Promise<SimulatedMessage> {
    const alert = await h.alert(alertId);
    const posts = channelPosts();
    expect(posts).toHaveLength(1);
    const message = posts[0]!;
    expect(message.metadata).toEqual({ event_type: 'vouch_escalation', event_payload: { alert_id: alert.id, round: 0 } });
    expect(message.blocks).toEqual(JSON.parse(JSON.stringify(escalationMessage(toAlertView(alert)).blocks)));
    expect(alert).toMatchObject({ status: 'escalated', escalation_channel: SECURITY_CHANNEL, escalation_ts: message.ts, announce_ts: message.ts });
    const replies = h.security().filter((m) => m.threadTs === message.ts);
    expect(replies.map((m) => m.metadata?.event_type)).toEqual(['vouch_outcome']);
    expect(alert.outcome_ts).toBe(replies[0]!.ts);
    expect(messageText(replies[0]!)).toContain('Outcome');
    return message;
  }

  it('asked, then "not me": the heads-up is rewritten as the escalation, and repeats are noted in its thread', async () => {
    h = await new Harness().start({});
    h.runCommand(ALICE, STOP_AUDITD, { session: 9 });
    await h.settle();
    const alert = await onlyAlert();
    const [headsUp] = channelPosts();
    expect(headsUp!.metadata?.event_type).toBe('vouch_announcement');

    await deny(alert);
    await h.settle();
    const message = await expectOneEscalationMessage(alert.id);
    expect(message.ts).toBe(headsUp!.ts);
    expect(messageText(message)).toContain('not them');
    const notified = (await trail(alert)).filter((step) => step.action === 'security_notified');
    expect(notified).toHaveLength(1);
    expect(notified[0]!.detail).toMatchObject({ ts: message.ts, in_place_of: 'heads_up' });

    // Seen again: the replies land in the one message's thread, nothing new at the top level.
    for (let i = 0; i < 2; i += 1) {
      h.runCommand(ALICE, STOP_AUDITD, { session: 9 });
      await h.advance(SECOND);
    }
    expect(channelPosts()).toHaveLength(1);
    const seenAgain = h.security().filter((m) => m.threadTs === message.ts && /Seen again/.test(messageText(m)));
    expect(seenAgain.length).toBeGreaterThanOrEqual(1);
    // Later runs of the announce job keep it the escalation.
    expect(channelPosts()[0]!.metadata?.event_type).toBe('vouch_escalation');
  });

  it('no answer: the escalation on the deadline rewrites the heads-up too', async () => {
    h = await new Harness().start({});
    h.runCommand(ALICE, STOP_AUDITD);
    await h.settle();
    const alert = await onlyAlert();
    const [headsUp] = channelPosts();
    await h.advance(2 * HOUR);
    expect(await h.alert(alert.id)).toMatchObject({ status: 'escalated', escalation_reason: 'no_response' });
    const message = await expectOneEscalationMessage(alert.id);
    expect(message.ts).toBe(headsUp!.ts);
    expect(messageText(message)).toContain('no answer within 2 hours');
  });

  it('the heads-up still being posted when the alert escalates: the escalation waits for it and becomes it', async () => {
    h = await new Harness().start({});
    const alert = await askWithHeadsUpFailing();
    await deny(alert);
    // The heads-up's retry is still backing off when notify_security runs.
    await postpone(alert, 'announce', new Date(h.clock.now().getTime() + 3 * SECOND));
    await h.restart();
    await h.settle();
    expect(channelPosts()).toHaveLength(0);
    expect((await h.alert(alert.id)).escalation_ts).toBeNull();

    await h.advance(3 * SECOND);
    expect(channelPosts().map((m) => m.metadata?.event_type)).toEqual(['vouch_announcement']);
    await h.advance(5 * SECOND);
    await expectOneEscalationMessage(alert.id);
  });

  it('a heads-up failing for over two minutes: the escalation is posted on its own, and the late heads-up adopts it', async () => {
    h = await new Harness().start({});
    const alert = await askWithHeadsUpFailing();
    h.clock.advance(3 * MINUTE);
    await deny(alert);
    await postpone(alert, 'announce', new Date(h.clock.now().getTime() + HOUR));
    await h.restart();
    await h.settle();
    const [escalation, ...others] = channelPosts();
    expect(others).toHaveLength(0);
    expect(escalation!.metadata?.event_type).toBe('vouch_escalation');
    expect((await h.alert(alert.id)).escalation_ts).toBe(escalation!.ts);

    await postpone(alert, 'announce', h.clock.now());
    await h.settle();
    const message = await expectOneEscalationMessage(alert.id);
    expect(message.ts).toBe(escalation!.ts);
    // Adopted as it is: not rewritten, not rewritten back into a heads-up.
    expect(message.edits).toHaveLength(0);
    const headsUp = (await trail(alert)).filter((step) => step.action === 'security_heads_up');
    expect(headsUp.map((step) => step.detail)).toEqual([expect.objectContaining({ ts: escalation!.ts, adopted: 'escalation' })]);
  });

  it('a restart between the rewrite and its record: running notify_security again posts nothing new', async () => {
    const { alert, message } = await deniedCriticalAlert();
    const posts = h.slack.calls('chat.postMessage').length;

    // What a crash after chat.update and before the record's commit leaves: the message is the
    // escalation, the row does not say so, and notify_security is due again.
    const db = h.service.store.db;
    await db.updateTable('alerts').set({ escalation_channel: null, escalation_ts: null }).where('id', '=', alert.id).execute();
    await scheduleJob(db, alert.id, 'notify_security', h.clock.now());
    await h.restart();
    await h.settle();
    expect(h.slack.calls('chat.postMessage')).toHaveLength(posts);
    expect((await expectOneEscalationMessage(alert.id)).ts).toBe(message.ts);
  });

  it('a heads-up rewrite that raced the escalation is undone: the announce job draws the message as the escalation', async () => {
    const { alert, message } = await deniedCriticalAlert();
    // What an announce run that read the alert before it escalated writes, landing late.
    const slack = h.config.slack!;
    const stale = new SlackChat({ botToken: slack.botToken, apiUrl: slack.apiUrl, securityChannel: slack.securityChannel, retryConfig: { retries: 0 } });
    await stale.updateAnnouncement(toAlertView(alert), { channel: SECURITY_CHANNEL, ts: message.ts });
    expect(channelPosts()[0]!.text).toMatch(/^Critical/);
    // That run ends with the job rescheduled (the escalation and its record both did so).
    await scheduleJob(h.service.store.db, alert.id, 'announce', h.clock.now());
    await h.settle();
    expect((await expectOneEscalationMessage(alert.id)).ts).toBe(message.ts);
  });

  it('a high (not critical) escalation is posted as before: no heads-up, one new message', async () => {
    h = await new Harness().start({});
    h.runCommand(BOB, ['cat', '/etc/shadow']);
    await h.settle();
    const alert = await onlyAlert();
    expect(alert.severity).toBe('high');
    expect(channelPosts()).toHaveLength(0);
    await h.click(BOB, alert, 'vouch.deny');
    await waitFor(async () => (await h.alert(alert.id)).status === 'escalated', 'the escalation');
    await h.settle();
    const [message, ...others] = h.security();
    expect(others).toHaveLength(0);
    expect(message!.metadata?.event_type).toBe('vouch_escalation');
    expect(message!.edits).toHaveLength(0);
    expect(await h.alert(alert.id)).toMatchObject({ escalation_ts: message!.ts, announce_ts: null, outcome_ts: null });
    const notified = (await trail(alert)).filter((step) => step.action === 'security_notified');
    expect(notified).toHaveLength(1);
    expect(notified[0]!.detail).not.toHaveProperty('in_place_of');
  });
});
