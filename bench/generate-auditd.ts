/**
 * Deterministic generator of a realistic auditd log (ENRICHED format, `node=` prefixes), for the
 * benchmarks. Per typed command it writes the execve event (SYSCALL, EXECVE, CWD, two PATHs,
 * PROCTITLE, EOE); sudo commands add sudo's own execve and its PAM and USER_CMD records; between
 * commands come watched-file events and service records that a parser must skip. The records of
 * two or three events are interleaved, as on a busy host. The same seed gives the same bytes.
 *
 * Run on its own: `node dist/bench/generate-auditd.js --commands 50000 --seed 42 --out FILE`.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  UNSET,
  auditId,
  execEventLines,
  fileEventLines,
  pamMessage,
  userCmdMessage,
  userRecordLine,
  type Identity,
} from './audit-records.js';
import { longScript, programPath, typedCommand, type TypedCommand } from './command-catalog.js';
import { SeededRandom } from './seeded-random.js';

/** What to generate. Every field but `commands` has a default tuned to ~14 records a command. */
export interface GenerateOptions {
  /** Typed commands (a sudo command counts once, though it makes two execve events). */
  commands: number;
  /** Default 42. */
  seed?: number;
  /** Share of commands the default rule pack flags. Default 0.02. */
  hitShare?: number;
  /** Share of commands run by daemons (cron), without a login user. Default 0.05. */
  daemonShare?: number;
  /** Share of commands with an argument over 7,500 bytes (split into chunks). Default 0.002. */
  longArgShare?: number;
  /** Watched-file events (openat, not execs) per command. Default 0.65. */
  fileEventsPerCommand?: number;
  /** Lone service records (logins, systemd) per command. Default 0.8. */
  serviceRecordsPerCommand?: number;
  /** Most events whose records are interleaved at once. Default 3. */
  interleave?: number;
  /** Time of the first event, ms since the epoch. Default 2026-11-24T08:00:00Z. */
  startMs?: number;
}

/** An execve event, reported when its last record (EOE) has been produced. */
export interface GeneratedExec {
  /** `host:SECONDS.MILLIS:SERIAL`, the parser's event key. */
  key: string;
  host: string;
  pid: number;
  argv: readonly string[];
  /** The login user, or null for a daemon. */
  login: string | null;
}

/** One line of log (without its newline), and the exec it completes, if any. */
export interface GeneratedLine {
  text: string;
  exec?: GeneratedExec;
}

/** Counts of what was generated. */
export interface GenerateStats {
  commands: number;
  sudoCommands: number;
  suspiciousCommands: number;
  longArguments: number;
  execEvents: number;
  records: number;
  bytes: number;
}

const PEOPLE: Identity[] = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'].map((name, i) => ({
  name,
  uid: 1000 + i,
}));
const HOSTS = ['web-1', 'web-2', 'web-3', 'db-1', 'db-2', 'lb-1', 'build-1', 'bastion-1'];
const ROOT: Identity = { uid: 0, name: 'root' };
const SERVICE_USERS: Record<string, Identity> = { postgres: { uid: 112, name: 'postgres' } };
const DAEMON_JOBS: string[][] = [
  ['/usr/lib/sysstat/sa1', '1', '1'],
  ['/usr/sbin/logrotate', '/etc/logrotate.conf'],
  ['/usr/bin/run-parts', '--report', '/etc/cron.hourly'],
  ['/usr/bin/python3', '/usr/bin/unattended-upgrade', '--dry-run'],
];
const WATCHED: Array<{ path: string; key: string; comm: string; exe: string }> = [
  { path: '/etc/passwd', key: 'identity', comm: 'sshd', exe: '/usr/sbin/sshd' },
  { path: '/etc/ssh/sshd_config', key: 'sshd_config', comm: 'sshd', exe: '/usr/sbin/sshd' },
  { path: '/etc/sudoers', key: 'sudoers', comm: 'sudo', exe: '/usr/bin/sudo' },
  { path: '/var/log/lastlog', key: 'logins', comm: 'login', exe: '/usr/bin/login' },
];

/** A login session of one person on one host. */
interface Session {
  person: Identity;
  host: string;
  ses: number;
  tty: string;
  shellPid: number;
}

/** Events not yet written: each produces its lines when reached, so ids follow the log order. */
type PendingEvent = () => { lines: string[]; exec?: GeneratedExec };

/** The generator: iterate `lines()` once. */
export class AuditLogGenerator {
  readonly stats: GenerateStats = { commands: 0, sudoCommands: 0, suspiciousCommands: 0, longArguments: 0, execEvents: 0, records: 0, bytes: 0 };
  private readonly rnd: SeededRandom;
  private readonly options: Required<GenerateOptions>;
  private readonly sessions = new Map<string, Session>();
  private now: number;
  private serial = 1000;
  private nextPid = 20_000;

  constructor(options: GenerateOptions) {
    this.options = {
      seed: 42,
      hitShare: 0.02,
      daemonShare: 0.05,
      longArgShare: 0.002,
      fileEventsPerCommand: 0.65,
      serviceRecordsPerCommand: 0.8,
      interleave: 3,
      startMs: Date.UTC(2026, 10, 24, 8),
      ...options,
    };
    this.rnd = new SeededRandom(this.options.seed);
    this.now = this.options.startMs;
  }

  /** Every line of the log, in order. */
  *lines(): Generator<GeneratedLine> {
    const active: Array<{ events: PendingEvent[]; lines: string[]; exec?: GeneratedExec }> = [];
    const { fileEventsPerCommand, serviceRecordsPerCommand, interleave } = this.options;
    const commandWeight = 1 / (1 + fileEventsPerCommand + serviceRecordsPerCommand);
    const fileWeight = fileEventsPerCommand / (1 + fileEventsPerCommand + serviceRecordsPerCommand);
    for (;;) {
      while (active.length < interleave && this.stats.commands < this.options.commands) {
        const roll = this.rnd.next();
        const events = roll < commandWeight ? this.commandEvents() : roll < commandWeight + fileWeight ? [this.fileEvent()] : [this.serviceRecord()];
        active.push({ events, lines: [] });
      }
      if (active.length === 0) return;
      const index = this.rnd.int(0, active.length - 1);
      const stream = active[index]!;
      if (stream.lines.length === 0) {
        const next = stream.events.shift()!();
        stream.lines = next.lines;
        stream.exec = next.exec;
      }
      const text = stream.lines.shift()!;
      this.stats.records += 1;
      this.stats.bytes += Buffer.byteLength(text) + 1;
      const last = stream.lines.length === 0;
      if (last && stream.exec) this.stats.execEvents += 1;
      yield last && stream.exec ? { text, exec: stream.exec } : { text };
      if (last && stream.events.length === 0) active.splice(index, 1);
    }
  }

  /** The events of one typed command: a plain exec, a daemon's exec, or sudo and its child. */
  private commandEvents(): PendingEvent[] {
    this.stats.commands += 1;
    this.now += this.rnd.int(0, 45);
    if (this.rnd.chance(this.options.daemonShare)) return [this.daemonExec()];
    const session = this.session();
    const home = `/home/${session.person.name}`;
    let typed: TypedCommand;
    if (this.rnd.chance(this.options.longArgShare)) {
      typed = longScript(this.rnd);
      this.stats.longArguments += 1;
    } else {
      const hitBefore = this.rnd.next();
      typed = typedCommand(this.rnd, home, hitBefore < this.options.hitShare ? 1 : 0);
      if (hitBefore < this.options.hitShare) this.stats.suspiciousCommands += 1;
    }
    const cwd = typed.cwd ?? home;
    if (!typed.sudo) {
      const pid = this.pid();
      return [() => this.exec(session, { pid, ppid: session.shellPid, argv: typed.argv, cwd, runAs: session.person })];
    }
    this.stats.sudoCommands += 1;
    return this.sudoEvents(session, typed, cwd);
  }

  /** sudo's execve, its PAM and USER_CMD records, the command it runs, and the session close. */
  private sudoEvents(session: Session, typed: TypedCommand, cwd: string): PendingEvent[] {
    const sudoPid = this.pid();
    const childPid = this.pid();
    const target = typed.sudoUser ? (SERVICE_USERS[typed.sudoUser] ?? ROOT) : ROOT;
    const sudoArgv = ['sudo', ...(typed.sudoUser ? ['-u', typed.sudoUser] : []), ...typed.argv];
    const pam = (type: string, op: string, grantors: string): PendingEvent => () => ({
      lines: [
        userRecordLine({
          host: session.host,
          id: this.nextId(),
          type,
          pid: sudoPid,
          uid: session.person,
          login: session.person,
          ses: session.ses,
          message: pamMessage(op, grantors, target.name, session.tty),
        }),
      ],
    });
    return [
      () => this.exec(session, { pid: sudoPid, ppid: session.shellPid, argv: sudoArgv, cwd, runAs: ROOT, exe: '/usr/bin/sudo' }),
      pam('USER_ACCT', 'accounting', 'pam_permit'),
      () => ({
        lines: [
          userRecordLine({
            host: session.host,
            id: this.nextId(),
            type: 'USER_CMD',
            pid: sudoPid,
            uid: session.person,
            login: session.person,
            ses: session.ses,
            message: userCmdMessage(cwd, [programPath(typed.argv[0]!), ...typed.argv.slice(1)], session.tty),
          }),
        ],
      }),
      pam('CRED_REFR', 'setcred', 'pam_permit,pam_cap'),
      pam('USER_START', 'session_open', 'pam_permit,pam_umask,pam_unix,pam_limits'),
      () => this.exec(session, { pid: childPid, ppid: sudoPid, argv: typed.argv, cwd, runAs: target }),
      pam('USER_END', 'session_close', 'pam_permit,pam_umask,pam_unix,pam_limits'),
      pam('CRED_DISP', 'setcred', 'pam_permit,pam_cap'),
    ];
  }

  private exec(
    session: Session,
    spec: { pid: number; ppid: number; argv: readonly string[]; cwd: string; runAs: Identity; exe?: string },
  ): { lines: string[]; exec: GeneratedExec } {
    const id = this.nextId();
    const lines = execEventLines({
      host: session.host,
      id,
      pid: spec.pid,
      ppid: spec.ppid,
      argv: spec.argv,
      exe: spec.exe ?? programPath(spec.argv[0]!),
      cwd: spec.cwd,
      login: session.person,
      runAs: spec.runAs,
      ses: session.ses,
      tty: session.tty,
      key: 'exec',
    });
    return { lines, exec: { key: `${session.host}:${id}`, host: session.host, pid: spec.pid, argv: spec.argv, login: session.person.name } };
  }

  private daemonExec(): PendingEvent {
    const host = this.rnd.pick(HOSTS);
    const argv = this.rnd.pick(DAEMON_JOBS);
    const pid = this.pid();
    return () => {
      const id = this.nextId();
      const lines = execEventLines({ host, id, pid, ppid: 812, argv, exe: argv[0]!, cwd: '/', login: null, runAs: ROOT, ses: UNSET, tty: '(none)', key: 'exec' });
      return { lines, exec: { key: `${host}:${id}`, host, pid, argv, login: null } };
    };
  }

  private fileEvent(): PendingEvent {
    this.now += this.rnd.int(0, 20);
    const host = this.rnd.pick(HOSTS);
    const watched = this.rnd.pick(WATCHED);
    const pid = this.pid();
    return () => ({
      lines: fileEventLines({
        host,
        id: this.nextId(),
        pid,
        ppid: 1,
        comm: watched.comm,
        exe: watched.exe,
        path: watched.path,
        cwd: '/',
        login: null,
        runAs: ROOT,
        ses: UNSET,
        tty: '(none)',
        key: watched.key,
        proctitle: [watched.exe, '-D'],
      }),
    });
  }

  private serviceRecord(): PendingEvent {
    this.now += this.rnd.int(0, 20);
    const session = this.session();
    const kind = this.rnd.pick(['SERVICE_START', 'USER_LOGIN', 'CRED_ACQ', 'USER_AUTH']);
    return () => {
      const id = this.nextId();
      if (kind === 'SERVICE_START') {
        return {
          lines: [
            userRecordLine({
              host: session.host,
              id,
              type: kind,
              pid: 1,
              uid: ROOT,
              login: null,
              ses: UNSET,
              message: 'unit=sysstat-collect comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success',
            }),
          ],
        };
      }
      const message =
        kind === 'USER_LOGIN'
          ? `op=login id=${session.person.uid} exe="/usr/sbin/sshd" hostname=10.0.4.${session.person.uid % 250} addr=10.0.4.${session.person.uid % 250} terminal=/dev/${session.tty} res=success`
          : `op=PAM:${kind === 'CRED_ACQ' ? 'setcred' : 'authentication'} grantors=pam_unix acct=${JSON.stringify(session.person.name)} exe="/usr/sbin/sshd" hostname=10.0.4.9 addr=10.0.4.9 terminal=ssh res=success`;
      return {
        lines: [userRecordLine({ host: session.host, id, type: kind, pid: this.pid(), uid: ROOT, login: session.person, ses: session.ses, message })],
      };
    };
  }

  private session(): Session {
    const person = this.rnd.pick(PEOPLE);
    const host = this.rnd.pick(HOSTS);
    const key = `${person.name}@${host}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = { person, host, ses: 100 + this.sessions.size, tty: `pts${this.sessions.size % 8}`, shellPid: this.pid() };
      this.sessions.set(key, session);
    }
    return session;
  }

  private pid(): number {
    this.nextPid += this.rnd.int(1, 3);
    return this.nextPid;
  }

  private nextId(): string {
    this.serial += 1;
    return auditId(this.now, this.serial);
  }
}

/**
 * Streams a generated log to `file` (creating its directory), calling `onExec` for every execve
 * event written. Resolves with the counts once the file is closed.
 */
export async function writeAuditLog(file: string, options: GenerateOptions, onExec?: (exec: GeneratedExec) => void): Promise<GenerateStats> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const generator = new AuditLogGenerator(options);
  let parts: string[] = [];
  let size = 0;
  for (const line of generator.lines()) {
    parts.push(line.text, '\n');
    size += line.text.length + 1;
    if (line.exec) onExec?.(line.exec);
    if (size >= 1024 * 1024) {
      if (!out.write(parts.join(''))) await once(out, 'drain');
      parts = [];
      size = 0;
    }
  }
  out.end(parts.join(''));
  await once(out, 'finish');
  return generator.stats;
}

function argValue(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = argValue(args, '--out', 'bench/out/audit.log');
  const stats = await writeAuditLog(file, {
    commands: Number(argValue(args, '--commands', '50000')),
    seed: Number(argValue(args, '--seed', '42')),
  });
  process.stdout.write(`${file}: ${JSON.stringify(stats)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
