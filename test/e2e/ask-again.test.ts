import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askAgain, markReviewed } from '../../src/review/console/alert-actions.js';
import { listAlerts } from '../../src/store/queries/alerts.js';
import { auditTrailFor } from '../../src/store/queries/audit-trail.js';
import type { AlertRow } from '../../src/store/schema.js';
import { HostileDuo } from '../helpers/hostile-duo.js';
import { DEMO_IDENTITIES } from '../review/console/fake-console-auth.js';
import { ALICE, BOB, Harness, waitFor, type Person } from './harness.js';

/**
 * "Ask again" from the review console: the owner gets a new question with buttons, answers it
 * and verifies with a new push, as for any question. The round before must not stand in for it.
 */
describe('asking again after an answer', { timeout: 90_000 }, () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const askAgainAsDana = (alertId: string) => askAgain({ db: h.service.store.db, clock: h.clock, identity: DEMO_IDENTITIES.dana! }, alertId);

  it('posts a new question after "not me", and its answer verifies the alert', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    await h.settle();
    const postsBefore = h.security().length;

    await askAgainAsDana(first!.id);
    await h.settle();
    const again = await h.alert(first!.id);
    expect(again).toMatchObject({ status: 'asked', justification: null, escalation_reason: null });
    expect([again.dm_channel, again.dm_ts]).not.toEqual([first!.dm_channel, first!.dm_ts]);
    const dms = h.dm(ALICE);
    expect(dms).toHaveLength(2);
    expect(JSON.stringify(dms[1]!.blocks)).toContain('vouch.confirm');

    const pushed = h.duo.nextPush('alice');
    expect((await h.click(ALICE, again, 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.openViews(ALICE.slackId).find((v) => v.open), 'the justification form');
    expect((await h.justify(ALICE, 'It was me after all: restoring a backup')).status).toBe(200);
    h.duo.respond((await pushed).txid, 'allow');
    await waitFor(async () => (await h.alert(first!.id)).status === 'verified', 'verified');
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ status: 'verified', justification: 'It was me after all: restoring a backup' });
    expect(h.security().length).toBe(postsBefore);
  });

  it('waits for the owner\'s other open question before asking again', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    // Elsewhere, so it is a conversation of its own.
    h.runCommand(ALICE, ['nc', '-lvnp', '4444'], { host: 'web-2' });
    await h.settle();
    const second = (await h.alerts()).find((row) => row.id !== first!.id)!;
    expect(second.status).toBe('asked');

    await askAgainAsDana(first!.id);
    await h.settle();
    expect((await h.alert(first!.id)).status).toBe('new');
    await h.click(ALICE, await h.alert(second.id), 'vouch.deny');
    await waitFor(async () => (await h.alert(second.id)).status === 'escalated', 'the other answered');
    await h.settle();
    expect((await h.alert(first!.id)).status).toBe('asked');
  });

  it('a re-opened alert\'s escalation is posted anew, even when its post never reached Slack', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).escalation_ts !== null, 'first escalation posted');
    const firstTs = (await h.alert(first!.id)).escalation_ts;
    await askAgainAsDana(first!.id);
    await h.settle();
    const again = await h.alert(first!.id);
    expect(again).toMatchObject({ status: 'asked', round: 1 });
    // The second round's escalation is dropped on its way: the retry must not take round one's post for it.
    h.slack.dropRequestNext('chat.postMessage');
    await h.click(ALICE, again, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'second escalation');
    for (let i = 0; i < 3; i++) await h.advance(60_000);
    const row = await h.alert(first!.id);
    const posts = h.security().filter((m) => m.metadata?.event_type === 'vouch_escalation');
    expect(posts).toHaveLength(2);
    expect(posts.map((m) => m.metadata?.event_payload.round)).toEqual([0, 1]);
    expect(row.escalation_ts).not.toBe(firstTs);
    expect(row.escalation_ts).toBe(posts[1]!.ts);
  });

  it('a new outcome after "Ask again" needs a review of its own', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    const context = { db: h.service.store.db, clock: h.clock, identity: DEMO_IDENTITIES.dana! };
    await markReviewed(context, first!.id, 'Talked to alice: she mistyped');
    expect((await listAlerts(h.service.store.db, { reviewed: false })).map((a) => a.id)).toEqual([]);
    await askAgainAsDana(first!.id);
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ reviewed_by: null, reviewed_at: null, review_note: null });
    await h.click(ALICE, await h.alert(first!.id), 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalated again');
    expect((await listAlerts(h.service.store.db, { reviewed: false })).map((a) => a.id)).toEqual([first!.id]);
    const queue = await listAlerts(h.service.store.db, { sort: 'queue' });
    expect(queue[0]?.id).toBe(first!.id);
    // The earlier review is kept.
    const reviews = await h.service.store.db.selectFrom('reviews').select(['actor', 'note']).where('alert_id', '=', first!.id).execute();
    expect(reviews).toEqual([{ actor: DEMO_IDENTITIES.dana!.actor, note: 'Talked to alice: she mistyped' }]);
  });

  it('re-opening a conversation\'s lead asks again about every command its answer settled, and the new answer covers them', async () => {
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth0'], { session: 41 });
    await h.settle();
    h.runCommand(ALICE, ['nc', '-l', '4444'], { session: 41 });
    h.runCommand(ALICE, ['tcpdump', '-i', 'eth1'], { session: 41 });
    await h.settle();
    const alerts = await h.alerts();
    const lead = alerts.find((a) => a.id === a.conversation_id)!;
    const members = alerts.filter((a) => a.id !== lead.id);
    expect(members).toHaveLength(2);
    await vouchAs(ALICE, lead, 'Debugging the capture on the load balancer');
    expect((await h.alerts()).map((a) => a.status)).toEqual(['verified', 'verified', 'verified']);
    // One member ended otherwise since (a reviewer's suppression settled it on its own).
    await h.service.store.db.updateTable('alerts').set({ status: 'suppressed' }).where('id', '=', members[1]!.id).execute();

    await askAgainAsDana(lead.id);
    await h.settle();
    expect(await h.alert(lead.id)).toMatchObject({ status: 'asked', round: 1 });
    expect(await h.alert(members[0]!.id)).toMatchObject({ status: 'asked', round: 1, justification: null, conversation_id: lead.id });
    expect(await h.alert(members[1]!.id)).toMatchObject({ status: 'suppressed', conversation_id: members[1]!.id });
    expect((await auditTrailFor(h.service.store.db, members[1]!.id)).map((s) => s.action)).toContain('left_conversation');
    expect((await auditTrailFor(h.service.store.db, members[0]!.id)).map((s) => s.action)).toContain('reopened');

    await h.click(ALICE, await h.alert(lead.id), 'vouch.deny');
    await waitFor(async () => (await h.alert(lead.id)).status === 'escalated', 'escalated');
    expect(await h.alert(members[0]!.id)).toMatchObject({ status: 'escalated', escalation_reason: 'denied_by_user' });
    expect((await h.alert(members[1]!.id)).status).toBe('suppressed');
  });

  it('an escalation post still on its way when the alert is asked again counts for the round before, not the new one', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    // Hold round 0's security-channel post at the simulator until Ask again has run.
    let release: (() => void) | null = null;
    let held = false;
    const handle = h.slack.handle.bind(h.slack);
    h.slack.handle = async (req, res, path) => {
      if (!held && path.includes('chat.postMessage')) {
        held = true;
        await new Promise<void>((resolve) => (release = resolve));
      }
      return handle(req, res, path);
    };
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    const settling = h.settle();
    await waitFor(() => held, 'the escalation post held');
    await askAgainAsDana(first!.id);
    (release as (() => void) | null)?.();
    await settling;
    await h.settle();
    const again = await h.alert(first!.id);
    expect(again).toMatchObject({ status: 'asked', round: 1, escalation_ts: null });
    await h.click(ALICE, again, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).escalation_ts !== null, 'the new escalation posted');
    const posts = h.security().filter((m) => m.metadata?.event_type === 'vouch_escalation');
    expect(posts.map((m) => m.metadata?.event_payload.round)).toEqual([0, 1]);
    expect((await h.alert(first!.id)).escalation_ts).toBe(posts[1]!.ts);
  });

  /** A signed click on a button of `question`, as a Slack client still showing that message would send it. */
  function clickOn(person: Person, alertId: string, question: { channel: string; ts: string }, actionId: string) {
    const payload = {
      type: 'block_actions',
      user: { id: person.slackId, username: person.login, team_id: 'T0' },
      team: { id: 'T0' },
      trigger_id: `trigger-${Math.random()}`,
      container: { type: 'message', channel_id: question.channel, message_ts: question.ts },
      channel: { id: question.channel },
      message: { ts: question.ts },
      actions: [{ action_id: actionId, value: alertId, type: 'button', block_id: 'answer' }],
    };
    return h.slack.sendSigned(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  }

  it('a button of the round before answers nothing, whether the new question is waiting or posted', async () => {
    h.runCommand(ALICE, ['cat', '/etc/shadow']);
    await h.settle();
    const [first] = await h.alerts();
    const oldQuestion = { channel: first!.dm_channel!, ts: first!.dm_ts! };
    await h.click(ALICE, first!, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalation');
    // Another open question of hers makes the new round wait its turn.
    h.runCommand(ALICE, ['nc', '-lvnp', '4444'], { host: 'web-2' });
    await h.settle();
    await askAgainAsDana(first!.id);
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ status: 'new', round: 1 });
    const posts = h.security().length;
    expect((await clickOn(ALICE, first!.id, oldQuestion, 'vouch.deny')).status).toBe(200);
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ status: 'new', escalation_reason: null });
    expect(h.security()).toHaveLength(posts);

    // The other question answered, the new one is posted: the old buttons still answer nothing.
    const other = (await h.alerts()).find((row) => row.id !== first!.id)!;
    await h.click(ALICE, other, 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'asked', 'the new question');
    expect((await clickOn(ALICE, first!.id, oldQuestion, 'vouch.confirm')).status).toBe(200);
    expect((await clickOn(ALICE, first!.id, oldQuestion, 'vouch.deny')).status).toBe(200);
    await h.settle();
    expect(await h.alert(first!.id)).toMatchObject({ status: 'asked', justify_form_key: null });
    expect(h.slack.openViews(ALICE.slackId).filter((view) => view.open)).toEqual([]);
    // Each stale click is recorded (the receiver answers Slack before it handles the click).
    await waitFor(async () => (await auditTrailFor(h.service.store.db, first!.id)).filter((step) => step.action === 'stale_answer_ignored').length === 3, 'three stale clicks recorded');
    // The new question's own buttons work.
    await h.click(ALICE, await h.alert(first!.id), 'vouch.deny');
    await waitFor(async () => (await h.alert(first!.id)).status === 'escalated', 'escalated in the new round');
  });

  async function vouchAs(person: Person, alert: AlertRow, reason: string): Promise<string> {
    const pushed = h.duo.nextPush(person.login);
    expect((await h.click(person, await h.alert(alert.id), 'vouch.confirm')).status).toBe(200);
    await waitFor(() => h.slack.openViews(person.slackId).find((v) => v.open), 'the justification form');
    expect((await h.justify(person, reason)).status).toBe(200);
    const { txid } = await pushed;
    h.duo.respond(txid, 'allow');
    await waitFor(async () => (await h.alert(alert.id)).status === 'verified', 'verified');
    await h.settle();
    return txid;
  }
});

describe('an old push answer never verifies a new round', { timeout: 90_000 }, () => {
  let h: Harness;
  let duo: HostileDuo | null = null;
  beforeEach(async () => {
    h = await new Harness().start({
      duoFront: async (url) => {
        duo = new HostileDuo(url);
        return duo.start();
      },
    });
  });
  afterEach(async () => {
    await h.stop();
    await duo?.close();
    duo = null;
  });

  async function approved(person: Person, argv: string[]): Promise<{ alert: AlertRow; txid: string }> {
    h.runCommand(person, argv);
    await h.settle();
    const alert = (await h.alerts()).find((row) => row.owner === person.login && row.command === argv.join(' '))!;
    const pushed = h.duo.nextPush(person.login);
    await h.click(person, alert, 'vouch.confirm');
    await waitFor(() => h.slack.openViews(person.slackId).find((v) => v.open), 'the form');
    await h.justify(person, 'Checking the shadow file after a migration');
    const { txid } = await pushed;
    h.duo.respond(txid, 'allow');
    await waitFor(async () => (await h.alert(alert.id)).status === 'verified', 'verified');
    await h.settle();
    return { alert, txid };
  }

  async function answerWithTxid(person: Person, alert: AlertRow, txid: string): Promise<AlertRow> {
    duo!.rewrite = (path, _query, response) => (path === '/auth/v2/auth' ? { ...response, txid } : response);
    await h.click(person, await h.alert(alert.id), 'vouch.confirm');
    await waitFor(() => h.slack.openViews(person.slackId).find((v) => v.open), 'the form');
    await h.justify(person, 'Checking the shadow file once more today');
    await waitFor(async () => ['verified', 'escalated'].includes((await h.alert(alert.id)).status), 'finished');
    return h.alert(alert.id);
  }

  it('the re-opened alert\'s own earlier txid is refused', async () => {
    const first = await approved(ALICE, ['cat', '/etc/shadow']);
    await askAgain({ db: h.service.store.db, clock: h.clock, identity: DEMO_IDENTITIES.dana! }, first.alert.id);
    await h.settle();
    const row = await answerWithTxid(ALICE, first.alert, first.txid);
    expect(row).toMatchObject({ status: 'escalated', second_factor: 'txid_reused', escalation_reason: 'second_factor_failed' });
    expect(row.escalation_detail).toContain('an earlier round of this alert');
  });

  it('a txid of a re-opened alert is refused for any other alert', async () => {
    const first = await approved(ALICE, ['cat', '/etc/shadow']);
    await askAgain({ db: h.service.store.db, clock: h.clock, identity: DEMO_IDENTITIES.dana! }, first.alert.id);
    await h.settle();
    h.runCommand(BOB, ['cat', '/etc/gshadow']);
    await h.settle();
    const bobs = (await h.alerts()).find((row) => row.owner === 'bob')!;
    const row = await answerWithTxid(BOB, bobs, first.txid);
    expect(row).toMatchObject({ status: 'escalated', second_factor: 'txid_reused' });
    expect(row.escalation_detail).toContain(`alert ${first.alert.id}`);
  });
});
