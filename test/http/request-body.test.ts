import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestError } from '../../src/errors.js';
import { MAX_JSON_DEPTH } from '../../src/http/json-depth.js';
import { DRAIN_FACTOR, jsonObjectBody, readBody } from '../../src/http/request-body.js';
import { sendJson } from '../../src/http/respond.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';

const LIMIT = 1024;

/** Sends `chunks` one by one; without a content-length, so the server learns the size as it reads. */
function post(url: string, chunks: Buffer[], options: { declareLength?: boolean } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const headers: Record<string, string | number> = options.declareLength ? { 'content-length': total } : { 'transfer-encoding': 'chunked' };
    const req = request(`${url}/echo`, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readBody', () => {
  let http: HttpServer;
  let url: string;
  const aborted: unknown[] = [];

  beforeAll(async () => {
    http = new HttpServer(silentLogger);
    http.route('POST', '/echo', async (req, res) => sendJson(res, 200, { bytes: (await readBody(req, LIMIT)).length }));
    http.route('POST', '/abort', async (req) => {
      try {
        await readBody(req, LIMIT);
      } catch (error) {
        aborted.push(error);
      }
    });
    url = await http.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await http.close();
  });

  it('reads a body up to the limit, whether its length is declared or not', async () => {
    const body = Buffer.alloc(LIMIT, 'a');
    expect(await post(url, [body], { declareLength: true })).toEqual({ status: 200, body: JSON.stringify({ bytes: LIMIT }) });
    expect(await post(url, [body.subarray(0, 100), body.subarray(100)])).toEqual({ status: 200, body: JSON.stringify({ bytes: LIMIT }) });
  });

  it('answers 413 for a body declared over the limit', async () => {
    const answer = await post(url, [Buffer.alloc(LIMIT + 1, 'a')], { declareLength: true });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: `request body over ${LIMIT} bytes` });
  });

  it('answers 413 once a chunked body passes the limit, after the client has sent it all', async () => {
    const chunks = Array.from({ length: 4 }, () => Buffer.alloc(LIMIT / 2, 'b'));
    const answer = await post(url, chunks);
    expect(answer.status).toBe(413);
  });

  it('drops the connection of a client that keeps sending far past the limit', async () => {
    const chunks = Array.from({ length: DRAIN_FACTOR + 2 }, () => Buffer.alloc(LIMIT, 'c'));
    await expect(post(url, chunks)).rejects.toThrow(/socket hang up|ECONNRESET|EPIPE/);
  });

  it('gives a 4xx RequestError, not an unhandled error, when the client aborts mid-body', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${url}/abort`, { method: 'POST', headers: { 'content-length': 500 } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(100, 'd'), () => setTimeout(() => req.destroy(), 20));
    });
    await expect.poll(() => aborted.length).toBe(1);
    expect(aborted[0]).toBeInstanceOf(RequestError);
    expect((aborted[0] as RequestError).status).toBe(400);
  });
});

describe('jsonObjectBody', () => {
  const refusal = (body: string, usage?: string): { status: number; message: string } => {
    try {
      jsonObjectBody(Buffer.from(body), usage);
    } catch (error) {
      if (error instanceof RequestError) return { status: error.status, message: error.message };
      throw error;
    }
    throw new Error(`accepted ${body}`);
  };

  it('returns the object of a JSON object body, from bytes or text', () => {
    expect(jsonObjectBody(Buffer.from('{"note":"ok","n":1}'))).toEqual({ note: 'ok', n: 1 });
    expect(jsonObjectBody('{"a":{"b":[1]}}')).toEqual({ a: { b: [1] } });
  });

  it('answers 400 for bad JSON, naming the expected shape', () => {
    expect(refusal('{not json', '{"note": "..."}')).toEqual({ status: 400, message: 'body must be JSON: {"note": "..."}' });
    expect(refusal('')).toEqual({ status: 400, message: 'body must be JSON' });
  });

  it('answers 400 for JSON that is not an object', () => {
    for (const body of ['[1]', '"text"', '3', 'null']) expect(refusal(body)).toEqual({ status: 400, message: 'body must be a JSON object' });
  });

  it('answers 400 before parsing JSON that nests too deep to walk safely', () => {
    const deep = `{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    expect(refusal(deep)).toEqual({ status: 400, message: `body nests deeper than ${MAX_JSON_DEPTH} levels` });
    expect(refusal('['.repeat(100_000))).toMatchObject({ status: 400 });
  });
});
