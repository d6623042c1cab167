import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { questionMessage } from '../../src/chat/slack/blocks.js';
import { IsoTimeFormatter } from '../../src/cli/iso-time-formatter.js';
import { scanJsonLine } from '../../src/cli/scan-json-line.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { toAlertView } from '../../src/store/queries/alerts.js';
import { createParser } from '../../src/sources/parsers/index.js';
import { describeProvenance, provenanceOf, type Attribution } from '../../src/sources/provenance.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';
import { run } from './parsers/parser-harness.js';

const SEP = '\x1d';
const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();
const NOW = new Date('2026-11-24T15:00:00Z');
const scanLine = (event: CommandEvent) => scanJsonLine(event, null, event, new IsoTimeFormatter());

const kernelExec = [
  `node=db1 type=SYSCALL msg=audit(1795530208.120:501): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=900 pid=901 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat" key=(null)${SEP}AUID="alice" UID="root" EUID="root"`,
  `node=db1 type=EXECVE msg=audit(1795530208.120:501): argc=2 a0="cat" a1="/etc/shadow"`,
  `node=db1 type=CWD msg=audit(1795530208.120:501): cwd="/home/alice"`,
  `node=db1 type=EOE msg=audit(1795530208.120:501): `,
];
// A denied sudo: the USER_CMD record is the whole event (no execve follows).
const userCmd = `node=db1 type=USER_CMD msg=audit(1795530208.200:502): pid=5000 uid=1000 auid=1000 ses=3 msg='cwd="/home/alice" cmd=${hex('cat /etc/shadow')} exe="/usr/bin/sudo" terminal=pts/0 res=failed'${SEP}UID="alice" AUID="alice"`;
const goAudit = JSON.stringify({
  sequence: 7001,
  timestamp: '1795530208.250',
  messages: [
    { type: 1300, data: 'arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=900 pid=902 auid=1000 uid=0 gid=0 euid=0 tty=pts2 ses=12 comm="cat" exe="/usr/bin/cat" key="exec"' },
    { type: 1309, data: 'argc=2 a0="cat" a1="/etc/shadow"' },
    { type: 1320, data: '' },
  ],
  uid_map: { '0': 'root', '1000': 'alice' },
});
const laurel = JSON.stringify({
  ID: '1795530208.300:7002',
  NODE: 'web-1',
  SYSCALL: { syscall: 59, success: 'yes', ppid: 900, pid: 903, auid: 1000, uid: 0, euid: 0, ses: 3, exe: '/usr/bin/cat', AUID: 'alice', UID: 'root', EUID: 'root' },
  EXECVE: { argc: 2, ARGV: ['cat', '/etc/shadow'] },
  CWD: { cwd: '/root' },
});
const sudoSyslog = 'Nov 24 14:23:28 web-1 sudo[4211]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow';
const sudoCee = 'Nov 24 14:23:28 web-1 sudo[4212]: @cee:{"sudo":{"accept":{"submituser":"alice","runuser":"root","runargv":["cat","/etc/shadow"],"submit_time":{"seconds":1795530208,"nanoseconds":0}}}}';
const sudoJsonFile = JSON.stringify({ accept: { submituser: 'alice', runuser: 'root', runargv: ['cat', '/etc/shadow'], submit_time: { seconds: 1795530208, nanoseconds: 0 }, uuid: 'u-1' } });
const journald = JSON.stringify({
  __CURSOR: 's=1;i=2',
  __REALTIME_TIMESTAMP: '1795530208123456',
  _HOSTNAME: 'web-1',
  SYSLOG_IDENTIFIER: 'sudo',
  _TRANSPORT: 'syslog',
  _PID: '4213',
  _UID: '0',
  _COMM: 'sudo',
  _EXE: '/usr/bin/sudo',
  _AUDIT_LOGINUID: '1000',
  MESSAGE: '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow',
});
const osquery = JSON.stringify({
  name: 'process_events',
  hostIdentifier: 'web-1',
  unixTime: 1795530210,
  columns: { pid: '31337', path: '/usr/bin/cat', cmdline: 'cat /etc/shadow', cwd: '/tmp', auid: '1000', uid: '0', euid: '0', parent: '31300', time: '1795530208' },
  action: 'added',
});
const falco = JSON.stringify({
  hostname: 'k8s-node-1',
  output: 'Warning Sensitive file opened for reading (user=root command=cat /etc/shadow)',
  priority: 'Warning',
  rule: 'Read sensitive file untrusted',
  time: '2026-11-24T14:23:28.123456789Z',
  output_fields: { 'proc.cmdline': 'cat /etc/shadow', 'proc.pid': 4242, 'user.loginuid': 1000, 'user.loginname': 'alice' },
});
const jsonLine = JSON.stringify({ time: '2026-11-24T14:00:00Z', host: 'web-1', user: 'alice', argv: ['cat', '/etc/shadow'] });

/** One sample per way of attribution, with what it must be recorded as. */
const SAMPLES: Array<[string, string, string[], Attribution, boolean]> = [
  ['auditd SYSCALL/EXECVE', 'auditd', kernelExec, 'kernel', false],
  ['auditd USER_CMD', 'auditd', [userCmd], 'audit-userspace', false],
  ['go-audit', 'go-audit', [goAudit], 'kernel', false],
  ['laurel', 'laurel', [laurel], 'kernel', false],
  ['sudo syslog', 'sudo', [sudoSyslog], 'syslog-unverified', true],
  ['sudo JSON over syslog', 'sudo-json', [sudoCee], 'syslog-unverified', true],
  ['sudo JSON log file', 'sudo-json', [sudoJsonFile], 'shipper', false],
  ['sudo via journald', 'sudo-journald', [journald], 'journal-trusted', false],
  ['osquery', 'osquery', [osquery], 'shipper', false],
  ['falco', 'falco', [falco], 'shipper', false],
  ['json lines', 'json', [jsonLine], 'shipper', false],
];

function parse(format: string, lines: string[]): CommandEvent {
  const names: Record<number, string> = { 0: 'root', 1000: 'alice' };
  const { events, malformed } = run(createParser(format, { defaultHost: 'local', resolveUid: (uid) => names[uid] ?? null }), lines, NOW);
  expect(malformed).toEqual([]);
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('provenance of each format', () => {
  it.each(SAMPLES)('%s is %s', (_name, format, lines, attribution, forgeable) => {
    const event = parse(format, lines);
    expect(provenanceOf(event)).toEqual({ format: event.sourceFormat, attribution, forgeable, transport: 'file', hostBinding: null });
  });

  it('is printed by scan --json', () => {
    const line = JSON.parse(scanLine(parse('sudo', [sudoSyslog]))) as Record<string, unknown>;
    expect(line.provenance).toEqual({ format: 'sudo', attribution: 'syslog-unverified', forgeable: true, transport: 'file', host_binding: null });
  });

  it('says in words which records a local user can write', () => {
    expect(describeProvenance(provenanceOf(parse('auditd', kernelExec)))).toBe('auditd (kernel record)');
    expect(describeProvenance(provenanceOf(parse('sudo', [sudoSyslog])))).toBe('sudo syslog — any local user can write this log');
    expect(describeProvenance({ format: 'json', attribution: 'shipper', forgeable: false, transport: 'http', hostBinding: 'unbound' })).toBe(
      'JSON lines (as trusted as its shipper), over HTTP, host not bound to its source',
    );
  });
});

describe.each(storeKinds())('provenance stored (%s)', (kind) => {
  let store: TestStore;
  afterEach(async () => store.destroy());

  it('records every format\'s provenance on its command event and alert', async () => {
    store = await createTestStore(kind);
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock: new ManualClock(NOW) });
    for (const [name, format, lines] of SAMPLES) {
      const stats = await ingestor.ingest(`file-${name.replace(/\W+/g, '-')}`, { events: [parse(format, lines)], malformed: [] });
      expect(stats.matched, name).toBe(1);
    }
    const rows = await store.db
      .selectFrom('command_events')
      .leftJoin('alerts', 'alerts.event_id', 'command_events.id')
      .select(['command_events.source_format', 'attribution', 'forgeable', 'transport', 'host_binding', 'alerts.provenance'])
      .orderBy('command_events.id')
      .execute();
    expect(rows.map((row) => [row.attribution, row.forgeable, row.transport, row.host_binding])).toEqual(
      SAMPLES.map(([, , , attribution, forgeable]) => [attribution, forgeable, 'file', null]),
    );
    // Repeats of one command fold into the first alert; every alert raised carries its event's.
    const raised = rows.filter((row) => row.provenance !== null);
    expect(raised.length).toBeGreaterThan(3);
    for (const row of raised) {
      expect(row.provenance).toEqual({ format: row.source_format, attribution: row.attribution, forgeable: row.forgeable, transport: 'file', host_binding: null });
    }
    // What the DM is rendered from: the stored alert, read back.
    const syslogAlert = await store.db.selectFrom('alerts').selectAll().where('owner', '=', 'alice').where('host', '=', 'web-1').orderBy('created_at').execute();
    const views = syslogAlert.map(toAlertView).filter((view) => view.provenance?.attribution === 'syslog-unverified');
    expect(views.length).toBeGreaterThan(0);
    const lines = questionMessage(views[0]!).blocks.flatMap((block) => (block.type === 'context' ? block.elements.map((e) => e.text) : []));
    expect(lines).toContain(':warning: Source: sudo syslog — any local user can write this log');
  });
});
