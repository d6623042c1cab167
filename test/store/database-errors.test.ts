import { describe, expect, it } from 'vitest';
import { classifyDatabaseError } from '../../src/store/database-errors.js';
import { retryDelayMs, retryTransient } from '../../src/store/retry-transient.js';
import { DatabaseUnavailableError } from '../../src/errors.js';

const pgError = (code: string) => Object.assign(new Error(`error ${code}`), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['08006', 'transient'],
    ['08001', 'transient'],
    ['57P01', 'transient'],
    ['57014', 'transient'],
    ['55P03', 'transient'],
    ['40P01', 'transient'],
    ['40001', 'transient'],
    ['23505', 'transient'],
    ['22021', 'poison'],
    ['22P05', 'poison'],
    ['22003', 'poison'],
    ['23514', 'poison'],
    ['23502', 'poison'],
    ['54000', 'poison'],
    ['42P01', 'fatal'],
    ['28P01', 'fatal'],
    ['57P03', 'transient'],
    ['57P05', 'transient'],
    ['57P04', 'fatal'],
    ['53300', 'transient'],
    ['53100', 'transient'],
    ['53200', 'transient'],
    ['53400', 'fatal'],
    ['08004', 'transient'],
    ['08P01', 'fatal'],
    ['55006', 'fatal'],
  ] as const)('SQLSTATE %s is %s', (code, kind) => expect(classifyDatabaseError(pgError(code))).toBe(kind));

  it('counts a session refused by a database closed to connections (maintenance) as transient, and only that 55000', () => {
    // As pg reports it for a database with ALLOW_CONNECTIONS false.
    const refused = Object.assign(pgError('55000'), { severity: 'FATAL', routine: 'CheckMyDatabase' });
    expect(classifyDatabaseError(refused)).toBe('transient');
    expect(classifyDatabaseError(Object.assign(pgError('55000'), { severity: 'FATAL' }))).toBe('transient');
    // A server with translated messages: the routine still says it.
    expect(classifyDatabaseError(Object.assign(pgError('55000'), { severity: 'SCHWERWIEGEND', routine: 'CheckMyDatabase' }))).toBe('transient');
    // An ERROR 55000 is a statement out of order (currval before nextval): a bug, not an outage.
    expect(classifyDatabaseError(Object.assign(pgError('55000'), { severity: 'ERROR', routine: 'currval_oid' }))).toBe('fatal');
    expect(classifyDatabaseError(pgError('55000'))).toBe('fatal');
  });

  it('reads driver errors without a SQLSTATE: sockets and lost connections are transient, the rest fatal', () => {
    expect(classifyDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyDatabaseError(new Error('Postgres connection has been discarded'))).toBe('transient');
    expect(classifyDatabaseError(new Error('Client has encountered a connection error and is not queryable'))).toBe('transient');
    expect(classifyDatabaseError(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNRESET' })]))).toBe('transient');
    expect(classifyDatabaseError(new TypeError('undefined is not a function'))).toBe('fatal');
    expect(classifyDatabaseError('a string')).toBe('fatal');
    expect(classifyDatabaseError(null)).toBe('fatal');
  });
});

describe('retryTransient', () => {
  const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

  it('backs off exponentially, capped, with half of each delay random', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt, () => 0))).toEqual([50, 100, 125, 125]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt, () => 0.999999))).toEqual([100, 200, 250, 250]);
  });

  it('throws poison and fatal errors at once, and DatabaseUnavailableError after the last transient one', async () => {
    const sleeps: number[] = [];
    const env = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0 };
    await expect(retryTransient(() => Promise.reject(pgError('22021')), policy, env)).rejects.toMatchObject({ code: '22021' });
    expect(sleeps).toEqual([]);
    const failure = retryTransient(() => Promise.reject(pgError('57P01')), policy, env);
    await expect(failure).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(failure).rejects.toMatchObject({ cause: { code: '57P01' } });
    expect(sleeps).toEqual([50, 100, 125]);
  });
});
