import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { DatabaseUnavailableError } from '../../src/errors.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { type ParseOutput } from '../../src/sources/parser.js';
import { createParser } from '../../src/sources/parsers/index.js';
import { malformedCounts } from '../../src/store/queries/sources.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { makeEvent } from '../detect/make-event.js';

const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
const policy = loadConfig({ env: {} }).workflow;

function parse(format: string, lines: string[]): ParseOutput {
  const parser = createParser(format, { defaultHost: 'fallback' });
  const out: ParseOutput = { events: [], malformed: [] };
  lines.forEach((line, i) => {
    const part = parser.push(line, i * 1000, clock.now());
    out.events.push(...part.events);
    out.malformed.push(...part.malformed);
  });
  const rest = parser.flush();
  out.events.push(...rest.events);
  out.malformed.push(...rest.malformed);
  return out;
}

const jsonRecord = (fields: Record<string, unknown>) =>
  JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'web-1', user: 'alice', run_as: 'root', argv: ['cat', '/etc/shadow'], ...fields });

function shadowEvent(n: number, fields: Partial<CommandEvent> = {}): CommandEvent {
  return makeEvent(['cat', '/etc/shadow'], {
    time: new Date('2026-11-24T14:00:00Z'),
    host: `web-${n}`,
    exe: '/usr/bin/cat',
    cwd: '/',
    pid: 100 + n,
    ppid: 1,
    sourceFormat: 'json',
    eventKey: `key-${n}`,
    ...fields,
  });
}

/** A property of the real database object, methods bound to it (kysely uses private fields). */
function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property) as unknown;
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

describe.each(storeKinds())('Ingestor on %s', (kind) => {
  let store: TestStore;
  let ingestor: Ingestor;
  const sleeps: number[] = [];

  beforeEach(async () => {
    store = await createTestStore(kind);
    sleeps.length = 0;
    ingestor = new Ingestor({
      db: store.db,
      rules: loadDefaultRules(),
      policy,
      clock,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });
  });

  afterEach(async () => {
    await store.destroy();
  });

  const events = () => store.db.selectFrom('command_events').selectAll().orderBy('id').execute();

  it('stores a sudo syslog line whose #000 escape decodes to NUL, with the rest of its read', async () => {
    const parsed = parse('sudo', [
      "Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat 'V=#000' /etc/shadow",
      'Nov 24 14:23:29 web-1 sudo[4212]:    bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
    ]);
    expect(parsed.events.some((event) => event.command.includes('\u0000'))).toBe(true);
    const stats = await ingestor.ingest('syslog', parsed);
    expect(stats).toMatchObject({ matched: 2, alertsCreated: 2, unstorable: 0 });
    const rows = await events();
    expect(rows.map((row) => row.login_user)).toEqual(['alice', 'bob']);
    expect(rows[0]?.command).toContain('V=\uFFFD');
  });

  it('stores JSON records with NUL in id and extra, a pid above 2^32 and a lone surrogate', async () => {
    const parsed = parse('json', [
      jsonRecord({ id: 'evt\u0000-1' }),
      jsonRecord({ id: 'evt-2', extra: { 'k\u0000ey': 'va\u0000lue', tty: '\ud800' } }),
      jsonRecord({ id: 'evt-3', pid: 2 ** 32 + 5, ppid: -(2 ** 40), login_uid: 2 ** 40 }),
    ]);
    // A pid no process can have is left out where it is read, and counted; the event is kept.
    expect(parsed.malformed.map((m) => [m.reason, m.detail])).toEqual([
      ['bad_field', 'kept without: pid must be a process id (0 to 2147483647); ppid must be a process id (0 to 2147483647)'],
    ]);
    expect(parsed.events).toHaveLength(3);
    const stats = await ingestor.ingest('json', parsed);
    expect(stats).toMatchObject({ matched: 3, alertsCreated: 1, alertsFolded: 2, unstorable: 0 });
    const rows = await events();
    expect(rows.map((row) => row.event_key)).toEqual(['json:["web-1","evt\\u0000-1"]', 'json:["web-1","evt-2"]', 'json:["web-1","evt-3"]']);
    expect(rows[1]?.extra).toEqual({ 'k\uFFFDey': 'va\uFFFDlue', tty: '\uFFFD' });
    expect(rows[2]).toMatchObject({ pid: null, ppid: null, login_uid: 2 ** 40 });
  });

  it('stores a Falco event whose priority holds a NUL', async () => {
    const falco = JSON.stringify({
      hostname: 'k8s-node-1',
      output: 'Sensitive file opened',
      priority: 'Warn\u0000ing',
      rule: 'Read sensitive file untrusted',
      time: '2026-11-24T14:23:28.123456789Z',
      output_fields: { 'proc.cmdline': 'cat /etc/shadow', 'proc.pid': 4242, 'user.loginname': 'alice', 'user.name': 'root' },
    });
    const parsed = parse('falco', [falco]);
    expect(parsed.events).toHaveLength(1);
    await ingestor.ingest('falco', parsed);
    const rows = await events();
    expect(rows[0]?.extra).toMatchObject({ falco_priority: 'Warn\uFFFDing' });
  });

  it('isolates a record the database refuses, stores the rest, and counts it as unstorable', async () => {
    // A constraint the store's own table gets for this test: a hit on host web-3 is poison.
    await sql`alter table command_events add constraint no_web3 check (host <> 'web-3')`.execute(store.db);
    const batch = [1, 2, 3, 4, 5].map((n) => shadowEvent(n, { argv: ['cat', '/etc/shadow', `--password=hunter${n}`] }));
    const checkpoints = [{ filePath: '/var/log/x', fileId: '1:2', offset: 4096 }];
    const stats = await ingestor.ingest('file', { events: batch, malformed: [], checkpoints });
    expect(stats).toMatchObject({ events: 5, matched: 5, unstorable: 1, malformed: 1 });
    expect((await events()).map((row) => row.host)).toEqual(['web-1', 'web-2', 'web-4', 'web-5']);
    const [counted] = await malformedCounts(store.db);
    expect(counted).toMatchObject({ source: 'file', reason: 'unstorable', count: 1 });
    expect(counted?.sample).toContain('/etc/shadow');
    expect(counted?.sample).not.toContain('hunter3');
    const saved = await store.db.selectFrom('source_checkpoints').select(['offset']).execute();
    expect(saved.map((row) => Number(row.offset))).toEqual([4096]);
    const alerts = await store.db.selectFrom('alerts').select('host').orderBy('host').execute();
    expect(alerts.map((row) => row.host)).toEqual(['web-1', 'web-2', 'web-4', 'web-5']);
  });

  it('retries a transaction that failed for a transient reason, with growing delays', async () => {
    let failures = 2;
    const flaky = new Proxy(store.db, {
      get(target, property) {
        if (property === 'transaction' && failures > 0) {
          failures -= 1;
          const error = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
          return () => ({ execute: () => Promise.reject(error) });
        }
        return bound(target, property);
      },
    });
    const retrying = new Ingestor({ db: flaky, rules: loadDefaultRules(), policy, clock, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    const stats = await retrying.ingest('file', { events: [shadowEvent(1)], malformed: [] });
    expect(stats.alertsCreated).toBe(1);
    expect(sleeps).toEqual([150, 300]);
  });

  it('rejects with DatabaseUnavailableError, having stored nothing, when transient failures outlast the retries', async () => {
    const down = new Proxy(store.db, {
      get(target, property) {
        if (property === 'transaction') {
          return () => ({ execute: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })) });
        }
        return bound(target, property);
      },
    });
    const failing = new Ingestor({ db: down, rules: loadDefaultRules(), policy, clock, sleep: async (ms) => void sleeps.push(ms), random: () => 0 });
    await expect(failing.ingest('file', { events: [shadowEvent(1)], malformed: [] })).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(sleeps).toEqual([100, 200, 400, 800]);
    expect(await events()).toEqual([]);
  });
});
