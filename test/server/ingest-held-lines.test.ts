import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { SourceConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';
import { HELD_LINES_IDLE_MS, readIdleHeldLines, routeIngest, type IngestResponse, type IngestRouteOptions } from '../../src/server/ingest-api.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const TOKEN = 'audit-token-0123456789abcdef';
const WRAPPED_TOKEN = 'wrapped-token-0123456789abcdef';
const SOURCES: SourceConfig[] = [
  { name: 'audit-http', type: 'auditd', path: null, token: TOKEN, host: 'fallback-host' },
  { name: 'bound', type: 'auditd', path: null, token: WRAPPED_TOKEN, host: null, hosts: ['web-*'] },
];

/** The records of one exec: SYSCALL, EXECVE, CWD, PATH, PROCTITLE, EOE. */
function exec(serial: number, argv: string[], { host = 'web-1', auid = 1001, pid = 4000 + serial, ppid = 1 } = {}): string[] {
  const id = `msg=audit(1795507200.${String(serial % 1000).padStart(3, '0')}:${serial}):`;
  const node = `node=${host} `;
  return [
    `${node}type=SYSCALL ${id} arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=${ppid} pid=${pid} auid=${auid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="${argv[0]}" exe="/usr/bin/${argv[0]}" key="exec"`,
    `${node}type=EXECVE ${id} argc=${argv.length} ${argv.map((arg, i) => `a${i}="${arg}"`).join(' ')}`,
    `${node}type=CWD ${id} cwd="/root"`,
    `${node}type=PATH ${id} item=0 name="/usr/bin/${argv[0]}" inode=1 dev=fd:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
    `${node}type=PROCTITLE ${id} proctitle=636174`,
    `${node}type=EOE ${id} `,
  ];
}

/** sudo's USER_CMD for `cmd`, run by auid 1001 from pid `pid`. */
function userCmd(serial: number, cmd: string, pid: number): string {
  const hex = Buffer.from(cmd).toString('hex').toUpperCase();
  return `node=web-1 type=USER_CMD msg=audit(1795507200.${String(serial % 1000).padStart(3, '0')}:${serial}): pid=${pid} uid=1001 auid=1001 ses=3 msg='cwd="/root" cmd=${hex} exe="/usr/bin/sudo" terminal=pts/0 res=success'`;
}

let store: TestStore;
let http: HttpServer;
let url: string;
let route: IngestRouteOptions;
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));

async function serve(): Promise<void> {
  const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
  route = { sources: SOURCES, clock, logger: silentLogger, ingestor, resolveUid: (uid) => (uid === 1001 ? 'alice' : null) };
  http = new HttpServer(silentLogger);
  routeIngest(http, route);
  url = await http.listen(0, '127.0.0.1');
}

beforeEach(async () => {
  store = await createTestStore();
  await serve();
});

afterEach(async () => {
  await http.close();
  await store.destroy();
});

async function post(lines: readonly string[], token = TOKEN, contentType = 'text/plain', base = url): Promise<IngestResponse> {
  const response = await fetch(`${base}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: lines.map((line) => `${line}\n`).join('') });
  expect(response.status).toBe(200);
  return (await response.json()) as IngestResponse;
}

async function stored() {
  return store.db.selectFrom('command_events').select(['host', 'login_user', 'command', 'extra']).orderBy('id').execute();
}

async function heldRows() {
  return store.db.selectFrom('ingest_held_lines').select(['source', 'host_key']).orderBy('host_key').execute();
}

describe('POST /ingest: an event cut between two requests of a shipper', () => {
  it('is assembled whole when its SYSCALL record ends one request and the rest starts the next', async () => {
    const records = exec(20, ['cat', '/etc/shadow']);
    const first = await post([...exec(19, ['ls']), records[0]!]);
    expect(first).toMatchObject({ accepted: 1, malformed: 0 });
    expect(await heldRows()).toEqual([{ source: 'audit-http', host_key: 'fallback-host' }]);
    const second = await post(records.slice(1));
    expect(second).toMatchObject({ accepted: 1, matched: 1, stored: 1, malformed: 0 });
    expect((await stored()).map((row) => [row.host, row.login_user, row.command])).toEqual([['web-1', 'alice', 'cat /etc/shadow']]);
    expect(await heldRows()).toEqual([]);
  });

  it('is cut anywhere: every cut of a run of events stores each once, with its user', async () => {
    const runOf = (base: number) => [...exec(base, ['nc', '-lvp', String(base)]), ...exec(base + 1, ['id']), ...exec(base + 2, ['nc', '-lvp', String(base + 2)])];
    const cuts = runOf(0).length;
    const expected: string[][] = [];
    for (let cut = 1; cut < cuts; cut++) {
      const base = 200 + cut * 3;
      const lines = runOf(base);
      const first = await post(lines.slice(0, cut));
      const second = await post(lines.slice(cut));
      // Each event is counted by the request that finished it, once.
      expect(first.accepted + second.accepted, `cut at line ${cut}`).toBe(3);
      expect(first.malformed + second.malformed, `cut at line ${cut}`).toBe(0);
      expected.push(['alice', `nc -lvp ${base}`], ['alice', `nc -lvp ${base + 2}`]);
      expect((await stored()).map((row) => [row.login_user, row.command]), `cut at line ${cut}`).toEqual(expected);
    }
    expect(await heldRows()).toEqual([]);
  });

  it("ties sudo's USER_CMD in one request to the execve it caused in the next: one event", async () => {
    await post([userCmd(40, 'cat /etc/shadow', 4100)]);
    await post(exec(41, ['cat', '/etc/shadow'], { ppid: 4100 }));
    const rows = await stored();
    expect(rows.map((row) => [row.login_user, row.command, (row.extra as Record<string, string> | null)?.via])).toEqual([['alice', 'cat /etc/shadow', 'sudo']]);
  });

  it('keeps the held lines of each shipper host apart, and refuses a host outside the source', async () => {
    const wrap = (host: string, line: string) => JSON.stringify({ message: line.replace('node=web-1 ', ''), host });
    const a = exec(50, ['cat', '/etc/shadow']);
    const b = exec(51, ['nc', '-lvp', '4444']);
    await post([wrap('web-7', a[0]!), wrap('web-8', b[0]!), wrap('db-1', a[0]!)], WRAPPED_TOKEN, 'application/x-ndjson');
    expect((await heldRows()).map((row) => row.host_key)).toEqual(['db-1', 'web-7', 'web-8']);
    const second = await post([...a.slice(1).map((line) => wrap('web-7', line)), ...b.slice(1).map((line) => wrap('web-8', line)), ...a.slice(1).map((line) => wrap('db-1', line))], WRAPPED_TOKEN, 'application/x-ndjson');
    expect(second).toMatchObject({ stored: 2, malformed_by_reason: { host_not_allowed: 1 } });
    expect((await stored()).map((row) => [row.host, row.command])).toEqual([
      ['web-7', 'cat /etc/shadow'],
      ['web-8', 'nc -lvp 4444'],
    ]);
  });

  it('counts a malformed line once, though the lines after it are read again with the next request', async () => {
    const records = exec(60, ['cat', '/etc/shadow']);
    const first = await post([records[0]!, 'node=web-1 type=EXECVE msg=audit(garbage', records[1]!]);
    expect(first.malformed).toBe(1);
    const second = await post(records.slice(2));
    expect(second).toMatchObject({ stored: 1, malformed: 0 });
  });

  it('reads held lines on their own once their host has sent nothing for a while, closing the event', async () => {
    const records = exec(70, ['cat', '/etc/shadow']);
    await post(records.slice(0, 2));
    expect(await readIdleHeldLines(route)).toMatchObject({ rows: 0, events: 0 });
    expect(await stored()).toEqual([]);
    clock.advance(HELD_LINES_IDLE_MS + 1);
    expect(await readIdleHeldLines(route)).toMatchObject({ rows: 1, events: 1, stored: 1 });
    expect((await stored()).map((row) => [row.login_user, row.command])).toEqual([['alice', 'cat /etc/shadow']]);
    expect(await heldRows()).toEqual([]);
    expect(await readIdleHeldLines(route)).toMatchObject({ rows: 0, events: 0 });
  });

  it('assembles an exec whose records pass 1 MiB when a request ends inside it', async () => {
    const id = 'msg=audit(1795507200.990:990):';
    const args = ['cat', ...Array.from({ length: 160 }, () => 'a'.repeat(8000)), '/etc/shadow'];
    const records = [
      `node=web-1 type=SYSCALL ${id} arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=5000 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat" key="exec"`,
      `node=web-1 type=EXECVE ${id} argc=${args.length} a0="cat"`,
      ...args.slice(1).map((arg, i) => `node=web-1 type=EXECVE ${id} a${i + 1}="${arg}"`),
      `node=web-1 type=CWD ${id} cwd="/root"`,
      `node=web-1 type=EOE ${id} `,
    ];
    const first = await post(records.slice(0, 150));
    const second = await post(records.slice(150));
    expect(first.accepted + second.accepted).toBe(1);
    expect(second).toMatchObject({ matched: 1, stored: 1, malformed: 0 });
    const rows = await stored();
    expect(rows.map((row) => [row.login_user, row.command.endsWith(' /etc/shadow')])).toEqual([['alice', true]]);
  });

  it('reads every idle host in one round, not 100 a round, so rows of many hosts do not pile up', async () => {
    const wrap = (host: string, line: string) => JSON.stringify({ message: line.replace('node=web-1 ', ''), host });
    const lines = Array.from({ length: 250 }, (_, i) => wrap(`web-${i}`, exec(700 + i, ['cat', '/etc/shadow'])[0]!));
    await post(lines, WRAPPED_TOKEN, 'application/x-ndjson');
    expect((await heldRows()).length).toBe(250);
    clock.advance(HELD_LINES_IDLE_MS + 1);
    expect(await readIdleHeldLines(route)).toMatchObject({ rows: 250, events: 250 });
    expect(await heldRows()).toEqual([]);
  });

  it('keeps held lines across a restart: another instance finishes the event', async () => {
    const records = exec(80, ['cat', '/etc/shadow']);
    await post(records.slice(0, 1));
    await http.close();
    await serve();
    await post(records.slice(1));
    expect((await stored()).map((row) => [row.login_user, row.command])).toEqual([['alice', 'cat /etc/shadow']]);
  });

  it('loses nothing when requests of one source race for its held lines', async () => {
    const events = Array.from({ length: 12 }, (_, i) => exec(100 + i, ['nc', '-lvp', String(5000 + i)]));
    // Each request ends inside one event and starts with the end of another: all at once.
    await post(events[0]!.slice(0, 1));
    const bodies = events.map((records, i) => [...records.slice(1), ...(events[i + 1]?.slice(0, 1) ?? [])]);
    await Promise.all(bodies.map((body) => post(body)));
    clock.advance(HELD_LINES_IDLE_MS + 1);
    await readIdleHeldLines(route);
    const commands = (await stored()).map((row) => row.command).sort();
    expect(commands).toEqual(events.map((_, i) => `nc -lvp ${5000 + i}`).sort());
    expect(await heldRows()).toEqual([]);
  });

  it('loses nothing, and stores nothing twice, when two replicas race for the held lines', async () => {
    const replica = new HttpServer(silentLogger);
    routeIngest(replica, route);
    const other = await replica.listen(0, '127.0.0.1');
    try {
      const events = Array.from({ length: 10 }, (_, i) => exec(300 + i, ['nc', '-lvp', String(6000 + i)]));
      await post(events[0]!.slice(0, 1));
      const bodies = events.map((records, i) => [...records.slice(1), ...(events[i + 1]?.slice(0, 1) ?? [])]);
      await Promise.all(bodies.map((body, i) => post(body, TOKEN, 'text/plain', i % 2 === 0 ? url : other)));
      clock.advance(HELD_LINES_IDLE_MS + 1);
      await readIdleHeldLines(route);
      expect((await stored()).map((row) => row.command).sort()).toEqual(events.map((_, i) => `nc -lvp ${6000 + i}`).sort());
      expect(await heldRows()).toEqual([]);
    } finally {
      await replica.close();
    }
  });
});

describe('POST /ingest: what is refused', () => {
  it('does not call a second copy of a record refused: its event is stored', async () => {
    const records = exec(65, ['cat', '/etc/shadow']);
    const answer = await post([records[0]!, ...records]);
    expect(answer).toMatchObject({ accepted: 1, stored: 1, refused: 0, malformed_by_reason: { duplicate_record: 1 } });
  });
});

describe('held lines of a source taken out of the configuration', () => {
  it('are let go, and the log says so', async () => {
    await post(exec(90, ['cat', '/etc/shadow']).slice(0, 1));
    const warnings: Array<{ message: string; fields: unknown }> = [];
    const logger = { ...silentLogger, warn: (message: string, fields?: unknown) => warnings.push({ message, fields }) };
    clock.advance(HELD_LINES_IDLE_MS + 1);
    expect(await readIdleHeldLines({ ...route, sources: [], logger })).toMatchObject({ rows: 1, events: 0 });
    expect(await heldRows()).toEqual([]);
    expect(warnings).toEqual([{ message: 'held ingest lines of a source no longer configured are let go unread', fields: expect.objectContaining({ source: 'audit-http', host: 'fallback-host' }) }]);
  });
});
