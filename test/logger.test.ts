import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function captured(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) };
}

describe('logger field sanitising', () => {
  it('shows bidi, zero-width and control characters in logged values as escapes', () => {
    const { lines, logger } = captured();
    logger.child({ host: 'web\u202e1' }).warn('rule matched', {
      command: 'rm\u200b -rf /\u0085\u061c',
      nested: { cwd: '/tmp/\u2066x\u2069' },
      error: new Error('bad \u00ad input\nsecond line'),
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({
      message: 'rule matched',
      host: 'web\\u202e1',
      command: 'rm\\u200b -rf /\\x85\\u061c',
      nested: { cwd: '/tmp/\\u2066x\\u2069' },
      error: { name: 'Error', message: 'bad \\xad input\nsecond line' },
    });
    for (const char of ['\u202e', '\u200b', '\u0085', '\u061c', '\u2066', '\u00ad']) expect(lines[0]).not.toContain(char);
  });

  it('keeps numbers, booleans and plain text as they are', () => {
    const { lines, logger } = captured();
    logger.info('ok', { count: 3, done: true, path: '/var/log/audit/audit.log' });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ count: 3, done: true, path: '/var/log/audit/audit.log' });
  });
});

describe('logger lines', () => {
  it('writes time, level and message on every line, and drops levels below the minimum', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) });
    logger.info('not shown');
    logger.warn('shown', { count: 1 });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', message: 'shown', count: 1 });
    expect(new Date(String(entry.time)).toISOString()).toBe(entry.time);
    expect(entry).not.toHaveProperty('pid');
  });

  it('keeps fields given to child loggers, and the child of a child', () => {
    const { lines, logger } = captured();
    logger.child({ source: 'audit' }).child({ host: 'web-1' }).info('stored', { events: 2 });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ source: 'audit', host: 'web-1', events: 2, message: 'stored' });
  });
});

describe('logger errors', () => {
  it('keeps the stack, own fields such as code, and the chain of causes', () => {
    const { lines, logger } = captured();
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = new Error('could not store the batch', { cause: root });
    logger.error('ingest failed', { error: wrapped });
    const entry = JSON.parse(lines[0] ?? '') as { error: Record<string, unknown> & { cause: Record<string, unknown> } };
    expect(entry.error).toMatchObject({ name: 'Error', message: 'could not store the batch' });
    expect(entry.error.stack).toMatch(/^Error: could not store the batch\n\s+at /);
    expect(entry.error.cause).toMatchObject({ name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' });
    expect(entry.error.cause.stack).toMatch(/ECONNREFUSED/);
  });

  it('serialises errors nested in fields and non-error causes, and survives cycles', () => {
    const { lines, logger } = captured();
    const looped: Record<string, unknown> = { name: 'loop' };
    looped.self = looped;
    logger.warn('retrying', { attempt: { error: new TypeError('bad', { cause: 'a string cause' }) }, looped });
    const entry = JSON.parse(lines[0] ?? '') as Record<string, Record<string, Record<string, unknown>>>;
    expect(entry.attempt?.error).toMatchObject({ name: 'TypeError', message: 'bad', cause: 'a string cause' });
    expect(entry.looped).toEqual({ name: 'loop', self: '[Circular]' });
  });
});

describe('logger redaction', () => {
  it('redacts secrets by field name, at the top and nested, in fields and child bindings', () => {
    const { lines, logger } = captured();
    logger.child({ bot_token: 'xoxb-bound-secret' }).info('request', {
      token: 'tok-top-secret',
      request: { headers: { authorization: 'Bearer bearer-secret' }, path: '/ingest' },
      duo: { skey: 'duo-skey-secret', api_host: 'api-1.duosecurity.com' },
      oidc: { client_secret: 'oidc-secret' },
      answer: { justification: 'rotating hunter2', alert: 'a1' },
      slack: { signing_secret: 'signing-secret' },
      user: { password: 'pw-secret' },
    });
    const line = lines[0] ?? '';
    for (const secret of ['xoxb-bound-secret', 'tok-top-secret', 'bearer-secret', 'duo-skey-secret', 'oidc-secret', 'hunter2', 'signing-secret', 'pw-secret']) {
      expect(line).not.toContain(secret);
    }
    expect(JSON.parse(line)).toMatchObject({
      bot_token: '[REDACTED]',
      token: '[REDACTED]',
      request: { headers: { authorization: '[REDACTED]' }, path: '/ingest' },
      duo: { skey: '[REDACTED]', api_host: 'api-1.duosecurity.com' },
      answer: { justification: '[REDACTED]', alert: 'a1' },
    });
  });
});
