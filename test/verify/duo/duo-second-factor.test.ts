import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { SecondFactorUnavailableError } from '../../../src/errors.js';
import { createDuoSimulator, type DuoSimulator, type DuoSimulatorListener } from '../../../src/sandbox/duo-simulator.js';
import { DuoClient, DuoTimeoutError, encodePushinfo, type DuoClientOptions } from '../../../src/verify/duo/duo-client.js';
import { DuoSecondFactor } from '../../../src/verify/duo/duo-second-factor.js';
import { HostileDuo } from '../../helpers/hostile-duo.js';

const IKEY = 'DIWJ8X6AEYOR5OMC6TQ1';
const SKEY = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';
const API_HOST = 'API-Test.DuoSecurity.com';

let clock: ManualClock;
let sim: DuoSimulator;
let listener: DuoSimulatorListener;
let sleeps: number[];

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  sim = createDuoSimulator({ integrationKey: IKEY, secretKey: SKEY, apiHost: API_HOST, clock, longPollMs: 10_000 });
  listener = await sim.listen();
  sleeps = [];
});

afterEach(async () => {
  await sim.close();
});

function clientOptions(overrides: Partial<DuoClientOptions> = {}): DuoClientOptions {
  return {
    integrationKey: IKEY,
    secretKey: SKEY,
    apiHost: API_HOST,
    apiUrl: listener.url,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
}

function factor(overrides: Partial<DuoClientOptions> = {}): DuoSecondFactor {
  return new DuoSecondFactor(new DuoClient(clientOptions(overrides)));
}

const REQUEST = {
  username: 'alice',
  title: 'Vouch: was this you?',
  details: { host: 'web-1', command: 'sudo cat /etc/shadow', rule: 'shadow-read' },
};

/** Starts a push for alice and returns its transaction id and the push the simulator saw. */
async function startAlicePush(second: DuoSecondFactor) {
  const seen = sim.nextPush('alice');
  const start = await second.startPush(REQUEST);
  if (start.kind !== 'started') throw new Error(`expected a started push, got ${JSON.stringify(start)}`);
  return { txid: start.transactionId, push: await seen };
}

describe('DuoSecondFactor against the simulator', () => {

  it('says a push it starts reaches Duo within two request timeouts (preauth, then auth)', () => {
    expect(factor({ requestTimeoutMs: 3000 }).startPushWithinMs).toBe(6000);
    expect(factor().startPushWithinMs).toBe(20_000);
  });
  it('an allowed push is allowed, after waiting while nobody has answered', async () => {
    await sim.close();
    sim = createDuoSimulator({ integrationKey: IKEY, secretKey: SKEY, apiHost: API_HOST, clock, longPollMs: 0 });
    listener = await sim.listen();
    sim.addUser('alice');
    const second = factor();
    const { txid, push } = await startAlicePush(second);
    expect(push.txid).toBe(txid);
    expect(sim.pendingPushes().map((p) => p.txid)).toEqual([txid]);
    expect(await second.pushStatus(txid, { waitMs: 5000 })).toEqual({
      result: 'waiting',
      status: 'pushed',
      message: 'Pushed a login request to your device...',
    });
    sim.respond(txid, 'allow');
    expect(await second.pushStatus(txid, { waitMs: 5000 })).toEqual({
      result: 'allow',
      status: 'allow',
      message: 'Success. Logging you in...',
    });
    expect(sim.pendingPushes()).toEqual([]);
    expect(sim.pushes()[0]?.outcome).toBe('allow');
  });

  it('a held long poll is released by the answer', async () => {
    sim.addUser('alice');
    const second = factor();
    const { txid } = await startAlicePush(second);
    const status = second.pushStatus(txid, { waitMs: 20_000 });
    sim.respond(txid, 'allow');
    expect((await status).result).toBe('allow');
  });

  it.each([
    ['deny', 'deny'],
    ['fraud', 'fraud'],
    ['timeout', 'timeout'],
  ] as const)('a %s answer is a deny with status %s', async (answer, status) => {
    sim.addUser('alice');
    const second = factor();
    const { txid } = await startAlicePush(second);
    sim.respond(txid, answer);
    const result = await second.pushStatus(txid, { waitMs: 5000 });
    expect(result.result).toBe('deny');
    expect(result.status).toBe(status);
  });

  it('an unanswered push times out once the expiry passes on the clock', async () => {
    sim.addUser('alice');
    const second = factor();
    const { txid } = await startAlicePush(second);
    clock.advance(61_000);
    expect(await second.pushStatus(txid, { waitMs: 5000 })).toMatchObject({ result: 'deny', status: 'timeout' });
  });

  it('autoRespond answers pushes for a user at once', async () => {
    sim.addUser('alice');
    sim.autoRespond('alice', 'fraud');
    const second = factor();
    const { txid, push } = await startAlicePush(second);
    expect(push.outcome).toBe('fraud');
    expect((await second.pushStatus(txid, { waitMs: 5000 })).status).toBe('fraud');
  });

  it('refuses without pushing: no device, not enrolled, unknown, locked out, bypass', async () => {
    sim.addUser('nodevice', { devices: 'none' });
    sim.addUser('newbie', { enroll: true });
    sim.addUser('locked', { policy: 'deny' });
    sim.addUser('bypassed', { policy: 'allow' });
    const second = factor();
    const reasonFor = async (username: string) => {
      const start = await second.startPush({ ...REQUEST, username });
      return start.kind === 'refused' ? start.reason : start.kind;
    };
    expect(await reasonFor('nodevice')).toBe('no_device');
    expect(await reasonFor('newbie')).toBe('enroll');
    expect(await reasonFor('stranger')).toBe('enroll');
    expect(await reasonFor('locked')).toBe('deny');
    expect(await reasonFor('bypassed')).toBe('bypass');
    expect(sim.pushes()).toEqual([]);
  });

  it('pushinfo carries host, command and rule; the title is the push type', async () => {
    sim.addUser('alice');
    const { push } = await startAlicePush(factor());
    expect(push.pushinfo).toEqual(REQUEST.details);
    expect(push.type).toBe(REQUEST.title);
  });

  it('truncates a 1 MB hostile command and keeps pushinfo under 2000 bytes', async () => {
    sim.addUser('alice');
    const command = `rm -rf / <!channel> <script>x</script>\u0000\u001b[2J\uD800${'A'.repeat(1024 * 1024)}`;
    const seen = sim.nextPush('alice');
    const start = await factor().startPush({ ...REQUEST, details: { host: 'web-1', command, rule: 'rm-root' } });
    expect(start.kind).toBe('started');
    const push = await seen;
    expect(push.pushinfo['host']).toBe('web-1');
    expect(push.pushinfo['rule']).toBe('rm-root');
    const shown = push.pushinfo['command'] ?? '';
    expect(shown.startsWith('rm -rf / <!channel> <script>x</script>\\x00\\x1b[2J\\ud800AAA')).toBe(true);
    expect(shown.endsWith('\u2026')).toBe(true);
    expect(shown.length).toBeLessThan(500);
    expect(encodePushinfo(push.pushinfo).length).toBeLessThan(2000);
  });

  it('shows bidi, zero-width and control characters in pushinfo as visible escapes', async () => {
    sim.addUser('alice');
    const details = {
      host: 'web-1\u202e\n> fake',
      command: 'sudo rm\u200b -rf /\u2066x\u2069\u061c\ufeff\u00ad\u180e\u{e0041}',
      rule: 'shadow\u200d-read\u0085',
    };
    const seen = sim.nextPush('alice');
    await factor().startPush({ ...REQUEST, details });
    expect((await seen).pushinfo).toEqual({
      host: 'web-1\\u202e\\x0a> fake',
      command: 'sudo rm\\u200b -rf /\\u2066x\\u2069\\u061c\\ufeff\\xad\\u180e\\u{e0041}',
      rule: 'shadow\\u200d-read\\x85',
    });
  });

  it('keeps pushinfo under budget when every value is long and multi-byte', async () => {
    sim.addUser('alice');
    const details = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, '\u{1F600}'.repeat(5000)]));
    const seen = sim.nextPush('alice');
    await factor().startPush({ ...REQUEST, details });
    expect(encodePushinfo((await seen).pushinfo).length).toBeLessThan(2000);
  });
});

describe('DuoClient failures are SecondFactorUnavailableError', () => {
  it('a wrong secret key: the simulator answers 401 40103, and the key is not in the message', async () => {
    sim.addUser('alice');
    const error = await factor({ secretKey: 'wrong-secret-key-value' }).startPush(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecondFactorUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain('HTTP 401');
    expect(message).toContain('40103');
    expect(message).toContain('Invalid signature in request credentials');
    expect(message).not.toContain('wrong-secret-key-value');
  });

  it('an unreachable simulator', async () => {
    const url = listener.url;
    await listener.close();
    const error = await factor({ apiUrl: url }).startPush(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecondFactorUnavailableError);
    expect((error as Error).message).toMatch(/could not be reached/);
  });

  it('a non-JSON 500 body', async () => {
    sim.failNext(1, 500, '<html>Internal Server Error</html>');
    const error = await new DuoClient(clientOptions()).check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecondFactorUnavailableError);
    expect((error as Error).message).toContain('HTTP 500 with a non-JSON body: <html>Internal Server Error</html>');
  });

  it('a FAIL envelope names the code and message', async () => {
    sim.failNext(1, 503);
    await expect(new DuoClient(clientOptions()).check()).rejects.toThrow(/HTTP 503, code 50300: Simulated failure/);
  });

  it('an unexpected shape', async () => {
    sim.failNext(1, 200, '{"stat":"OK","response":{"txid":42}}');
    sim.addUser('alice');
    await expect(factor().startPush(REQUEST)).rejects.toThrow(SecondFactorUnavailableError);
  });

  it('429 with Retry-After is retried after the wait asked for, then succeeds', async () => {
    sim.rateLimitNext(2, 7);
    const client = new DuoClient(clientOptions());
    expect(await client.check()).toEqual({ time: Math.floor(clock.now().getTime() / 1000) });
    expect(sleeps).toEqual([7000, 7000]);
  });

  it('429 beyond maxRetries gives up', async () => {
    sim.rateLimitNext(10, 1);
    await expect(new DuoClient(clientOptions({ maxRetries: 2 })).check()).rejects.toThrow(/rate limited \(HTTP 429\) after 3 attempts/);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('a hanging request times out', async () => {
    sim.hangNext(1);
    const error = await new DuoClient(clientOptions({ requestTimeoutMs: 50 })).check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuoTimeoutError);
    expect(error).toBeInstanceOf(SecondFactorUnavailableError);
    expect((error as Error).message).toContain('did not answer within 50 ms');
  });

  it('a long poll that outlives waitMs reads as waiting, not as an outage', async () => {
    sim.addUser('alice');
    const second = factor();
    const { txid } = await startAlicePush(second);
    sim.hangNext(1);
    expect(await second.pushStatus(txid, { waitMs: 50 })).toMatchObject({ result: 'waiting', status: 'pushed' });
  });

  it('an unknown transaction is an error, never a verdict', async () => {
    await expect(factor().pushStatus('no-such-txid', { waitMs: 1000 })).rejects.toThrow(/40003/);
  });
});

describe('DuoClient wire details', () => {
  it('ping (unsigned) and check (signed) answer the simulator time', async () => {
    const client = new DuoClient(clientOptions());
    const time = Math.floor(clock.now().getTime() / 1000);
    expect(await client.ping()).toEqual({ time });
    expect(await client.check()).toEqual({ time });
  });

  it('v2 signatures with form bodies work end to end', async () => {
    sim.addUser('alice');
    const second = factor({ signatureVersion: 2 });
    const { txid, push } = await startAlicePush(second);
    expect(push.pushinfo).toEqual(REQUEST.details);
    sim.respond(txid, 'allow');
    expect((await second.pushStatus(txid, { waitMs: 5000 })).result).toBe('allow');
  });

  it('preauth lists push-capable devices', async () => {
    sim.addUser('alice');
    const preauth = await new DuoClient(clientOptions()).preauth({ username: 'alice' });
    expect(preauth.result).toBe('auth');
    expect(preauth.devices[0]?.capabilities).toContain('push');
  });

  it('works with the simulator mounted under a path prefix of another server', async () => {
    const host: Server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/sandbox/duo/')) void sim.handle(req, res, url.slice('/sandbox/duo'.length));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = host.address() as AddressInfo;
      sim.addUser('alice');
      const second = factor({ apiUrl: `http://127.0.0.1:${port}/sandbox/duo/` });
      const { txid } = await startAlicePush(second);
      sim.respond(txid, 'deny');
      expect((await second.pushStatus(txid, { waitMs: 5000 })).result).toBe('deny');
    } finally {
      host.closeAllConnections();
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
  });
  describe('an auth_status answer belongs to the txid asked about', () => {
    /** The simulator behind a proxy that adds `txid` to every auth_status answer. */
    async function echoing(txidFor: (asked: string) => unknown): Promise<{ url: string; close(): Promise<void> }> {
      const duo = new HostileDuo(listener.url);
      duo.rewrite = (path, query, response) => (path === '/auth/v2/auth_status' ? { ...response, txid: txidFor(query.get('txid') ?? '') } : response);
      return { url: await duo.start(), close: () => duo.close() };
    }

    it('an allow naming another txid is a deny (txid_mismatch)', async () => {
      sim.addUser('alice');
      const server = await echoing((asked) => `${asked}-someone-else`);
      try {
        const second = factor({ apiUrl: server.url });
        const { txid } = await startAlicePush(second);
        sim.respond(txid, 'allow');
        const status = await second.pushStatus(txid, { waitMs: 5000 });
        expect(status).toMatchObject({ result: 'deny', status: 'txid_mismatch' });
        expect(status.message).toContain(`${txid}-someone-else`);
      } finally {
        await server.close();
      }
    });

    it('an allow naming the same txid is an allow', async () => {
      sim.addUser('alice');
      const server = await echoing((asked) => asked);
      try {
        const second = factor({ apiUrl: server.url });
        const { txid } = await startAlicePush(second);
        sim.respond(txid, 'allow');
        expect(await second.pushStatus(txid, { waitMs: 5000 })).toMatchObject({ result: 'allow' });
      } finally {
        await server.close();
      }
    });

    it('a txid that is not a string fails closed', async () => {
      sim.addUser('alice');
      const server = await echoing(() => 42);
      try {
        const second = factor({ apiUrl: server.url });
        const { txid } = await startAlicePush(second);
        sim.respond(txid, 'allow');
        await expect(second.pushStatus(txid, { waitMs: 5000 })).rejects.toBeInstanceOf(SecondFactorUnavailableError);
      } finally {
        await server.close();
      }
    });
  });
});
