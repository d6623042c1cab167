import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebAPIPlatformError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIRM_ACTION_ID, DENY_ACTION_ID, JUSTIFY_CALLBACK_ID } from '../../../src/chat/slack/blocks.js';
import { SlackChat } from '../../../src/chat/slack/slack-chat.js';
import { ManualClock } from '../../../src/clock.js';
import { ChatError } from '../../../src/errors.js';
import { createSlackSimulator, type SimulatedUser, type SlackSimulator } from '../../../src/sandbox/slack-simulator.js';
import { alertView } from './alert-fixture.js';

const TOKEN = 'xoxb-chat-test';
const SECRET = 'chat-test-secret';
const SECURITY = 'C0SECURITY';

/** Keeps the SDK's retry warnings out of the test output, and lets tests look at them. */
function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, debug: () => {}, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
}

describe('SlackChat against the Slack simulator', () => {
  let clock: ManualClock;
  let sim: SlackSimulator;
  let api: { url: string; close(): Promise<void> };
  let alice: SimulatedUser;
  let chat: SlackChat;
  let logger: ReturnType<typeof recordingLogger>;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
    sim = createSlackSimulator({ botToken: TOKEN, signingSecret: SECRET, clock });
    api = await sim.listen();
    alice = sim.addUser({ name: 'alice', email: 'alice@example.com' });
    logger = recordingLogger();
    chat = new SlackChat({ botToken: TOKEN, apiUrl: api.url, securityChannel: SECURITY, retryConfig: { retries: 0 }, logger });
  });

  afterEach(async () => {
    await api.close();
  });

  /** A trigger id as Slack would hand one over: from a real (simulated) interaction. */
  async function triggerFromClick(question: { channel: string; ts: string }): Promise<string> {
    let trigger = '';
    const app = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      trigger = JSON.parse(new URLSearchParams(Buffer.concat(chunks).toString()).get('payload') ?? '{}').trigger_id;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    sim.setRequestUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`);
    await sim.clickButton({ userId: alice.id, ...question, actionId: CONFIRM_ACTION_ID });
    await new Promise<void>((resolve) => app.close(() => resolve()));
    return trigger;
  }

  it('looks people up by email and answers null for nobody', async () => {
    expect(await chat.lookupUserByEmail('alice@example.com')).toBe(alice.id);
    expect(await chat.lookupUserByEmail('nobody@example.com')).toBeNull();
  });

  it('asks the owner in their DM with both buttons and an escaped fallback', async () => {
    const alert = alertView({ command: 'echo <!channel>' });
    const question = await chat.askOwner(alert, alice.id);
    expect(question.channel).toBe(sim.dmChannelFor(alice.id));
    const [message] = sim.messages(question.channel);
    expect(message?.ts).toBe(question.ts);
    expect(message?.text).toContain('&lt;!channel&gt;');
    const buttons = JSON.stringify(message?.blocks);
    expect(buttons).toContain(CONFIRM_ACTION_ID);
    expect(buttons).toContain(DENY_ACTION_ID);
    expect(sim.calls('conversations.open')[0]?.args).toMatchObject({ users: alice.id });
    expect(sim.calls('chat.postMessage')[0]?.args).toMatchObject({ unfurl_links: 'false', unfurl_media: 'false' });
  });

  it('fits a 1 MB hostile command into a message Slack accepts', async () => {
    const command = `bash -c '${'<!here>`\u0000'.repeat(120_000)}'`;
    const question = await chat.askOwner(alertView({ command }), alice.id);
    await chat.showOutcome(alertView({ command, status: 'escalated', escalationReason: 'denied_by_user' }), question);
    await chat.escalate(alertView({ command, status: 'escalated', escalationReason: 'denied_by_user' }));
    expect(sim.calls().every((call) => call.response.ok === true)).toBe(true);
  });

  it('reminds in the same DM with a new message', async () => {
    const question = await chat.askOwner(alertView(), alice.id);
    const reminder = await chat.remindOwner(alertView(), question);
    expect(reminder.channel).toBe(question.channel);
    expect(reminder.ts).not.toBe(question.ts);
    expect(sim.messages(question.channel)[1]?.text).toMatch(/^Reminder/);
  });

  it('replaces the question with the outcome, without buttons', async () => {
    const question = await chat.askOwner(alertView(), alice.id);
    await chat.showOutcome(alertView({ status: 'verified', justification: 'patching' }), question);
    const [message] = sim.messages(question.channel);
    expect(message?.edits).toHaveLength(1);
    expect(JSON.stringify(message?.blocks)).not.toContain(CONFIRM_ACTION_ID);
    expect(JSON.stringify(message?.blocks)).toContain('Verified');
  });

  it('escalates to the security channel', async () => {
    const ref = await chat.escalate(alertView({ status: 'escalated', escalationReason: 'no_response' }));
    expect(ref.channel).toBe(SECURITY);
    expect(sim.messages(SECURITY)[0]?.text).toMatch(/^No answer from the owner/);
  });

  it("turns a heads-up into the escalation: the escalation's blocks and metadata, the same ts", async () => {
    const critical = alertView({ severity: 'critical' });
    const heads = await chat.announce(critical);
    const escalated = alertView({ severity: 'critical', status: 'escalated', escalationReason: 'denied_by_user' });
    expect(await chat.escalateInPlace(escalated, heads)).toBe(true);
    const [message, ...others] = sim.messages(SECURITY);
    expect(others).toHaveLength(0);
    expect(message).toMatchObject({ ts: heads.ts, metadata: { event_type: 'vouch_escalation', event_payload: { alert_id: critical.id } } });
    const separate = await chat.escalate(escalated);
    expect(message!.blocks).toEqual(sim.messages(SECURITY).find((m) => m.ts === separate.ts)!.blocks);
    expect(await chat.findPosted(critical, 'escalation', 'security', new Date(0))).toEqual(separate);
    expect(await chat.findPosted(critical, 'announcement', 'security', new Date(0))).toBeNull();
  });

  it('says false when Slack will not edit the heads-up, and throws when Slack cannot be reached', async () => {
    const escalated = alertView({ severity: 'critical', status: 'escalated', escalationReason: 'no_response' });
    expect(await chat.escalateInPlace(escalated, { channel: SECURITY, ts: '1.000001' })).toBe(false);
    await api.close();
    await expect(chat.escalateInPlace(escalated, { channel: SECURITY, ts: '1.000001' })).rejects.toThrow(/chat\.update failed: request_failed/);
    api = await sim.listen();
  });

  it('opens the justification form with a trigger from a click, once', async () => {
    const question = await chat.askOwner(alertView(), alice.id);
    const trigger = await triggerFromClick(question);
    const form = await chat.openJustificationForm(trigger, alertView(), question);
    const [view] = sim.openViews(alice.id);
    expect(view).toMatchObject({ callbackId: JUSTIFY_CALLBACK_ID });
    // The id views.open answered with is the one its submission will carry.
    expect(form).toEqual({ viewId: view?.id });
    expect(JSON.parse(view?.privateMetadata ?? '')).toEqual({ alertId: alertView().id, ...question });
    await expect(chat.openJustificationForm(trigger, alertView(), question)).rejects.toThrow(/views\.open failed: exchanged_trigger_id/);
    await expect(chat.openJustificationForm('forged', alertView(), question)).rejects.toThrow(/invalid_trigger_id/);
  });

  it('tells a user something only they see, escaped', async () => {
    const channel = sim.dmChannelFor(alice.id);
    await chat.tellUser(channel, alice.id, 'This alert belongs to <@U999>');
    expect(sim.messages(channel)[0]).toMatchObject({ ephemeralTo: alice.id, text: 'This alert belongs to &lt;@U999&gt;' });
  });

  it('retries after a 429 with Retry-After', async () => {
    const patient = new SlackChat({ botToken: TOKEN, apiUrl: api.url, securityChannel: SECURITY, retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 1 }, logger });
    sim.rateLimitNext('chat.postMessage', 1, 0);
    await patient.escalate(alertView());
    expect(sim.calls('chat.postMessage').map((call) => call.status)).toEqual([429, 200]);
    expect(sim.messages(SECURITY)).toHaveLength(1);
    expect(logger.warnings.join('\n')).toMatch(/rate limit/);
  });

  it('gives up on a 429 when out of retries, with a ChatError', async () => {
    sim.rateLimitNext('chat.postMessage', 1, 0);
    await expect(chat.escalate(alertView())).rejects.toThrow(ChatError);
  });

  it('wraps Slack errors in ChatError naming the method and code', async () => {
    sim.failNext('chat.postMessage', 'channel_not_found');
    const error = await chat.escalate(alertView()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: 'chat_error', message: 'Slack chat.postMessage failed: channel_not_found' });
    expect((error as ChatError).cause).toBeInstanceOf(WebAPIPlatformError);

    sim.failNext('users.lookupByEmail', 'ratelimited');
    await expect(chat.lookupUserByEmail('alice@example.com')).rejects.toThrow(/users\.lookupByEmail failed: ratelimited/);
    sim.failNext('conversations.open', 'user_disabled');
    await expect(chat.askOwner(alertView(), alice.id)).rejects.toThrow(/conversations\.open failed: user_disabled/);
    sim.failNext('chat.update', 'message_not_found');
    await expect(chat.showOutcome(alertView(), { channel: 'D1', ts: '1.1' })).rejects.toThrow(/chat\.update failed/);
    await expect(chat.tellUser('DNOPE', alice.id, 'x')).rejects.toThrow(/chat\.postEphemeral failed: channel_not_found/);
  });

  it('reports a bad token and an unreachable Slack as ChatError', async () => {
    const wrong = new SlackChat({ botToken: 'xoxb-wrong', apiUrl: api.url, securityChannel: SECURITY, retryConfig: { retries: 0 }, logger });
    await expect(wrong.escalate(alertView())).rejects.toThrow(/invalid_auth/);
    await api.close();
    await expect(chat.escalate(alertView())).rejects.toThrow(/chat\.postMessage failed: request_failed/);
    api = await sim.listen();
  });
});
