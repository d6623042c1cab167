import { request } from 'node:http';
import { connect } from 'node:net';
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

interface RawAnswer {
  /** Everything the server sent before it closed the connection. */
  text: string;
  /** How the connection ended on this side: the server closed it, or writing to it failed. */
  ended: 'closed' | 'reset';
}

/**
 * Sends `head` on a plain socket, then `chunk` after `chunk` while the server reads, until the
 * server closes the connection or `sendBytes` have been sent (then it waits for the server).
 */
function raw(url: string, head: string, chunk: Buffer, sendBytes: number): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    let sent = 0;
    let done = false;
    const finish = (ended: RawAnswer['ended']) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ text, ended });
    };
    const pump = () => {
      while (!done && !socket.destroyed && sent < sendBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('reset'));
  });
}

describe('readBody', () => {
  let http: HttpServer;
  let url: string;
  const aborted: unknown[] = [];

  beforeAll(async () => {
    http = new HttpServer(silentLogger);
    http.route('POST', '/echo', async (req, res) => sendJson(res, 200, { bytes: (await readBody(req, LIMIT)).length }));
    // As the simulators do: the handler answers a refusal itself.
    http.route('POST', '/own-answer', async (req, res) => {
      try {
        await readBody(req, LIMIT);
        sendJson(res, 200, { ok: true });
      } catch (error) {
        sendJson(res, (error as RequestError).status, { stat: 'FAIL', message: 'Request entity too large' });
      }
    });
    http.route('POST', '/locked', () => {
      throw new RequestError(401, 'sign in first');
    });
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

  it('answers 413 with Connection: close, without reading it, to a body declared far over the limit', async () => {
    for (const path of ['/echo', '/own-answer']) {
      // The client sends a little and waits: the answer must come without the rest.
      const answer = await raw(url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n`, Buffer.alloc(LIMIT, 'e'), 4 * LIMIT);
      expect(answer.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      expect(answer.text.toLowerCase()).toContain('\r\nconnection: close\r\n');
      expect(answer.ended).toBe('closed');
    }
    const plain = await raw(url, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n', Buffer.alloc(0), 0);
    expect(plain.text.slice(plain.text.indexOf('\r\n\r\n') + 4)).toBe(JSON.stringify({ error: `request body over ${LIMIT} bytes` }));
  });

  it('answers 413 with Connection: close to a body declared over the limit that the client keeps sending', async () => {
    const answer = await raw(url, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${1000 * DRAIN_FACTOR * LIMIT}\r\n\r\n`, Buffer.alloc(64 * 1024, 'f'), 200 * DRAIN_FACTOR * LIMIT);
    expect(answer.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(answer.text.toLowerCase()).toContain('\r\nconnection: close\r\n');
  });

  it('answers 413 and closes the connection of a client whose streamed body passes far beyond the limit', async () => {
    const size = (LIMIT * 4).toString(16);
    const chunk = Buffer.from(`${size}\r\n${'g'.repeat(LIMIT * 4)}\r\n`);
    // Sends about 100 times the limit, but the answer comes once it passes DRAIN_FACTOR times.
    const answer = await raw(url, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', chunk, 100 * LIMIT);
    expect(answer.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(answer.text.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(answer.text).toContain(JSON.stringify({ error: `request body over ${LIMIT} bytes` }));
  });

  it('closes, rather than drains, the connection of a request refused before its body was read', async () => {
    for (const [path, status] of [['/locked', '401 Unauthorized'], ['/nowhere', '404 Not Found']]) {
      const answer = await raw(url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n`, Buffer.alloc(LIMIT, 'h'), 4 * LIMIT);
      expect(answer.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status}\r\n`));
      expect(answer.text.toLowerCase()).toContain('\r\nconnection: close\r\n');
      expect(answer.ended).toBe('closed');
    }
    // A small body is drained instead, and the connection kept.
    const small = await fetch(`${url}/locked`, { method: 'POST', body: '{}' });
    expect(small.status).toBe(401);
    expect(small.headers.get('connection')).toBe('keep-alive');
    await small.arrayBuffer();
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
