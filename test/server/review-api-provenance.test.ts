import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { silentLogger } from '../../src/logger.js';
import { HttpServer } from '../../src/server/http-server.js';
import { routeReviewApi } from '../../src/server/review-api.js';
import { OidcConsoleAuth } from '../../src/review/console/oidc-console-auth.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { createParser } from '../../src/sources/parsers/index.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';
import { run } from '../sources/parsers/parser-harness.js';

const TOKEN = 'review-token-0123456789abcdef';
const NOW = new Date('2026-11-24T15:00:00Z');

let store: TestStore;
let http: HttpServer;
let url: string;

beforeEach(async () => {
  store = await createTestStore();
  http = new HttpServer(silentLogger);
  const clock = new ManualClock(NOW);
  const auth = new OidcConsoleAuth({
    db: store.db, clock, logger: silentLogger, publicUrl: 'http://127.0.0.1', oidc: null, policy: { reviewers: [], admins: [] },
    sharedToken: TOKEN, sessionIdleMs: 3_600_000, sessionMaxAgeMs: 43_200_000,
  });
  routeReviewApi(http, { db: store.db, clock, auth, ruleIds: new Set() });
  url = await http.listen(0, '127.0.0.1');
});

afterEach(async () => {
  await http.close();
  await store.destroy();
});

async function get(path: string): Promise<unknown> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.json();
}

describe('review API provenance', () => {
  it('lists and shows each alert with the provenance of its event', async () => {
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock: new ManualClock(NOW) });
    const syslog = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';
    const kernel = [
      'node=db1 type=SYSCALL msg=audit(1795530208.120:501): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=900 pid=901 auid=1000 uid=0 gid=0 euid=0 tty=pts0 ses=3 comm="nc" exe="/usr/bin/nc" key=(null)',
      'node=db1 type=EXECVE msg=audit(1795530208.120:501): argc=3 a0="nc" a1="-lvp" a2="4444"',
      'node=db1 type=EOE msg=audit(1795530208.120:501): ',
    ];
    const parse = (format: string, lines: string[]) => run(createParser(format, { defaultHost: 'local', resolveUid: (uid) => (uid === 1000 ? 'bob' : null) }), lines, NOW).events;
    await ingestor.ingest('syslog', { events: parse('sudo', [syslog]), malformed: [] });
    await ingestor.ingest('audit', { events: parse('auditd', kernel), malformed: [] });

    const listed = (await get('/api/alerts')) as Array<{ id: string; user: string; provenance: unknown }>;
    const byUser = new Map(listed.map((row) => [row.user, row]));
    expect(byUser.get('alice')?.provenance).toEqual({ format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', host_binding: null });
    expect(byUser.get('bob')?.provenance).toEqual({ format: 'auditd', attribution: 'kernel', forgeable: false, transport: 'file', host_binding: null });

    const one = (await get(`/api/alerts/${byUser.get('alice')!.id}`)) as { provenance: unknown; trail: unknown[] };
    expect(one.provenance).toEqual({ format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', host_binding: null });
    expect(one.trail.length).toBeGreaterThan(0);
  });
});
