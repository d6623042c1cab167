import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRef } from '../../../src/chat/chat-port.js';
import type { ButtonClick, ChatCommand, InteractionHandlers, JustificationSubmission, SubmissionResult } from '../../../src/chat/interactions.js';
import { CONFIRM_ACTION_ID, DENY_ACTION_ID, REASON_BLOCK_ID } from '../../../src/chat/slack/blocks.js';
import { SlackChat } from '../../../src/chat/slack/slack-chat.js';
import { createSlackReceiver, type SlackReceiverOptions } from '../../../src/chat/slack/slack-receiver.js';
import { ManualClock } from '../../../src/clock.js';
import { createSlackSimulator, type SimulatedUser, type SlackSimulator } from '../../../src/sandbox/slack-simulator.js';
import { alertView } from './alert-fixture.js';

const TOKEN = 'xoxb-receiver-test';
const SECRET = 'receiver-test-secret';

type Call =
  | { kind: 'confirm' | 'deny'; click: ButtonClick }
  | { kind: 'justify'; submission: JustificationSubmission }
  | { kind: 'command'; command: ChatCommand };

/** Handlers that record every call; `next()` resolves at the next call, without sleeping. */
class RecordingHandlers implements InteractionHandlers {
  readonly calls: Call[] = [];
  justifyResult: SubmissionResult = { ok: true };
  commandReply = 'ok';
  onConfirmHook: (click: ButtonClick) => Promise<unknown> = async () => {};
  commandGate: Promise<void> = Promise.resolve();
  private waiters: Array<(call: Call) => void> = [];

  next(): Promise<Call> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private record(call: Call): void {
    this.calls.push(call);
    for (const waiter of this.waiters.splice(0)) waiter(call);
  }

  async onConfirm(click: ButtonClick): Promise<void> {
    this.record({ kind: 'confirm', click });
    await this.onConfirmHook(click);
  }

  async onDeny(click: ButtonClick): Promise<void> {
    this.record({ kind: 'deny', click });
  }

  async onJustify(submission: JustificationSubmission): Promise<SubmissionResult> {
    this.record({ kind: 'justify', submission });
    return this.justifyResult;
  }

  async onCommand(command: ChatCommand): Promise<string> {
    this.record({ kind: 'command', command });
    await this.commandGate;
    return this.commandReply;
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  return { lines, debug: at('debug'), warn: at('warn'), error: at('error') };
}

describe('Slack receiver end to end with the simulator', () => {
  let clock: ManualClock;
  let sim: SlackSimulator;
  let api: { url: string; close(): Promise<void> };
  let server: Server;
  let eventsUrl: string;
  let handlers: RecordingHandlers;
  let logger: ReturnType<typeof recordingLogger>;
  let chat: SlackChat;
  let alice: SimulatedUser;

  async function hostReceiver(extra: Partial<SlackReceiverOptions> = {}): Promise<void> {
    const receiver = createSlackReceiver({ signingSecret: SECRET, botToken: TOKEN, apiUrl: api.url, clock, handlers, logger, ...extra });
    server = createServer((req, res) => {
      if (req.url === '/slack/events') void receiver.handle(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    sim.setRequestUrl(eventsUrl);
  }

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
    sim = createSlackSimulator({ botToken: TOKEN, signingSecret: SECRET, clock });
    api = await sim.listen();
    alice = sim.addUser({ name: 'alice', email: 'alice@example.com' });
    handlers = new RecordingHandlers();
    logger = recordingLogger();
    chat = new SlackChat({ botToken: TOKEN, apiUrl: api.url, securityChannel: 'C0SEC', retryConfig: { retries: 0 }, logger });
    await hostReceiver();
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await api.close();
  });

  async function click(question: MessageRef, actionId: string) {
    const next = handlers.next();
    const response = await sim.clickButton({ userId: alice.id, ...question, actionId });
    return { response, call: await next };
  }

  it('delivers a confirm click, then the modal submission, with the right ids', async () => {
    const alert = alertView();
    const question = await chat.askOwner(alert, alice.id);
    // The workflow opens the form straight from the click, within the trigger's 3 s.
    handlers.onConfirmHook = (c) => chat.openJustificationForm(c.triggerId, alert, c.question ?? question);

    const { response, call } = await click(question, CONFIRM_ACTION_ID);
    expect(response).toMatchObject({ status: 200, body: '' });
    expect(call).toEqual({
      kind: 'confirm',
      click: { alertId: alert.id, chatUserId: alice.id, triggerId: expect.any(String), question },
    });
    await expect.poll(() => sim.openViews(alice.id).length).toBe(1);

    const [view] = sim.openViews(alice.id);
    const next = handlers.next();
    const submitted = await sim.submitView({ userId: alice.id, viewId: view?.id ?? '', values: { reason: 'Rotating the TLS certificate' } });
    expect(submitted).toMatchObject({ status: 200, body: '' });
    expect(await next).toEqual({
      kind: 'justify',
      submission: { alertId: alert.id, chatUserId: alice.id, reason: 'Rotating the TLS certificate', question, viewId: view?.id, formKey: null },
    });
    expect(sim.openViews(alice.id)).toEqual([]);
  });

  it('delivers a deny click', async () => {
    const question = await chat.askOwner(alertView(), alice.id);
    const { call } = await click(question, DENY_ACTION_ID);
    expect(call).toMatchObject({ kind: 'deny', click: { alertId: alertView().id, chatUserId: alice.id, question } });
  });

  it('shows rejected justifications as errors on the reason field, keeping the modal open', async () => {
    const alert = alertView();
    const question = await chat.askOwner(alert, alice.id);
    handlers.onConfirmHook = (c) => chat.openJustificationForm(c.triggerId, alert, question);
    await click(question, CONFIRM_ACTION_ID);
    await expect.poll(() => sim.openViews(alice.id).length).toBe(1);
    handlers.justifyResult = { ok: false, errors: { reason: 'Please say a little more.' } };
    const [view] = sim.openViews(alice.id);
    const response = await sim.submitView({ userId: alice.id, viewId: view?.id ?? '', values: { reason: 'because' } });
    expect(response.json).toEqual({ response_action: 'errors', errors: { [REASON_BLOCK_ID]: 'Please say a little more.' } });
    expect(sim.openViews(alice.id)).toMatchObject([{ errors: { [REASON_BLOCK_ID]: 'Please say a little more.' } }]);
  });

  it('answers /vouch with an escaped ephemeral reply', async () => {
    handlers.commandReply = 'Nothing pending for <!channel> & you';
    const next = handlers.next();
    const response = await sim.slashCommand({ userId: alice.id, command: '/vouch', text: 'status' });
    expect(await next).toEqual({ kind: 'command', command: { chatUserId: alice.id, channel: sim.dmChannelFor(alice.id), text: 'status' } });
    expect(response).toMatchObject({ status: 200, json: { response_type: 'ephemeral', text: 'Nothing pending for &lt;!channel&gt; &amp; you' } });
  });

  it('acks unknown actions and calls nothing', async () => {
    const payload = { type: 'block_actions', user: { id: alice.id }, trigger_id: 't', actions: [{ type: 'button', action_id: 'other.thing', value: 'x' }] };
    const response = await sim.sendSigned(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(response.status).toBe(200);
    expect(handlers.calls).toEqual([]);
  });

  it('ignores a vouch click without an alert id', async () => {
    const payload = { type: 'block_actions', user: { id: alice.id }, trigger_id: 't', actions: [{ type: 'button', action_id: CONFIRM_ACTION_ID }] };
    const response = await sim.sendSigned(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(response.status).toBe(200);
    expect(handlers.calls).toEqual([]);
    expect(logger.lines.some((line) => line.level === 'warn' && /without an alert id/.test(line.message))).toBe(true);
  });

  describe('rejects unverified requests with 401 and calls nothing', () => {
    const body = () =>
      new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, trigger_id: 't', actions: [{ action_id: CONFIRM_ACTION_ID, value: 'a' }] }) }).toString();
    const now = () => Math.floor(clock.now().getTime() / 1000);

    it.each([
      ['a forged signature', () => ({ secret: 'not-the-secret' })],
      ['a stale timestamp', () => ({ timestamp: now() - 301 })],
      ['a timestamp more than 5 minutes ahead', () => ({ timestamp: now() + 301 })],
      ['a malformed signature', () => ({ signature: 'v0=zz' })],
    ])('%s', async (_name, options) => {
      const response = await sim.sendSigned(body(), options());
      expect(response.status).toBe(401);
      expect(handlers.calls).toEqual([]);
    });

    it('missing headers', async () => {
      const response = await fetch(eventsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body() });
      expect(response.status).toBe(401);
      expect(handlers.calls).toEqual([]);
    });

    it('accepts a timestamp just inside the window', async () => {
      expect((await sim.sendSigned(body(), { timestamp: now() + 299 })).status).toBe(200);
    });
  });

  it('answers url_verification and ssl_check', async () => {
    const challenge = await sim.sendSigned(JSON.stringify({ type: 'url_verification', token: 't', challenge: 'abc123' }), { contentType: 'application/json' });
    expect(challenge).toMatchObject({ status: 200, json: { challenge: 'abc123' } });
    expect((await sim.sendSigned('ssl_check=1&token=t')).status).toBe(200);
  });

  it('acks Events API callbacks', async () => {
    const event = { type: 'event_callback', team_id: 'T0SANDBOX', api_app_id: 'A1', event: { type: 'app_home_opened', user: alice.id }, event_id: 'Ev1', event_time: 1 };
    expect((await sim.sendSigned(JSON.stringify(event), { contentType: 'application/json' })).status).toBe(200);
  });

  it.each([
    ['an unsupported content type', 'payload=%7B%7D', 'text/plain', 415],
    ['a payload that is not JSON', 'payload=%7Bnope', undefined, 400],
    ['a JSON array payload', 'payload=%5B%5D', undefined, 400],
    ['a form with neither payload nor command', 'hello=world', undefined, 400],
    ['a JSON body that is not an object', '"x"', 'application/json', 400],
  ])('rejects %s', async (_name, body, contentType, status) => {
    const response = await sim.sendSigned(body, contentType === undefined ? {} : { contentType });
    expect(response.status).toBe(status);
    expect(handlers.calls).toEqual([]);
  });

  it('rejects bodies over 1 MB with 413', async () => {
    const response = await sim.sendSigned(`payload=${'x'.repeat(1024 * 1024 + 1)}`);
    expect(response.status).toBe(413);
  });

  it('rejects other methods with 405', async () => {
    expect((await fetch(eventsUrl)).status).toBe(405);
  });

  it('keeps serving when a handler throws', async () => {
    handlers.onConfirmHook = async () => {
      throw new Error('database down');
    };
    const question = await chat.askOwner(alertView(), alice.id);
    const { response } = await click(question, CONFIRM_ACTION_ID);
    expect(response.status).toBe(200);
    await expect.poll(() => logger.lines.some((line) => line.level === 'error' && line.message === 'onConfirm failed')).toBe(true);
    const again = await click(question, DENY_ACTION_ID);
    expect(again.call.kind).toBe('deny');
  });

  it('answers a failed justification handler with a retry message on the form', async () => {
    handlers.onJustify = async () => {
      throw new Error('boom');
    };
    const payload = {
      type: 'view_submission',
      user: { id: alice.id },
      view: {
        callback_id: 'vouch.justify',
        private_metadata: JSON.stringify({ alertId: 'a1', channel: 'D1', ts: '1.2' }),
        state: { values: { [REASON_BLOCK_ID]: { reason: { type: 'plain_text_input', value: 'some reason here' } } } },
      },
    };
    const response = await sim.sendSigned(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(response.json).toEqual({ response_action: 'errors', errors: { [REASON_BLOCK_ID]: 'Something went wrong. Please try again.' } });
  });

  it('answers 200 when no listener acks in time, and writes the response once', async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await hostReceiver({ ackTimeoutMs: 20 });
    let release = () => {};
    handlers.commandGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const response = await sim.slashCommand({ userId: alice.id, command: '/vouch', text: 'slow' });
    expect(response).toMatchObject({ status: 200, body: '' });
    release();
    await expect.poll(() => logger.lines.some((line) => /late or repeated ack ignored/.test(line.message))).toBe(true);
    expect(logger.lines.some((line) => line.level === 'warn' && /no ack within the deadline/.test(line.message))).toBe(true);
  });

  it('refuses to start without secrets', () => {
    expect(() => createSlackReceiver({ signingSecret: '', botToken: TOKEN, clock, handlers })).toThrow(/slack\.signing_secret/);
    expect(() => createSlackReceiver({ signingSecret: SECRET, botToken: '', clock, handlers })).toThrow(/slack\.bot_token/);
  });

  it('makes no Web API call of its own', async () => {
    const question = await chat.askOwner(alertView(), alice.id);
    await click(question, DENY_ACTION_ID);
    await sim.slashCommand({ userId: alice.id, command: '/vouch', text: '' });
    expect(sim.calls().map((call) => call.method)).toEqual(['conversations.open', 'chat.postMessage']);
  });
});
