import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifySlackRequest } from '../../src/chat/slack/request-verifier.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError, NotFoundError } from '../../src/errors.js';
import { createSlackSimulator, TRIGGER_TTL_MS, type SlackSimulator, type SimulatedUser } from '../../src/sandbox/slack-simulator.js';

const TOKEN = 'xoxb-sim-token';
const SECRET = 'sim-signing-secret';

interface Captured {
  headers: IncomingHttpHeaders;
  body: string;
}

/** An app endpoint that records what the simulator sends and answers with `reply`. */
async function captureServer(reply: (body: string) => { status: number; body: string; type?: string } = () => ({ status: 200, body: '' })) {
  const received: Captured[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ headers: req.headers, body });
    const answer = reply(body);
    res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slack/events`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Tests read deep into Slack's JSON; `any` keeps those assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function payloadOf(captured: Captured | undefined): Json {
  return JSON.parse(new URLSearchParams(captured?.body ?? '').get('payload') ?? 'null');
}

describe('Slack simulator', () => {
  let clock: ManualClock;
  let sim: SlackSimulator;
  let api: { url: string; close(): Promise<void> };
  let alice: SimulatedUser;

  async function call(method: string, args: Record<string, string>, token: string | null = TOKEN) {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${api.url}${method}`, { method: 'POST', headers, body: new URLSearchParams(args).toString() });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Json };
  }

  function section(text: string) {
    return { type: 'section', text: { type: 'mrkdwn', text } };
  }

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
    sim = createSlackSimulator({ botToken: TOKEN, signingSecret: SECRET, clock });
    api = await sim.listen();
    alice = sim.addUser({ name: 'alice', email: 'Alice@Example.com', realName: 'Alice Smith' });
  });

  afterEach(async () => {
    await api.close();
  });

  describe('Web API', () => {
    it("reports a user's time zone in users.info (default UTC)", async () => {
      const bob = sim.addUser({ name: 'bob', email: 'bob@example.com', tz: 'America/New_York' });
      expect((await call('users.info', { user: bob.id })).json.user).toMatchObject({ tz: 'America/New_York', tz_label: 'America/New_York' });
      expect((await call('users.info', { user: alice.id })).json.user).toMatchObject({ tz: 'UTC', tz_offset: 0 });
    });

    it('lists a thread with conversations.replies, parent first, with metadata on request', async () => {
      const parent = (await call('chat.postMessage', { channel: 'C0SECURITY', text: 'heads-up' })).json;
      await call('chat.postMessage', { channel: 'C0SECURITY', text: 'elsewhere' });
      const metadata = JSON.stringify({ event_type: 'vouch_outcome', event_payload: { alert_id: 'al_1' } });
      const reply = (await call('chat.postMessage', { channel: 'C0SECURITY', text: 'outcome', thread_ts: parent.ts, metadata })).json;
      const listed = (await call('conversations.replies', { channel: 'C0SECURITY', ts: parent.ts, include_all_metadata: 'true' })).json;
      expect(listed.messages.map((m: Json) => m.ts)).toEqual([parent.ts, reply.ts]);
      expect(listed.messages[1].metadata).toEqual(JSON.parse(metadata));
      expect((await call('conversations.replies', { channel: 'C0SECURITY', ts: '1.000001' })).json).toEqual({ ok: false, error: 'thread_not_found' });
    });

    it('lists nothing, without an error, in a channel where nothing was posted yet', async () => {
      expect((await call('conversations.history', { channel: 'C0QUIET' })).json).toMatchObject({ ok: true, messages: [], has_more: false });
    });

    it('chat.update replaces the metadata it is given (history sees it) and keeps it when given none', async () => {
      const before = JSON.stringify({ event_type: 'vouch_announcement', event_payload: { alert_id: 'al_1' } });
      const after = { event_type: 'vouch_escalation', event_payload: { alert_id: 'al_1' } };
      const posted = (await call('chat.postMessage', { channel: 'C0SECURITY', text: 'heads-up', metadata: before })).json;
      await call('chat.update', { channel: 'C0SECURITY', ts: posted.ts, text: 'escalation', metadata: JSON.stringify(after) });
      const history = async () => (await call('conversations.history', { channel: 'C0SECURITY', include_all_metadata: 'true' })).json.messages;
      expect(await history()).toEqual([expect.objectContaining({ ts: posted.ts, text: 'escalation', metadata: after })]);
      await call('chat.update', { channel: 'C0SECURITY', ts: posted.ts, text: 'escalation, again' });
      expect((await history())[0]).toMatchObject({ text: 'escalation, again', metadata: after });
      const refused = (await call('chat.update', { channel: 'C0SECURITY', ts: posted.ts, text: 'x', metadata: JSON.stringify({ event_type: 'x' }) })).json;
      expect(refused).toEqual({ ok: false, error: 'invalid_metadata_format' });
      expect(sim.messages('C0SECURITY')[0]).toMatchObject({ text: 'escalation, again', metadata: after });
    });

    it('serves under /api/ and checks the token', async () => {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
      expect((await call('auth.test', {}, null)).json).toEqual({ ok: false, error: 'not_authed' });
      expect((await call('auth.test', {}, 'xoxb-wrong')).json).toEqual({ ok: false, error: 'invalid_auth' });
      expect((await call('auth.test', {})).json).toMatchObject({ ok: true, user_id: 'U0VOUCHBOT', bot_id: 'B0VOUCHBOT' });
      expect((await call('auth.test', { token: TOKEN }, null)).json.ok).toBe(true);
      expect((await call('nope.nothing', {})).json).toEqual({ ok: false, error: 'unknown_method' });
    });

    it('accepts JSON bodies too', async () => {
      const response = await fetch(`${api.url}users.info`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ user: alice.id }),
      });
      expect(await response.json()).toMatchObject({ ok: true, user: { id: alice.id, profile: { email: 'Alice@Example.com' } } });
    });

    it('looks people up by email, case-insensitively', async () => {
      expect((await call('users.lookupByEmail', { email: 'alice@example.com' })).json).toMatchObject({ ok: true, user: { id: alice.id, real_name: 'Alice Smith' } });
      expect((await call('users.lookupByEmail', { email: 'bob@example.com' })).json).toEqual({ ok: false, error: 'users_not_found' });
      expect((await call('users.info', { user: 'UNOBODY' })).json).toEqual({ ok: false, error: 'user_not_found' });
    });

    it('opens the same DM every time', async () => {
      const first = await call('conversations.open', { users: alice.id });
      const second = await call('conversations.open', { users: alice.id });
      expect(first.json.channel.id).toBe(sim.dmChannelFor(alice.id));
      expect(second.json).toMatchObject({ ok: true, already_open: true, channel: { id: first.json.channel.id } });
      expect((await call('conversations.open', { users: 'UNOBODY' })).json.error).toBe('user_not_found');
    });

    it('posts and updates messages, keeping the edit history', async () => {
      const channel = sim.dmChannelFor(alice.id);
      const posted = await call('chat.postMessage', { channel, text: 'hello', blocks: JSON.stringify([section('*hi*')]) });
      expect(posted.json).toMatchObject({ ok: true, channel, message: { text: 'hello', bot_id: 'B0VOUCHBOT' } });
      clock.advance(1000);
      const updated = await call('chat.update', { channel, ts: posted.json.ts, text: 'bye', blocks: JSON.stringify([section('done')]) });
      expect(updated.json).toMatchObject({ ok: true, ts: posted.json.ts });
      const [message] = sim.messages(channel);
      expect(message).toMatchObject({ text: 'bye', blocks: [section('done')], edits: [{ text: 'hello', blocks: [section('*hi*')] }] });
      expect(sim.calls('chat.postMessage')[0]?.args).toMatchObject({ channel, text: 'hello', blocks: [section('*hi*')] });
      expect((await call('chat.update', { channel, ts: '1.000000', text: 'x' })).json.error).toBe('message_not_found');
    });

    it('gives every message a distinct ts and posts to a user id as their DM', async () => {
      const a = await call('chat.postMessage', { channel: alice.id, text: 'one' });
      const b = await call('chat.postMessage', { channel: alice.id, text: 'two', thread_ts: a.json.ts });
      expect(a.json.channel).toBe(sim.dmChannelFor(alice.id));
      expect(a.json.ts).not.toBe(b.json.ts);
      expect(sim.messages(a.json.channel)[1]?.threadTs).toBe(a.json.ts);
      expect((await call('chat.postMessage', { channel: 'DUNKNOWN', text: 'x' })).json.error).toBe('channel_not_found');
    });

    it('enforces Block Kit and message limits', async () => {
      const channel = 'C0SECURITY';
      const tooMany = JSON.stringify(Array.from({ length: 51 }, () => ({ type: 'divider' })));
      const tooLong = JSON.stringify([section('x'.repeat(3001))]);
      const badField = JSON.stringify([{ type: 'section', fields: [{ type: 'mrkdwn', text: 'y'.repeat(2001) }] }]);
      const badButton = JSON.stringify([{ type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'mrkdwn', text: 'b' } }] }]);
      const emptyText = JSON.stringify([section('')]);
      for (const blocks of [tooMany, tooLong, badField, badButton, emptyText]) {
        const { json } = await call('chat.postMessage', { channel, text: 'x', blocks });
        expect(json).toMatchObject({ ok: false, error: 'invalid_blocks' });
        expect(json.response_metadata.messages[0]).toMatch(/^\[ERROR\] .* \[json-pointer:\/blocks/);
      }
      expect((await call('chat.postMessage', { channel, text: 'z'.repeat(40_001) })).json.error).toBe('msg_too_long');
      expect((await call('chat.postMessage', { channel })).json.error).toBe('no_text');
      expect((await call('chat.postMessage', { channel, text: 'x', blocks: '[not json' })).json.error).toBe('invalid_blocks_format');
      expect(sim.messages(channel)).toHaveLength(0);
    });

    it('posts ephemeral messages for one user', async () => {
      const channel = sim.dmChannelFor(alice.id);
      const { json } = await call('chat.postEphemeral', { channel, user: alice.id, text: 'psst' });
      expect(json).toMatchObject({ ok: true, message_ts: expect.any(String) });
      expect(sim.messages(channel)[0]).toMatchObject({ text: 'psst', ephemeralTo: alice.id });
      expect((await call('chat.postEphemeral', { channel, user: 'UNOBODY', text: 'x' })).json.error).toBe('user_not_found');
    });

    it('rate-limits and fails on request, then recovers', async () => {
      sim.rateLimitNext('auth.test', 2, 7);
      sim.failNext('users.info', 'fatal_error');
      const limited = await call('auth.test', {});
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect((await call('auth.test', {})).status).toBe(429);
      expect((await call('auth.test', {})).json.ok).toBe(true);
      expect((await call('users.info', { user: alice.id })).json).toEqual({ ok: false, error: 'fatal_error' });
      expect((await call('users.info', { user: alice.id })).json.ok).toBe(true);
      expect(sim.calls('auth.test').map((c) => c.status)).toEqual([429, 429, 200]);
    });

    it('opens views only with a fresh, unused trigger from an interaction', async () => {
      const app = await captureServer();
      try {
        sim.setRequestUrl(app.url);
        const view = {
          type: 'modal',
          callback_id: 'cb',
          title: { type: 'plain_text', text: 'Title' },
          submit: { type: 'plain_text', text: 'Go' },
          private_metadata: '{"a":1}',
          blocks: [{ type: 'input', block_id: 'b1', label: { type: 'plain_text', text: 'L' }, element: { type: 'plain_text_input', action_id: 'reason' } }],
        };
        expect((await call('views.open', { trigger_id: 'made-up', view: JSON.stringify(view) })).json.error).toBe('invalid_trigger_id');
        await sim.slashCommand({ userId: alice.id, command: '/vouch', text: '' });
        const trigger = new URLSearchParams(app.received[0]?.body).get('trigger_id') ?? '';
        const opened = await call('views.open', { trigger_id: trigger, view: JSON.stringify(view) });
        expect(opened.json).toMatchObject({ ok: true, view: { id: expect.stringMatching(/^V/), callback_id: 'cb', private_metadata: '{"a":1}' } });
        expect(sim.openViews(alice.id)).toHaveLength(1);
        expect((await call('views.open', { trigger_id: trigger, view: JSON.stringify(view) })).json.error).toBe('exchanged_trigger_id');

        await sim.slashCommand({ userId: alice.id, command: '/vouch', text: '' });
        const late = new URLSearchParams(app.received[1]?.body).get('trigger_id') ?? '';
        clock.advance(TRIGGER_TTL_MS + 1);
        expect((await call('views.open', { trigger_id: late, view: JSON.stringify(view) })).json.error).toBe('expired_trigger_id');

        await sim.slashCommand({ userId: alice.id, command: '/vouch', text: '' });
        const fresh = new URLSearchParams(app.received[2]?.body).get('trigger_id') ?? '';
        const longTitle = { ...view, title: { type: 'plain_text', text: 'x'.repeat(25) } };
        expect((await call('views.open', { trigger_id: fresh, view: JSON.stringify(longTitle) })).json).toMatchObject({
          ok: false,
          error: 'invalid_arguments',
          response_metadata: { messages: [expect.stringContaining('/view/title/text')] },
        });
      } finally {
        await app.close();
      }
    });
  });

  describe('interactivity', () => {
    let app: Awaited<ReturnType<typeof captureServer>>;
    let reply: { status: number; body: string; type?: string };

    beforeEach(async () => {
      reply = { status: 200, body: '' };
      app = await captureServer(() => reply);
      sim.setRequestUrl(app.url);
    });

    afterEach(async () => {
      await app.close();
    });

    async function postQuestion(): Promise<{ channel: string; ts: string }> {
      const channel = sim.dmChannelFor(alice.id);
      const blocks = [
        section('Was this you?'),
        { type: 'actions', block_id: 'vouch.answer', elements: [{ type: 'button', action_id: 'vouch.confirm', text: { type: 'plain_text', text: 'Yes' }, value: 'alert-1', style: 'primary' }] },
      ];
      const { json } = await call('chat.postMessage', { channel, text: 'Was this you?', blocks: JSON.stringify(blocks) });
      return { channel, ts: json.ts };
    }

    it('signs requests exactly like Slack', async () => {
      const question = await postQuestion();
      await sim.clickButton({ userId: alice.id, channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' });
      const [request] = app.received;
      expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request?.headers['x-slack-request-timestamp']).toBe(String(clock.now().getTime() / 1000));
      expect(
        verifySlackRequest({
          signingSecret: SECRET,
          timestampHeader: request?.headers['x-slack-request-timestamp'],
          signatureHeader: request?.headers['x-slack-signature'],
          rawBody: request?.body ?? '',
          now: clock.now(),
        }),
      ).toEqual({ ok: true });
    });

    it('sends block_actions payloads in Slack shape', async () => {
      const question = await postQuestion();
      await sim.clickButton({ userId: alice.id, channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' });
      const payload = payloadOf(app.received[0]);
      expect(payload).toMatchObject({
        type: 'block_actions',
        user: { id: alice.id, username: 'alice', team_id: 'T0SANDBOX' },
        team: { id: 'T0SANDBOX' },
        api_app_id: 'A0VOUCHAPP',
        channel: { id: question.channel },
        message: { ts: question.ts, text: 'Was this you?' },
        container: { type: 'message', message_ts: question.ts, channel_id: question.channel },
        trigger_id: expect.any(String),
        response_url: expect.stringMatching(/^https:\/\/hooks\.slack\.com\//),
        actions: [{ type: 'button', action_id: 'vouch.confirm', block_id: 'vouch.answer', value: 'alert-1', text: { text: 'Yes' } }],
      });
    });

    it('refuses clicks on things that do not exist', async () => {
      const question = await postQuestion();
      await expect(sim.clickButton({ userId: alice.id, channel: question.channel, ts: question.ts, actionId: 'nope' })).rejects.toThrow(NotFoundError);
      await expect(sim.clickButton({ userId: alice.id, channel: question.channel, ts: '9.9', actionId: 'vouch.confirm' })).rejects.toThrow(NotFoundError);
      await expect(sim.clickButton({ userId: 'UNOBODY', channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' })).rejects.toThrow(NotFoundError);
      const detached = createSlackSimulator({ botToken: TOKEN, signingSecret: SECRET });
      await expect(detached.sendSigned('x=1')).rejects.toThrow(ConfigError);
    });

    it('sends slash commands as plain form fields and shows the reply to the user', async () => {
      reply = { status: 200, body: JSON.stringify({ response_type: 'ephemeral', text: 'You have 2 open alerts' }) };
      const result = await sim.slashCommand({ userId: alice.id, command: '/vouch', text: 'status' });
      expect(result).toMatchObject({ status: 200, json: { text: 'You have 2 open alerts' } });
      const form = Object.fromEntries(new URLSearchParams(app.received[0]?.body));
      expect(form).toMatchObject({ command: '/vouch', text: 'status', user_id: alice.id, user_name: 'alice', team_id: 'T0SANDBOX', channel_id: sim.dmChannelFor(alice.id) });
      expect(sim.messages(sim.dmChannelFor(alice.id))).toMatchObject([{ text: 'You have 2 open alerts', ephemeralTo: alice.id }]);
    });

    it('submits views with state.values and closes them on an empty 200', async () => {
      await sim.slashCommand({ userId: alice.id, command: '/vouch', text: '' });
      const trigger = new URLSearchParams(app.received[0]?.body).get('trigger_id') ?? '';
      const view = {
        type: 'modal',
        callback_id: 'vouch.justify',
        private_metadata: '{"alertId":"alert-1"}',
        title: { type: 'plain_text', text: 'Vouch' },
        submit: { type: 'plain_text', text: 'Continue' },
        blocks: [{ type: 'input', block_id: 'vouch.reason', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'reason', multiline: true } }],
      };
      const opened = await call('views.open', { trigger_id: trigger, view: JSON.stringify(view) });
      const viewId = opened.json.view.id as string;

      reply = { status: 200, body: JSON.stringify({ response_action: 'errors', errors: { 'vouch.reason': 'Too short' } }) };
      await sim.submitView({ userId: alice.id, viewId, values: { reason: 'no' } });
      expect(sim.openViews(alice.id)).toMatchObject([{ id: viewId, errors: { 'vouch.reason': 'Too short' } }]);

      reply = { status: 200, body: '' };
      await sim.submitView({ userId: alice.id, viewId, values: { reason: 'rotating the TLS certificates' } });
      const payload = payloadOf(app.received[2]);
      expect(payload).toMatchObject({
        type: 'view_submission',
        user: { id: alice.id },
        trigger_id: expect.any(String),
        view: {
          id: viewId,
          callback_id: 'vouch.justify',
          private_metadata: '{"alertId":"alert-1"}',
          hash: expect.any(String),
          state: { values: { 'vouch.reason': { reason: { type: 'plain_text_input', value: 'rotating the TLS certificates' } } } },
        },
      });
      expect(sim.openViews(alice.id)).toEqual([]);
      await expect(sim.submitView({ userId: alice.id, viewId, values: { reason: 'again' } })).rejects.toThrow(NotFoundError);
    });

    it('can send forged and stale requests for negative tests', async () => {
      await sim.sendSigned('payload=%7B%7D', { secret: 'wrong', timestamp: 5, contentType: 'text/plain' });
      const [request] = app.received;
      expect(request?.headers['x-slack-request-timestamp']).toBe('5');
      expect(request?.headers['content-type']).toBe('text/plain');
      expect(verifySlackRequest({ signingSecret: SECRET, timestampHeader: '5', signatureHeader: request?.headers['x-slack-signature'], rawBody: request?.body ?? '', now: new Date(5000) })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });
  });
});
