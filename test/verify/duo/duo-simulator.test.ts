import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { NotFoundError, RequestError } from '../../../src/errors.js';
import { createDuoSimulator, type DuoSimulator, type DuoSimulatorListener } from '../../../src/sandbox/duo-simulator.js';
import { buildSignedRequest, signRequest, type DuoParams, type DuoSignatureVersion } from '../../../src/verify/duo/duo-signer.js';

const IKEY = 'DIWJ8X6AEYOR5OMC6TQ1';
const SKEY = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';
const HOST = 'api-test.duosecurity.com';

let clock: ManualClock;
let sim: DuoSimulator;
let listener: DuoSimulatorListener;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  sim = createDuoSimulator({ integrationKey: IKEY, secretKey: SKEY, apiHost: HOST, clock, longPollMs: 0 });
  listener = await sim.listen();
});

afterEach(async () => {
  await sim.close();
});

interface RawOptions {
  params?: DuoParams;
  date?: Date | string;
  skey?: string;
  version?: DuoSignatureVersion;
  headers?: Record<string, string>;
}

/** Sends one signed request straight over HTTP and returns status and parsed JSON. */
async function raw(method: string, path: string, options: RawOptions = {}): Promise<{ status: number; body: unknown }> {
  const built = buildSignedRequest({
    ikey: IKEY,
    skey: options.skey ?? SKEY,
    method,
    host: HOST,
    path,
    params: options.params ?? {},
    date: options.date ?? clock.now(),
    version: options.version ?? 5,
  });
  const response = await fetch(listener.url + built.pathWithQuery, {
    method,
    headers: { ...built.headers, ...options.headers },
    body: built.body,
  });
  return { status: response.status, body: await response.json() };
}

/** Signs an arbitrary raw JSON body for POST /auth/v2/preauth (v5). */
function buildSignedBody(body: string): Record<string, string> {
  const date = clock.now().toUTCString();
  const { authorization } = signRequest({ ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: '/auth/v2/preauth', params: {}, date, body });
  return { Authorization: authorization, Date: date, 'Content-Type': 'application/json' };
}

/** Yields to the event loop (no timers) until the simulator holds `count` requests. */
async function untilHeld(count: number): Promise<void> {
  for (let i = 0; i < 10_000 && sim.heldRequests() < count; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(sim.heldRequests()).toBe(count);
}

describe('duo simulator: authentication', () => {
  it('answers ping without a signature', async () => {
    const response = await fetch(`${listener.url}/auth/v2/ping`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stat: 'OK', response: { time: Math.floor(clock.now().getTime() / 1000) } });
  });

  it('accepts a signed check in both canonical forms', async () => {
    expect((await raw('GET', '/auth/v2/check')).status).toBe(200);
    expect((await raw('GET', '/auth/v2/check', { version: 2 })).status).toBe(200);
  });

  it('rejects a bad signature with 401 40103', async () => {
    const response = await raw('GET', '/auth/v2/check', { skey: 'not-the-secret' });
    expect(response).toEqual({
      status: 401,
      body: { stat: 'FAIL', code: 40103, message: 'Invalid signature in request credentials' },
    });
  });

  it('rejects a body changed after signing', async () => {
    const built = buildSignedRequest({
      ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: '/auth/v2/preauth', params: { username: 'alice' }, date: clock.now(),
    });
    const response = await fetch(`${listener.url}/auth/v2/preauth`, {
      method: 'POST',
      headers: built.headers,
      body: JSON.stringify({ username: 'mallory' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 40103 });
  });

  it('rejects a stale or future Date with 401, and accepts one just inside five minutes', async () => {
    const old = new Date(clock.now().getTime() - 5 * 60_000 - 1000);
    const future = new Date(clock.now().getTime() + 6 * 60_000);
    expect(await raw('GET', '/auth/v2/check', { date: old })).toMatchObject({ status: 401, body: { stat: 'FAIL', code: 40105 } });
    expect((await raw('GET', '/auth/v2/check', { date: future })).status).toBe(401);
    expect((await raw('GET', '/auth/v2/check', { date: 'not a date' })).status).toBe(401);
    const recent = new Date(clock.now().getTime() - 4 * 60_000);
    expect((await raw('GET', '/auth/v2/check', { date: recent })).status).toBe(200);
  });

  it('rejects a missing Authorization header and a wrong integration key', async () => {
    const response = await fetch(`${listener.url}/auth/v2/check`, { headers: { Date: clock.now().toUTCString() } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ stat: 'FAIL', code: 40101 });
    const wrongKey = 'Basic ' + Buffer.from('DIOTHER:abc').toString('base64');
    const other = await raw('GET', '/auth/v2/check', { headers: { Authorization: wrongKey } });
    expect(other).toMatchObject({ status: 401, body: { code: 40102 } });
  });

  it('signs for the configured host, not the address it listens on', async () => {
    const built = buildSignedRequest({
      ikey: IKEY, skey: SKEY, method: 'GET', host: new URL(listener.url).host, path: '/auth/v2/check', params: {}, date: clock.now(),
    });
    const response = await fetch(`${listener.url}/auth/v2/check`, { headers: built.headers });
    expect(response.status).toBe(401);
  });
});

describe('duo simulator: endpoints', () => {
  it('answers missing parameters with 400 40002', async () => {
    const missing = { status: 400, body: { stat: 'FAIL', code: 40002, message: 'Missing required request parameters' } };
    expect(await raw('POST', '/auth/v2/auth', { params: { factor: 'push' } })).toMatchObject(missing);
    expect(await raw('POST', '/auth/v2/preauth')).toMatchObject(missing);
    expect(await raw('GET', '/auth/v2/auth_status')).toMatchObject(missing);
    sim.addUser('alice');
    expect(await raw('POST', '/auth/v2/auth', { params: { username: 'alice' } })).toMatchObject(missing);
  });

  it('answers invalid parameters with 400 40003', async () => {
    sim.addUser('alice');
    expect(await raw('POST', '/auth/v2/auth', { params: { username: 'alice', factor: 'sms' } })).toMatchObject({
      status: 400,
      body: { code: 40003, message_detail: 'factor' },
    });
    expect(await raw('GET', '/auth/v2/auth_status', { params: { txid: 'unknown' } })).toMatchObject({ status: 400 });
  });

  it('treats hostile keys and bodies as data', async () => {
    sim.addUser('bob');
    const form = await raw('POST', '/auth/v2/preauth', { version: 2, params: { __proto__x: '1', ['__proto__']: 'x', username: 'bob' } });
    expect(form).toMatchObject({ status: 200, body: { response: { result: 'auth' } } });
    const built = buildSignedRequest({
      ikey: IKEY, skey: SKEY, method: 'POST', host: HOST, path: '/auth/v2/preauth', params: {}, date: clock.now(),
    });
    for (const body of ['{"username":', '["bob"]', '{"username":{"$ne":1}}']) {
      const signed = { ...built.headers, ...buildSignedBody(body) };
      const response = await fetch(`${listener.url}/auth/v2/preauth`, { method: 'POST', headers: signed, body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ stat: 'FAIL', code: 40003 });
    }
  });

  it('answers unknown paths with a 404 JSON error', async () => {
    expect(await raw('GET', '/auth/v2/nothing')).toMatchObject({ status: 404, body: { stat: 'FAIL', code: 40401 } });
  });

  it('walks a push through waiting/pushed to allow/allow over the wire', async () => {
    sim.addUser('bob');
    const pushed = sim.nextPush();
    const auth = await raw('POST', '/auth/v2/auth', {
      params: { username: 'bob', factor: 'push', device: 'auto', async: '1', pushinfo: 'host=web-1&command=ls%20-la', type: 'Vouch' },
    });
    expect(auth.status).toBe(200);
    const txid = (auth.body as { response: { txid: string } }).response.txid;
    const push = await pushed;
    expect(push).toMatchObject({ txid, username: 'bob', pushinfo: { host: 'web-1', command: 'ls -la' }, type: 'Vouch', outcome: null });
    expect(push.createdAt).toEqual(clock.now());
    expect((await raw('GET', '/auth/v2/auth_status', { params: { txid } })).body).toEqual({
      stat: 'OK',
      response: { result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request to your device...' },
    });
    sim.respond(txid, 'allow');
    expect((await raw('GET', '/auth/v2/auth_status', { params: { txid } })).body).toMatchObject({
      response: { result: 'allow', status: 'allow' },
    });
  });

  it('accepts a v2 form-encoded auth', async () => {
    sim.addUser('bob');
    const auth = await raw('POST', '/auth/v2/auth', {
      version: 2,
      params: { username: 'bob', factor: 'push', device: 'auto', async: '1', pushinfo: 'a=%2B1' },
    });
    expect(auth.status).toBe(200);
    expect(sim.pushes()[0]?.pushinfo).toEqual({ a: '+1' });
  });

  it('a synchronous auth blocks until the answer', async () => {
    sim.addUser('bob');
    sim.on('push', (push) => queueMicrotask(() => sim.respond(push.txid, 'deny')));
    const auth = await raw('POST', '/auth/v2/auth', { params: { username: 'bob', factor: 'auto', device: 'auto' } });
    expect(auth.body).toMatchObject({ stat: 'OK', response: { result: 'deny', status: 'deny' } });
  });

  it('failNext and rateLimitNext answer the next requests, then clear', async () => {
    sim.rateLimitNext(1, 3);
    const limited = await fetch(`${listener.url}/auth/v2/ping`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toMatchObject({ stat: 'FAIL', code: 42901 });
    sim.failNext(2, 502, 'bad gateway');
    expect((await fetch(`${listener.url}/auth/v2/ping`)).status).toBe(502);
    expect(await (await fetch(`${listener.url}/auth/v2/ping`)).text()).toBe('bad gateway');
    expect((await fetch(`${listener.url}/auth/v2/ping`)).status).toBe(200);
  });

  it('respond refuses unknown and already answered pushes', async () => {
    sim.addUser('bob');
    await raw('POST', '/auth/v2/auth', { params: { username: 'bob', factor: 'push', async: '1' } });
    const [push] = sim.pendingPushes();
    expect(() => sim.respond('nope', 'allow')).toThrow(NotFoundError);
    sim.respond(push?.txid ?? '', 'deny');
    expect(() => sim.respond(push?.txid ?? '', 'allow')).toThrow(RequestError);
    expect(sim.pushes()[0]?.outcome).toBe('deny');
  });

  it('close releases a held long poll', async () => {
    await sim.close();
    sim = createDuoSimulator({ integrationKey: IKEY, secretKey: SKEY, apiHost: HOST, clock, longPollMs: 60_000 });
    listener = await sim.listen();
    sim.addUser('bob');
    const auth = await raw('POST', '/auth/v2/auth', { params: { username: 'bob', factor: 'push', async: '1' } });
    const txid = (auth.body as { response: { txid: string } }).response.txid;
    const held = raw('GET', '/auth/v2/auth_status', { params: { txid } });
    await untilHeld(1);
    await sim.close();
    expect(await held).toMatchObject({ status: 200, body: { response: { result: 'waiting', status: 'pushed' } } });
    expect(sim.heldRequests()).toBe(0);
  });

  it('a held long poll answers as soon as the push is answered', async () => {
    await sim.close();
    sim = createDuoSimulator({ integrationKey: IKEY, secretKey: SKEY, apiHost: HOST, clock, longPollMs: 60_000 });
    listener = await sim.listen();
    sim.addUser('bob');
    const auth = await raw('POST', '/auth/v2/auth', { params: { username: 'bob', factor: 'push', async: '1' } });
    const txid = (auth.body as { response: { txid: string } }).response.txid;
    const held = raw('GET', '/auth/v2/auth_status', { params: { txid } });
    await untilHeld(1);
    sim.respond(txid, 'fraud');
    expect(await held).toMatchObject({ status: 200, body: { response: { result: 'deny', status: 'fraud' } } });
    expect(sim.heldRequests()).toBe(0);
  });

  it('refuses an oversized body with 413', async () => {
    const response = await fetch(`${listener.url}/auth/v2/preauth`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Date: clock.now().toUTCString() },
      body: JSON.stringify({ username: 'x'.repeat(300 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ stat: 'FAIL', code: 41301 });
  });
});
