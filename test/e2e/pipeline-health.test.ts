import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import type { SimulatedMessage } from '../../src/sandbox/slack-simulator.js';
import { startService } from '../../src/service.js';
import { openNotices } from '../../src/store/queries/health.js';
import { ALICE, Harness } from './harness.js';

/**
 * auditd's own records, as recorded (test/fixtures/real/maintenance/PROVENANCE.md), with the
 * `node=` prefix auditd writes under `name_format = HOSTNAME`.
 */
const RECORDED = readFileSync('test/fixtures/real/maintenance/cron-daily.log', 'utf8').split('\n');
function recorded(pattern: RegExp, host: string): string {
  const line = RECORDED.find((candidate) => pattern.test(candidate));
  if (!line) throw new Error(`no recorded line matches ${pattern}`);
  return `node=${host} ${line}\n`;
}
const DAEMON_END = /^type=DAEMON_END /;
const DAEMON_START = /^type=DAEMON_START /;
const AUDIT_DISABLED = /^type=CONFIG_CHANGE .*audit_enabled=0 /;
const AUDIT_ENABLED = /^type=CONFIG_CHANGE .*audit_enabled=1 /;
const RULE_REMOVED = /^type=CONFIG_CHANGE .*op=remove_rule /;
const RULE_ADDED = /^type=CONFIG_CHANGE .*op=add_rule /;
/** The kernel's own report of a backlog overrun, as kern.log has it (linux-audit list, 2014). */
const KERNEL_LOST = 'Dec 11 21:46:56 db-2 kernel: [2081500.871622] audit: audit_lost=5 audit_rate_limit=0 audit_backlog_limit=64\n';

/** A go-audit group of one non-exec syscall, numbered `sequence`. */
function goAuditGroup(sequence: number): string {
  const data = `audit(1796167939.${String(sequence).padStart(3, '0')}:${sequence}): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=812 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" key=(null)`;
  return JSON.stringify({ sequence, timestamp: `1796167939.${String(sequence).padStart(3, '0')}`, hostname: 'app-1', messages: [{ type: 1300, data }], uid_map: {} }) + '\n';
}

describe('pipeline health notices', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('posts each kind once per host, deduplicated, with its recovery in the notice thread, and counts them in /metrics', async () => {
    h = new Harness();
    const goAuditLog = path.join(h.dir, 'go-audit.log');
    writeFileSync(goAuditLog, '');
    await h.start({
      sources: [`{ name: goaudit, type: go-audit, path: ${goAuditLog} }`],
      config: ['health: { silent_after: 1h, malformed_spike: 5, quiet_after: 10m }'],
    });
    // The first round records the malformed-line baseline.
    expect(await h.service.health.runOnce()).toBe(0);

    appendFileSync(h.logPath, recorded(DAEMON_END, 'db-1') + recorded(DAEMON_END, 'db-1') + recorded(AUDIT_DISABLED, 'db-1') + recorded(RULE_REMOVED, 'db-1') + recorded(RULE_REMOVED, 'db-1'));
    appendFileSync(h.logPath, KERNEL_LOST + KERNEL_LOST);
    appendFileSync(h.logPath, Array.from({ length: 20 }, (_, i) => `garbage line ${i} that is no audit record\n`).join(''));
    appendFileSync(goAuditLog, [100, 101, 102, 110].map(goAuditGroup).join(''));
    await h.advance(60_000);
    expect(await h.service.health.runOnce()).toBe(6);
    expect(await h.service.health.runOnce()).toBe(0);

    const notices = topLevel(h.security());
    expect(notices.map((post) => post.text).sort()).toEqual([
      '⚠️ Audit events lost on db-2',
      '⚠️ Audit records missing (sequence gap) on app-1',
      '⚠️ Audit rules removed on db-1',
      '⚠️ Kernel auditing disabled on db-1',
      '⚠️ Spike of malformed log lines on audit',
      '⚠️ auditd stopped on db-1',
    ]);
    const open = await openNotices(h.service.store.db);
    expect(open.find((notice) => notice.kind === 'auditd_stopped')).toMatchObject({ host: 'db-1', occurrences: 2 });
    expect(open.find((notice) => notice.kind === 'sequence_gap')?.detail).toMatch(/jumped from sequence 102 to 110 at \S+: 7 records never arrived/);
    const metrics = await (await fetch(`${h.service.url}/metrics`)).text();
    for (const kind of ['auditd_stopped', 'audit_disabled', 'audit_rules_removed', 'events_lost', 'sequence_gap', 'malformed_spike']) {
      expect(metrics).toContain(`vouch_health_notices{kind="${kind}"} 1\n`);
    }
    expect(metrics).toContain('vouch_health_notices{kind="host_silent"} 0\n');
    // A monitor reading /healthz's body sees it too, though the process itself is well.
    const healthz = await fetch(`${h.service.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toMatchObject({ status: 'degraded', health_notices: 6, failed_jobs: 0 });

    // auditd comes back and loads its rules; the quiet kinds recover once nothing new came for 10 minutes.
    appendFileSync(h.logPath, recorded(DAEMON_START, 'db-1') + recorded(AUDIT_ENABLED, 'db-1') + recorded(RULE_ADDED, 'db-1'));
    await h.advance(11 * 60_000);
    expect(await h.service.health.runOnce()).toBe(6);
    expect(await h.service.health.runOnce()).toBe(0);
    const posts = h.security();
    expect(topLevel(posts)).toHaveLength(6);
    for (const notice of topLevel(posts)) {
      const replies = posts.filter((post) => post.threadTs === notice.ts);
      expect(replies).toHaveLength(1);
      expect(replies[0]!.text).toMatch(/^Recovered: /);
    }
    expect(await openNotices(h.service.store.db)).toEqual([]);
    expect(await (await fetch(`${h.service.url}/metrics`)).text()).toContain('vouch_health_notices{kind="auditd_stopped"} 0\n');
    expect(await (await fetch(`${h.service.url}/healthz`)).json()).toMatchObject({ status: 'ok', health_notices: 0 });
  }, 120_000);

  it('tells of a host silent for longer than health.silent_after, once, and of its return in the thread', async () => {
    h = await new Harness().start({ config: ['health: { silent_after: 30m }'] });
    h.runCommand(ALICE, ['id'], { host: 'db-7' });
    await h.settle();
    await h.advance(20 * 60_000);
    expect(await h.service.health.runOnce()).toBe(0);
    await h.advance(11 * 60_000);
    expect(await h.service.health.runOnce()).toBe(1);
    await h.advance(10 * 60_000);
    expect(await h.service.health.runOnce()).toBe(0);
    const [notice] = h.security();
    expect(notice!.text).toBe('⚠️ Host went silent on db-7');

    h.runCommand(ALICE, ['id'], { host: 'db-7' });
    await h.settle();
    expect(await h.service.health.runOnce()).toBe(1);
    const reply = h.security().find((post) => post.threadTs === notice!.ts);
    expect(reply?.text).toBe('Recovered: the host is sending audit records again on db-7');
  }, 60_000);

  it('posts a notice and its recovery once when two replicas run the round at the same moment', async () => {
    h = await new Harness().start();
    const other = await startService({ config: h.config, store: await h.store.reopen(), clock: h.clock, logger: silentLogger, autoRun: false });
    try {
      appendFileSync(h.logPath, recorded(DAEMON_END, 'db-1'));
      await h.settle();
      const rounds = () => Promise.all([h.service.health.runOnce(), other.health.runOnce(), h.service.health.runOnce(), other.health.runOnce()]);
      expect((await rounds()).reduce((sum, count) => sum + count, 0)).toBe(1);
      appendFileSync(h.logPath, recorded(DAEMON_START, 'db-1'));
      await h.settle();
      expect((await rounds()).reduce((sum, count) => sum + count, 0)).toBe(1);
      expect(h.security()).toHaveLength(2);
    } finally {
      await other.stop();
      await other.store.close();
    }
  }, 60_000);

  it('escapes a hostile host name in the notice', async () => {
    h = await new Harness().start();
    appendFileSync(h.logPath, recorded(DAEMON_END, '<!channel>*x*'));
    await h.settle();
    expect(await h.service.health.runOnce()).toBe(1);
    const text = JSON.stringify(h.security()[0]);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
  }, 60_000);
});

function topLevel(posts: SimulatedMessage[]): SimulatedMessage[] {
  return posts.filter((post) => post.threadTs === null);
}
