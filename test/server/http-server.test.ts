import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer, routeHealthz, type PipelineHealth } from '../../src/server/http-server.js';

describe('HttpServer and database outages', () => {
  let http: HttpServer;
  let url: string;
  let database: 'up' | 'down' | 'hanging';
  let pipeline: PipelineHealth | undefined;

  beforeEach(async () => {
    database = 'up';
    pipeline = undefined;
    http = new HttpServer(silentLogger);
    const check = (): Promise<PipelineHealth | void> =>
      database === 'up'
        ? Promise.resolve(pipeline)
        : database === 'down'
          ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }))
          : new Promise(() => undefined);
    routeHealthz(http, { checkDatabase: check, details: { database: 'postgres' }, timeoutMs: 50 });
    http.route('GET', '/lost', () => Promise.reject(new Error('Connection terminated unexpectedly')));
    http.route('GET', '/unavailable', () => Promise.reject(new DatabaseUnavailableError('the database is unavailable')));
    http.route('GET', '/dropped', () => Promise.reject(Object.assign(new Error('database "vouch" does not exist'), { code: '3D000' })));
    http.route('GET', '/bug', () => Promise.reject(new TypeError('x is not a function')));
    url = await http.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await http.close();
  });

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, retryAfter: response.headers.get('retry-after'), json: (await response.json()) as Record<string, unknown> };
  };

  it('/healthz: 200 while the database answers, 503 with a short reason when it fails or hangs, 200 again after', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok', database: 'postgres' } });
    database = 'down';
    const down = await get('/healthz');
    expect(down).toMatchObject({ status: 503, json: { status: 'unavailable', reason: 'database unreachable' } });
    expect(JSON.stringify(down.json)).not.toContain('10.0.0.5');
    database = 'hanging';
    expect(await get('/healthz')).toMatchObject({ status: 503, json: { status: 'unavailable', reason: 'database did not answer in time' } });
    database = 'up';
    expect((await get('/healthz')).status).toBe(200);
  });

  it('/healthz: a busy pool with a database that answers a connection of its own is 200 "degraded", not 503', async () => {
    const busy = new HttpServer(silentLogger);
    let answers = true;
    routeHealthz(busy, {
      checkDatabase: () => new Promise(() => undefined),
      pingDatabase: () => (answers ? Promise.resolve() : Promise.reject(new Error('no answer within 50 ms'))),
      details: { database: 'postgres' },
      timeoutMs: 50,
    });
    const busyUrl = await busy.listen(0, '127.0.0.1');
    try {
      const first = await fetch(`${busyUrl}/healthz`);
      expect([first.status, await first.json()]).toEqual([200, { status: 'degraded', reason: 'database busy: every connection is in use', database: 'postgres' }]);
      answers = false;
      const second = await fetch(`${busyUrl}/healthz`);
      expect([second.status, await second.json()]).toEqual([503, { status: 'unavailable', reason: 'database did not answer in time' }]);
    } finally {
      await busy.close();
    }
  });

  it('/healthz: says "degraded", still with 200, while health notices are open or jobs have failed', async () => {
    pipeline = { healthNotices: 0, failedJobs: 0 };
    expect(await get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok', health_notices: 0, failed_jobs: 0 } });
    pipeline = { healthNotices: 2, failedJobs: 0 };
    expect(await get('/healthz')).toMatchObject({ status: 200, json: { status: 'degraded', database: 'postgres', health_notices: 2, failed_jobs: 0 } });
    pipeline = { healthNotices: 0, failedJobs: 1 };
    expect(await get('/healthz')).toMatchObject({ status: 200, json: { status: 'degraded', failed_jobs: 1 } });
  });

  it('answers 503 with Retry-After for a database outage, and 500 for anything else', async () => {
    expect(await get('/lost')).toMatchObject({ status: 503, retryAfter: '30' });
    expect(await get('/unavailable')).toMatchObject({ status: 503, retryAfter: '30' });
    // The database renamed or dropped under a running service: unreachable, as /healthz says.
    expect(await get('/dropped')).toMatchObject({ status: 503, retryAfter: '30' });
    expect(await get('/bug')).toMatchObject({ status: 500, retryAfter: null, json: { error: 'internal error' } });
  });
});

describe('HttpServer routing', () => {
  let http: HttpServer;
  let url: string;
  const seen: string[] = [];

  beforeEach(async () => {
    seen.length = 0;
    http = new HttpServer(silentLogger);
    routeHealthz(http, { checkDatabase: () => Promise.resolve(), details: { database: 'postgres' } });
    http.route('GET', '/echo', (_req, res, u) => {
      seen.push(JSON.stringify([...u.searchParams]));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('echo');
    });
    http.route('POST', '/only-post', (_req, res) => void res.writeHead(204).end());
    url = await http.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await http.close();
  });

  it('answers HEAD like GET, without a body', async () => {
    const get = await fetch(`${url}/healthz`);
    const getBody = await get.text();
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(getBody)));
    expect(await head.text()).toBe('');
    expect((await fetch(`${url}/echo`, { method: 'HEAD' })).status).toBe(200);
    // A route without GET still refuses HEAD; a GET route's Allow names HEAD too.
    expect((await fetch(`${url}/only-post`, { method: 'HEAD' })).status).toBe(405);
    expect((await fetch(`${url}/healthz`, { method: 'DELETE' })).headers.get('allow')).toBe('GET, HEAD');
  });

  it.each([
    ['host=%E0%A4%A', 'query parameter "host" is not valid percent-encoding'],
    ['host=%ZZ', 'query parameter "host" is not valid percent-encoding'],
    ['q=ok&host=%', 'query parameter "host" is not valid percent-encoding'],
    ['host=%ED%A0%80', 'query parameter "host" is not valid percent-encoding'],
    ['%E0=1', 'a query parameter name is not valid percent-encoding'],
    ['user=%00', 'query parameter "user" must not contain NUL characters'],
    ['%00=x', 'query parameter "?" must not contain NUL characters'],
  ])('refuses the query ?%s with 400, before any handler runs', async (query, error) => {
    const response = await fetch(`${url}/echo?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error });
    expect(seen).toEqual([]);
  });

  it('passes well-formed queries on, decoded', async () => {
    const response = await fetch(`${url}/echo?host=web-%2A&q=caf%C3%A9+au+lait&flag&empty=&plus=a%2Bb`);
    expect(response.status).toBe(200);
    expect(seen).toEqual([JSON.stringify([['host', 'web-*'], ['q', 'café au lait'], ['flag', ''], ['empty', ''], ['plus', 'a+b']])]);
  });
});
