import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { SourceConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';
import { routeIngest, type IngestResponse } from '../../src/server/ingest-api.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const BOUND_TOKEN = 'fleet-web-token-0123456789abcdef';
const OPEN_TOKEN = 'fleet-any-token-0123456789abcdef';

const SOURCES: SourceConfig[] = [
  { name: 'fleet-web', type: 'json', path: null, token: BOUND_TOKEN, host: null, hosts: ['web-*', 'db-1'] },
  { name: 'fleet-any', type: 'json', path: null, token: OPEN_TOKEN, host: null },
];

let store: TestStore;
let http: HttpServer;
let url: string;
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));

beforeEach(async () => {
  store = await createTestStore();
  const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
  http = new HttpServer(silentLogger);
  routeIngest(http, { sources: SOURCES, ingestor, clock, logger: silentLogger });
  url = await http.listen(0, '127.0.0.1');
});

afterEach(async () => {
  await http.close();
  await store.destroy();
});

const record = (host: string, argv: string[], user = 'alice') =>
  JSON.stringify({ time: '2026-11-24T14:00:00Z', host, user, run_as: 'root', argv });

async function post(token: string, lines: string[]): Promise<{ status: number; json: IngestResponse }> {
  const response = await fetch(`${url}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body: lines.join('\n') + '\n',
  });
  return { status: response.status, json: (await response.json()) as IngestResponse };
}

function storedEvents() {
  return store.db
    .selectFrom('command_events')
    .select(['host', 'login_user', 'command', 'attribution', 'forgeable', 'transport', 'host_binding'])
    .orderBy('id')
    .execute();
}

describe('HTTP sources bound to hosts', () => {
  it('stores events of allowed hosts, refuses and counts the others, and keeps the rest of the batch', async () => {
    const { status, json } = await post(BOUND_TOKEN, [
      record('web-1', ['cat', '/etc/shadow']),
      record('mail-1', ['cat', '/etc/shadow'], 'bob'),
      record('DB-1', ['cat', '/etc/gshadow']),
      record('db-10', ['cat', '/etc/shadow'], 'carol'),
    ]);
    expect(status).toBe(200);
    // Both of alice's hits are one conversation (one question).
    expect(json).toMatchObject({ accepted: 2, matched: 2, alerts_created: 1, malformed: 2, malformed_by_reason: { host_not_allowed: 2 } });
    expect(await storedEvents()).toEqual([
      { host: 'web-1', login_user: 'alice', command: 'cat /etc/shadow', attribution: 'shipper', forgeable: false, transport: 'http', host_binding: 'bound' },
      { host: 'DB-1', login_user: 'alice', command: 'cat /etc/gshadow', attribution: 'shipper', forgeable: false, transport: 'http', host_binding: 'bound' },
    ]);
    const counted = await store.db.selectFrom('source_malformed').select(['source', 'reason', 'count', 'sample']).execute();
    expect(counted).toEqual([{ source: 'fleet-web', reason: 'host_not_allowed', count: 2, sample: 'db-10' }]);
    const owners = await store.db.selectFrom('alerts').select('owner').execute();
    expect(owners.map((row) => row.owner).sort()).toEqual(['alice', 'alice']);
  });

  it('marks events of a source without hosts as unbound, and records their provenance on the alert', async () => {
    const { json } = await post(OPEN_TOKEN, [record('anything-1', ['cat', '/etc/shadow'])]);
    expect(json).toMatchObject({ accepted: 1, malformed: 0 });
    expect(await storedEvents()).toEqual([
      { host: 'anything-1', login_user: 'alice', command: 'cat /etc/shadow', attribution: 'shipper', forgeable: false, transport: 'http', host_binding: 'unbound' },
    ]);
    const [alert] = await store.db.selectFrom('alerts').select('provenance').execute();
    expect(alert?.provenance).toEqual({ format: 'json', attribution: 'shipper', forgeable: false, transport: 'http', host_binding: 'unbound' });
  });

  it('refuses a host whose name only matches a glob when read as a regular expression', async () => {
    const { json } = await post(BOUND_TOKEN, [record('web-1.evil/x', ['cat', '/etc/shadow']), record('db-1x', ['id']), record('db+1', ['id'])]);
    expect(json).toMatchObject({ accepted: 0, malformed: 3 });
    expect(await storedEvents()).toEqual([]);
  });
});

describe('auditd pipeline records over HTTP', () => {
  const AUDITD_TOKEN = 'fleet-auditd-token-0123456789abcd';
  let auditHttp: HttpServer;
  let auditUrl: string;

  beforeEach(async () => {
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
    auditHttp = new HttpServer(silentLogger);
    const sources: SourceConfig[] = [{ name: 'fleet-audit', type: 'auditd', path: null, token: AUDITD_TOKEN, host: null, hosts: ['web-*'] }];
    routeIngest(auditHttp, { sources, ingestor, clock, logger: silentLogger });
    auditUrl = await auditHttp.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await auditHttp.close();
  });

  it('become health notices as from a file, for the hosts the source may speak for only', async () => {
    const body = [
      'node=web-1 type=DAEMON_END msg=audit(1796157401.828:3008): op=terminate auid=0 uid=0 ses=4294967295 pid=19373 res=success',
      'node=mail-1 type=DAEMON_END msg=audit(1796157401.828:3009): op=terminate auid=0 uid=0 ses=4294967295 pid=19373 res=success',
    ].join('\n');
    const response = await fetch(`${auditUrl}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${AUDITD_TOKEN}`, 'content-type': 'text/plain' }, body: `${body}\n` });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ malformed_by_reason: { host_not_allowed: 1 } });
    const notices = await store.db.selectFrom('health_notices').select(['host', 'kind']).execute();
    expect(notices).toEqual([{ host: 'web-1', kind: 'auditd_stopped' }]);
  });
});

describe('a JSON array body with one element nested too deep', () => {
  it('stores the other elements and reads the deep one as an NDJSON line, counted', async () => {
    const deep = JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'web-1', user: 'alice', argv: ['ls'], extra: { k: JSON.parse('['.repeat(70) + ']'.repeat(70)) as unknown } });
    const body = `[\n${record('web-1', ['cat', '/etc/shadow'])},\n${deep},\n${record('web-2', ['cat', '/etc/gshadow'])}\n]`;
    const response = await fetch(`${url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${OPEN_TOKEN}`, 'content-type': 'application/json' }, body });
    expect(response.status).toBe(200);
    const json = (await response.json()) as IngestResponse;
    // The deep element's own event is kept too; only its too-deep field is counted.
    expect(json).toMatchObject({ accepted: 3, malformed: 1 });
    expect((await storedEvents()).map((e) => e.command)).toEqual(['cat /etc/shadow', 'cat /etc/gshadow']);
    // A lone object that deep is still refused whole: it has nothing else to keep.
    const lone = await fetch(`${url}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${OPEN_TOKEN}`, 'content-type': 'application/json' }, body: deep });
    expect(lone.status).toBe(400);
  });
});

describe('sudo text over HTTP', () => {
  it("rates an entry shaped like sudo's own log file as syslog's word, wherever it falls in a request", async () => {
    const token = 'fleet-sudo-token-0123456789abcdef';
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
    const sudoHttp = new HttpServer(silentLogger);
    routeIngest(sudoHttp, { sources: [{ name: 'fleet-sudo', type: 'sudo', path: null, token, host: 'web-1', hosts: ['web-*'] }], ingestor, clock, logger: silentLogger });
    const sudoUrl = await sudoHttp.listen(0, '127.0.0.1');
    try {
      const body = 'Nov 24 14:23:28 : alice : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/socat TCP-LISTEN:4441 -\n';
      const response = await fetch(`${sudoUrl}/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body });
      expect(response.status).toBe(200);
      expect((await storedEvents()).map((e) => [e.login_user, e.attribution, e.forgeable])).toEqual([['alice', 'syslog-unverified', true]]);
    } finally {
      await sudoHttp.close();
    }
  });
});
