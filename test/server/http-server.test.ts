import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer, routeHealthz } from '../../src/server/http-server.js';

describe('HttpServer and database outages', () => {
  let http: HttpServer;
  let url: string;
  let database: 'up' | 'down' | 'hanging';

  beforeEach(async () => {
    database = 'up';
    http = new HttpServer(silentLogger);
    const check = () =>
      database === 'up'
        ? Promise.resolve()
        : database === 'down'
          ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }))
          : new Promise(() => undefined);
    routeHealthz(http, { checkDatabase: check, details: { database: 'postgres' }, timeoutMs: 50 });
    http.route('GET', '/lost', () => Promise.reject(new Error('Connection terminated unexpectedly')));
    http.route('GET', '/unavailable', () => Promise.reject(new DatabaseUnavailableError('the database is unavailable')));
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

  it('answers 503 with Retry-After for a database outage, and 500 for anything else', async () => {
    expect(await get('/lost')).toMatchObject({ status: 503, retryAfter: '30' });
    expect(await get('/unavailable')).toMatchObject({ status: 503, retryAfter: '30' });
    expect(await get('/bug')).toMatchObject({ status: 500, retryAfter: null, json: { error: 'internal error' } });
  });
});
