import { describe, expect, it } from 'vitest';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { eventsOf } from './maintenance-fixtures.js';
import { makeEvent } from './make-event.js';

const rules = loadDefaultRules();

/** A command run with no login user, as cron's run-parts, a systemd timer or dpkg under unattended-upgrades runs it. */
function systemEvent(argv: string[], exe: string, cwd = '/'): CommandEvent {
  return makeEvent(argv, { user: null, loginUid: null, runAs: 'root', exe, cwd });
}

/**
 * Commands of stock maintenance jobs that were not recorded (they change the machine or need a
 * package this machine lacks), each derived from the script named beside it, read on Debian 12
 * (adduser 3.134, logrotate 3.21, man-db 2.11, dpkg 1.21) or from the RHEL 7/8 packages' scripts.
 */
const DERIVED: Array<[source: string, event: CommandEvent]> = [
  // adduser --system (from mosquitto.postinst, avahi-daemon.postinst, apt.postinst ...) runs, per
  // /usr/sbin/adduser line 483: useradd -r -K SYS_UID_MIN -K SYS_UID_MAX -d -g -s -u NAME.
  ['mosquitto.postinst via adduser --system', systemEvent(['/usr/sbin/useradd', '-r', '-K', 'SYS_UID_MIN=100', '-K', 'SYS_UID_MAX=999', '-d', '/var/lib/mosquitto', '-g', 'mosquitto', '-s', '/usr/sbin/nologin', '-u', '105', 'mosquitto'], '/usr/sbin/useradd')],
  ['apt.postinst via adduser --system', systemEvent(['/usr/sbin/useradd', '-r', '-K', 'SYS_UID_MIN=100', '-K', 'SYS_UID_MAX=999', '-d', '/nonexistent', '-g', 'nogroup', '-s', '/usr/sbin/nologin', '-u', '42', '_apt'], '/usr/sbin/useradd')],
  ['maintainer script itself', systemEvent(['/bin/sh', '/var/lib/dpkg/info/mosquitto.postinst', 'configure', '2.0.11-1.2'], '/usr/bin/dash')],
  ['adduser --group (postgresql-common.postinst)', systemEvent(['/usr/sbin/usermod', '-a', '-G', 'ssl-cert', 'postgres'], '/usr/sbin/usermod')],
  ['openssh-client.postinst', systemEvent(['chmod', '2755', '/usr/bin/ssh-agent'], '/usr/bin/chmod')],
  ['libgstreamer1.0-0.postinst', systemEvent(['setcap', 'cap_net_bind_service,cap_net_admin+ep', '/usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-ptp-helper'], '/usr/sbin/setcap')],
  ['unattended-upgrades', systemEvent(['/usr/bin/python3', '/usr/bin/unattended-upgrade'], '/usr/bin/python3.11')],
  ['unattended-upgrades', systemEvent(['/usr/bin/dpkg', '--status-fd', '10', '--no-triggers', '--unpack', '--auto-deconfigure', '/var/cache/apt/archives/libssl3_3.0.15-1~deb12u1_amd64.deb'], '/usr/bin/dpkg')],
  ['cron.daily/logrotate', systemEvent(['/usr/sbin/logrotate', '/etc/logrotate.conf'], '/usr/sbin/logrotate')],
  ['logrotate.d/rsyslog postrotate', systemEvent(['sh', '-c', '\n\t\t/usr/lib/rsyslog/rsyslog-rotate\n\t', 'logrotate_script', '/var/log/syslog'], '/usr/bin/dash')],
  ['rsyslog-rotate', systemEvent(['systemctl', 'kill', '-s', 'HUP', 'rsyslog.service'], '/usr/bin/systemctl')],
  ['cron.daily/man-db', systemEvent(['/bin/sh', '-c', "find /var/cache/man -type f -name '*.gz' -atime +6 -print0 | xargs -r0 rm -f"], '/usr/bin/dash')],
  ['cron.daily/man-db', systemEvent(['/usr/bin/mandb', '--no-purge', '--quiet'], '/usr/bin/mandb')],
  ['RHEL cron.daily/logrotate', systemEvent(['/usr/sbin/logrotate', '-s', '/var/lib/logrotate/logrotate.status', '/etc/logrotate.conf'], '/usr/sbin/logrotate')],
  ['RHEL cron.daily/man-db.cron', systemEvent(['/usr/bin/mandb', '-q'], '/usr/bin/mandb')],
  ['RHEL cron.daily/mlocate', systemEvent(['/usr/bin/updatedb'], '/usr/bin/updatedb')],
  ['RHEL cron.hourly/0anacron', systemEvent(['/usr/sbin/anacron', '-s'], '/usr/sbin/anacron')],
  ['RHEL cron.d/sysstat', systemEvent(['/usr/lib64/sa/sa1', '1', '1'], '/usr/bin/bash')],
  ['RHEL cron.d/raid-check', systemEvent(['/usr/sbin/raid-check'], '/usr/bin/bash')],
];

describe('stock distribution maintenance', () => {
  it('raises no alert for the recorded cron.daily passwd backup and dpkg database backup', async () => {
    const events = await eventsOf('cron-daily.log');
    expect(events.length).toBe(31);
    // Without the exceptions these are the shadow-read and passwd-file-write hits of every day.
    expect(events.filter((event) => event.argv[0] === 'cmp' && /shadow/.test(event.command))).toHaveLength(4);
    expect(events.map((event) => [event.command, rules.match(event)?.ruleId ?? null]).filter(([, rule]) => rule !== null)).toEqual([]);
  });

  it('raises no alert for the same job run by cron with root\'s login uid (pam_loginuid), but alerts for root on a terminal', async () => {
    const events = await eventsOf('cron-daily-loginuid0.log');
    const byCron = events.filter((event) => event.extra?.tty === undefined);
    // Two runs: the first compares and copies each of the four files, the second only compares.
    expect(byCron.filter((event) => event.argv[0] === 'cmp')).toHaveLength(8);
    expect(byCron.filter((event) => event.argv[0] === 'cp')).toHaveLength(4);
    for (const event of byCron) expect(event).toMatchObject({ user: 'root', loginUid: 0 });
    expect(byCron.filter((event) => rules.match(event) !== null).map((event) => event.command)).toEqual([]);
    const typed = events.filter((event) => event.extra?.tty === 'pts0' && event.argv[0] === 'cmp');
    expect(typed).toHaveLength(1);
    expect(rules.match(typed[0]!)?.ruleId).toBe('shadow-read');
  });

  it('never takes a format that does not record terminals for "no terminal"', () => {
    const cron = (overrides: Partial<CommandEvent>) =>
      makeEvent(['cmp', '-s', 'shadow.bak', '/etc/shadow'], { user: 'root', loginUid: 0, runAs: 'root', exe: '/usr/bin/cmp', cwd: '/var/backups', ...overrides });
    expect(rules.match(cron({}))).toBeNull();
    expect(rules.match(cron({ sourceFormat: 'json' }))?.ruleId).toBe('shadow-read');
    expect(rules.match(cron({ attribution: 'audit-userspace' }))?.ruleId).toBe('shadow-read');
    expect(rules.match(cron({ extra: { tty: 'pts1' } }))?.ruleId).toBe('shadow-read');
  });

  it.each(DERIVED)('raises no alert for %s', (_source, event) => {
    expect(rules.match(event)).toBeNull();
  });

  it('still alerts when a person runs the same commands (login user set, on a terminal)', async () => {
    const events = (await eventsOf('person-and-impostor.log')).filter((event) => event.user === 'alice');
    const hits = events.map((event) => [event.command, event.extra?.tty ?? null, rules.match(event)?.ruleId ?? null]).filter(([, , rule]) => rule !== null);
    expect(hits).toEqual([
      ['cmp -s shadow.bak /etc/shadow', 'pts0', 'shadow-read'],
      ['cp -p /etc/shadow shadow.bak', 'pts0', 'shadow-read'],
    ]);
  });

  it('still alerts on a program named cmp outside the system paths, even with no login user', async () => {
    const impostors = (await eventsOf('person-and-impostor.log')).filter((event) => event.exe === '/tmp/cmp');
    expect(impostors).toHaveLength(2);
    for (const event of impostors) {
      expect(event.user).toBeNull();
      expect(rules.match(event)?.ruleId).toBe('shadow-read');
    }
  });

  it('binds each exception to its exact command, directory and executable', () => {
    const backup = (argv: string[], overrides: Partial<CommandEvent> = {}) =>
      makeEvent(argv, { user: null, loginUid: null, runAs: 'root', exe: '/usr/bin/cmp', cwd: '/var/backups', ...overrides });
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow']))).toBeNull();
    // Another directory, an added argument, another account or a person: alerts.
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow'], { cwd: '/tmp' }))?.ruleId).toBe('shadow-read');
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow', '-i', '0']))?.ruleId).toBe('shadow-read');
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow'], { runAs: 'www-data' }))?.ruleId).toBe('shadow-read');
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow'], { user: 'alice', loginUid: 1001 }))?.ruleId).toBe('shadow-read');
    // No executable in the event (a format without it): the exception cannot hold.
    expect(rules.match(backup(['cmp', '-s', 'shadow.bak', '/etc/shadow'], { exe: null }))?.ruleId).toBe('shadow-read');
    const copy = (argv: string[], overrides: Partial<CommandEvent> = {}) => backup(argv, { exe: '/usr/bin/cp', ...overrides });
    expect(rules.match(copy(['cp', '-p', '/etc/shadow', 'shadow.bak']))).toBeNull();
    expect(rules.match(copy(['cp', '-p', '/etc/shadow', '/tmp/shadow.bak']))?.ruleId).toBe('shadow-read');
    expect(rules.match(copy(['cp', '-p', 'shadow.bak', '/etc/shadow']))?.ruleId).toBe('passwd-file-write');
    const useradd = (shell: string, uid = '105') =>
      systemEvent(['/usr/sbin/useradd', '-r', '-K', 'SYS_UID_MIN=100', '-K', 'SYS_UID_MAX=999', '-d', '/var/lib/x', '-g', 'x', '-s', shell, '-u', uid, 'x'], '/usr/sbin/useradd');
    expect(rules.match(useradd('/usr/sbin/nologin'))).toBeNull();
    // A system account with a login shell, or uid 0, is not package maintenance.
    expect(rules.match(useradd('/bin/bash'))?.ruleId).toBe('user-account-created');
    expect(rules.match(useradd('/usr/sbin/nologin', '0'))?.ruleId).toBe('uid-zero-account');
  });
});
