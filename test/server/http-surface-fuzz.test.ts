import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const INGEST_TOKEN = 'ingest-token-0123456789abcdef';

describe('the HTTP surface answers bad requests with 4xx, never 5xx', () => {
  let store: TestStore;
  let service: RunningService;
  let auth: string;

  beforeAll(async () => {
    store = await createTestStore();
    const dir = mkdtempSync(path.join(tmpdir(), 'vouch-fuzz-'));
    const config = loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: path.join(dir, 'data'), VOUCH_INGEST_TOKEN_SHIPPER: INGEST_TOKEN } });
    config.sources = [{ name: 'shipper', type: 'json', path: null, token: INGEST_TOKEN, host: null }];
    service = await startService({ config, store, logger: silentLogger, autoRun: false });
    auth = `Bearer ${service.reviewToken}`;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await store?.close();
  });

  async function send(method: string, target: string, options: { body?: string; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${service.url}${target}`, { method, body: options.body, headers: options.headers });
    const text = await response.text();
    return { status: response.status, text, allow: response.headers.get('allow') };
  }

  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  it.each([
    ['GET', '/api/alerts/%E0%A4%A', {}],
    ['GET', '/api/alerts/abc%00def', {}],
    ['GET', '/api/alerts?since=99999999d', {}],
    ['GET', '/api/alerts?since=99999999999999999999999h', {}],
    ['GET', '/api/alerts?until=9999999d', {}],
    ['GET', '/api/alerts?limit=1e400', {}],
    ['GET', '/api/alerts?user=%00', {}],
    ['GET', '/api/alerts?status=%00', {}],
    ['POST', '/api/alerts/%ZZ/review', { body: '{"reviewer":"dana"}' }],
    ['POST', '/api/alerts/a%00b/review', { body: '{"reviewer":"dana"}' }],
    ['POST', '/api/alerts/x/review', { body: deepObject(20_000) }],
    ['POST', '/api/alerts/x/review', { body: '{"reviewer":"da\\u0000na"}' }],
    ['POST', '/api/suppressions', { body: deep(20_000) }],
    ['POST', '/api/suppressions', { body: deepObject(20_000) }],
    ['POST', '/api/suppressions/%E0/revoke', { body: '{"revoked_by":"x"}' }],
    ['POST', '/api/suppressions/a%00/revoke', { body: '{"revoked_by":"x"}' }],
    ['POST', '/api/tokens', { body: deepObject(20_000) }],
    ['POST', '/api/tokens/%E0/revoke', { body: '{}' }],
    ['GET', '/review/callback?code=x&state=y', {}],
    ['GET', '/review/callback?error=%3Cscript%3E', {}],
    ['POST', '/review/logout', { body: deepObject(20_000) }],
    ['POST', '/review/tokens/a%00/revoke', { body: 'csrf_token=x' }],
  ] as const)('%s %s', async (method, target, options) => {
    const answer = await send(method, target, { ...options, headers: { authorization: auth, 'content-type': 'application/json' } });
    expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text).toBeLessThan(500);
    // Browser routes answer with a page; the API with a JSON error.
    if (!target.startsWith('/review/')) expect(JSON.parse(answer.text)).toHaveProperty('error');
  });

  it.each([
    ['POST', '/ingest', deep(20_000)],
    ['POST', '/ingest', `${deepObject(20_000)}\n`],
    ['POST', '/slack/events', deepObject(20_000)],
    ['POST', '/sandbox/api/run', deepObject(20_000)],
    ['POST', '/sandbox/api/click', deep(20_000)],
  ] as const)('%s %s with deeply nested JSON', async (method, target, body) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target === '/ingest') headers.authorization = `Bearer ${INGEST_TOKEN}`;
    const answer = await send(method, target, { body, headers });
    expect(answer.status, answer.text).toBeLessThan(500);
  });

  it('random methods, paths, query strings, headers and bodies never get a 5xx, and the server keeps serving', async () => {
    const segment = fc.oneof(
      fc.constantFrom('api', 'alerts', 'suppressions', 'review', 'revoke', 'tokens', 'login', 'callback', 'logout', 'me', 'oidc', 'interaction', 'ingest', 'slack', 'events', 'sandbox', 'healthz', 'metrics', 'state', 'run', 'click', 'submit', 'push', 'duo', 'auth', 'v2', 'chat.postMessage'),
      fc.constantFrom('%00', '%', '%E0%A4%A', '%ZZ', '%2F', '..', '%C0%AF', 'a%00b', '%F0%9F%98%80'),
      fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/),
    );
    const queryValue = fc.oneof(
      fc.constantFrom('99999999d', '1e400', '-1', '0', '24h', '2026-11-24', '99999-01-01', '%00', '%', 'asked,verified', 'nope'),
      fc.stringMatching(/^[A-Za-z0-9%.,:-]{0,16}$/),
    );
    const query = fc.array(fc.tuple(fc.constantFrom('since', 'until', 'status', 'user', 'limit', 'all', 'x'), queryValue), { maxLength: 4 });
    const body = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.integer({ min: 65, max: 5000 }).map(deep),
      fc.integer({ min: 65, max: 5000 }).map(deepObject),
      fc.constantFrom('{"reviewer":"dana","note":"ok"}', '{"created_by":"x","reason":"y","for":"99999999d"}', '{"revoked_by":"\\u0000"}', '{"alert_id":"%00"}', 'payload=%7B%7D', 'payload=%ZZ'),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      segments: fc.array(segment, { minLength: 1, maxLength: 5 }),
      query,
      body,
      contentType: fc.constantFrom(undefined, 'application/json', 'application/x-ndjson', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=latin1'),
      authorization: fc.constantFrom(undefined, 'review', 'ingest', 'Bearer nope', 'Basic Zm9vOmJhcg=='),
      slackSignature: fc.constantFrom(undefined, 'v0=00', 'garbage'),
      slackTimestamp: fc.constantFrom(undefined, '0', '99999999999999999999', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const target = `/${input.segments.join('/')}${input.query.length ? '?' : ''}${input.query.map(([key, value]) => `${key}=${value}`).join('&')}`;
        const headers: Record<string, string> = {};
        if (input.contentType) headers['content-type'] = input.contentType;
        if (input.authorization === 'review') headers.authorization = auth;
        else if (input.authorization === 'ingest') headers.authorization = `Bearer ${INGEST_TOKEN}`;
        else if (input.authorization) headers.authorization = input.authorization;
        if (input.slackSignature) headers['x-slack-signature'] = input.slackSignature;
        if (input.slackTimestamp) headers['x-slack-request-timestamp'] = input.slackTimestamp;
        const withBody = input.method !== 'GET' && input.method !== 'HEAD';
        const answer = await send(input.method, target, { headers, ...(withBody ? { body: input.body } : {}) });
        expect(answer.status, `${input.method} ${target}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 300, seed: 20261201, interruptAfterTimeLimit: 60_000 },
    );
    expect((await send('GET', '/healthz')).status).toBe(200);
  }, 120_000);

  it('answers a wrong method with 405 and Allow, an unknown route with 404', async () => {
    const wrong = await send('DELETE', '/api/alerts', { headers: { authorization: auth } });
    expect(wrong.status).toBe(405);
    expect(wrong.allow).toContain('GET');
    expect((await send('GET', '/ingest')).allow).toBe('POST');
    expect((await send('GET', '/no/such/route')).status).toBe(404);
  });
});
