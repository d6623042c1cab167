/**
 * auditd record lines as a Linux kernel and auditd 3.x write them with `log_format = ENRICHED`
 * and `name_format = hostname`: `node=` prefix, raw fields, then 0x1D and the translated ones.
 * Untrusted strings follow the kernel's rule (quoted only when every byte is 0x21..0x7E and none
 * is `"`, otherwise upper-case hex), and arguments over 7,500 bytes are split into `aN_len` /
 * `aN[i]` chunks across as many EXECVE records as the kernel's buffer needs.
 */

/** Separator between raw and ENRICHED fields. */
const GS = '\x1d';

/** Kernel limit on argument bytes per EXECVE record (MAX_EXECVE_AUDIT_LEN). */
const MAX_EXECVE_AUDIT_LEN = 7500;

/** Hex characters per chunk of a split argument, leaving room for the field names. */
const CHUNK_HEX_CHARS = 7400;

/** The auid / ses value of processes that never logged in. */
export const UNSET = 4294967295;

/** Who a process runs as: numbers for the raw fields, names for the ENRICHED ones. */
export interface Identity {
  uid: number;
  name: string;
}

/** One execve, as the kernel reports it. */
export interface ExecEventSpec {
  host: string;
  /** `SECONDS.MILLIS:SERIAL` */
  id: string;
  pid: number;
  ppid: number;
  argv: readonly string[];
  exe: string;
  cwd: string;
  /** The login user; null for daemons (auid unset). */
  login: Identity | null;
  /** uid and euid of the new program (equal here: no setuid binaries are run). */
  runAs: Identity;
  ses: number;
  tty: string;
  /** The audit rule key that caught it. */
  key: string;
}

/** A user-space record (sudo, PAM, systemd) written by a process on behalf of `login`. */
export interface UserRecordSpec {
  host: string;
  id: string;
  type: string;
  pid: number;
  uid: Identity;
  login: Identity | null;
  ses: number;
  /** The inner `msg='...'` text, already encoded. */
  message: string;
}

/** A syscall other than execve on a watched path (openat of a file under a watch rule). */
export interface FileEventSpec {
  host: string;
  id: string;
  pid: number;
  ppid: number;
  comm: string;
  exe: string;
  path: string;
  cwd: string;
  login: Identity | null;
  runAs: Identity;
  ses: number;
  tty: string;
  key: string;
  proctitle: readonly string[];
}

/** auditd's encoding of an untrusted string. */
export function encodeValue(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return isQuotable(bytes) ? `"${text}"` : hex(bytes);
}

function isQuotable(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) if (b < 0x21 || b > 0x7e || b === 0x22) return false;
  return true;
}

function hex(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}

/** The event id of a time (ms since the epoch) and a serial number. */
export function auditId(timeMs: number, serial: number): string {
  return `${Math.floor(timeMs / 1000)}.${String(timeMs % 1000).padStart(3, '0')}:${serial}`;
}

function head(host: string, type: string, id: string): string {
  return `node=${host} type=${type} msg=audit(${id}):`;
}

function ids(login: Identity | null, ses: number): { auid: number; auidName: string; ses: number } {
  return login ? { auid: login.uid, auidName: login.name, ses } : { auid: UNSET, auidName: 'unset', ses: UNSET };
}

function credentials(runAs: Identity): string {
  const u = runAs.uid;
  return `uid=${u} gid=${u} euid=${u} suid=${u} fsuid=${u} egid=${u} sgid=${u} fsgid=${u}`;
}

function enrichedCredentials(syscall: string, auidName: string, runAs: Identity): string {
  const n = `"${runAs.name}"`;
  return `${GS}ARCH=x86_64 SYSCALL=${syscall} AUID="${auidName}" UID=${n} GID=${n} EUID=${n} SUID=${n} FSUID=${n} EGID=${n} SGID=${n} FSGID=${n}`;
}

function pathRecord(host: string, id: string, item: number, name: string, inode: number, nametype = 'NORMAL'): string {
  return (
    `${head(host, 'PATH', id)} item=${item} name=${encodeValue(name)} inode=${inode} dev=fd:01 mode=0100755 ouid=0 ogid=0 ` +
    `rdev=00:00 nametype=${nametype} cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${GS}OUID="root" OGID="root"`
  );
}

function proctitle(host: string, id: string, argv: readonly string[]): string {
  // The kernel logs at most 128 bytes of the command line, NUL-separated.
  const title = Buffer.from(argv.join('\0'), 'utf8').subarray(0, 128);
  const value = isQuotable(title) ? `"${title.toString('latin1')}"` : hex(title);
  return `${head(host, 'PROCTITLE', id)} proctitle=${value}`;
}

/** SYSCALL, EXECVE (one or more), CWD, PATH (program and loader), PROCTITLE, EOE. */
export function execEventLines(spec: ExecEventSpec): string[] {
  const { host, id } = spec;
  const who = ids(spec.login, spec.ses);
  const comm = spec.exe.slice(spec.exe.lastIndexOf('/') + 1).slice(0, 15);
  const syscall =
    `${head(host, 'SYSCALL', id)} arch=c000003e syscall=59 success=yes exit=0 a0=55d3a8c0e2a0 a1=55d3a8c0e3b0 ` +
    `a2=55d3a8bd4f00 a3=8 items=2 ppid=${spec.ppid} pid=${spec.pid} auid=${who.auid} ${credentials(spec.runAs)} ` +
    `tty=${spec.tty} ses=${who.ses} comm=${encodeValue(comm)} exe=${encodeValue(spec.exe)} subj=unconfined key=${encodeValue(spec.key)}` +
    enrichedCredentials('execve', who.auidName, spec.runAs);
  return [
    syscall,
    ...execveLines(host, id, spec.argv),
    `${head(host, 'CWD', id)} cwd=${encodeValue(spec.cwd)}`,
    pathRecord(host, id, 0, spec.exe, 1835000 + (spec.exe.length % 97)),
    pathRecord(host, id, 1, '/lib64/ld-linux-x86-64.so.2', 1837111),
    proctitle(host, id, spec.argv),
    `${head(host, 'EOE', id)} `,
  ];
}

/** The EXECVE records of an argument vector: as many as the kernel's 7,500-byte buffer needs. */
function execveLines(host: string, id: string, argv: readonly string[]): string[] {
  const fields: string[] = [`argc=${argv.length}`];
  argv.forEach((arg, i) => {
    const bytes = Buffer.from(arg, 'utf8');
    if (bytes.length <= MAX_EXECVE_AUDIT_LEN) {
      fields.push(`a${i}=${encodeValue(arg)}`);
      return;
    }
    // As the kernel does: the length goes with the first chunk, each chunk fills most of a record.
    const encoded = hex(bytes);
    for (let at = 0, part = 0; at < encoded.length; at += CHUNK_HEX_CHARS, part++) {
      const chunk = `a${i}[${part}]=${encoded.slice(at, at + CHUNK_HEX_CHARS)}`;
      fields.push(part === 0 ? `a${i}_len=${encoded.length} ${chunk}` : chunk);
    }
  });
  const lines: string[] = [];
  let body = '';
  for (const field of fields) {
    if (body !== '' && body.length + field.length > MAX_EXECVE_AUDIT_LEN) {
      lines.push(body);
      body = '';
    }
    body += ` ${field}`;
  }
  if (body !== '') lines.push(body);
  return lines.map((fieldsText) => `${head(host, 'EXECVE', id)}${fieldsText}`);
}

/** One user-space record (no EOE follows these). */
export function userRecordLine(spec: UserRecordSpec): string {
  const who = ids(spec.login, spec.ses);
  return (
    `${head(spec.host, spec.type, spec.id)} pid=${spec.pid} uid=${spec.uid.uid} auid=${who.auid} ses=${who.ses} subj=unconfined ` +
    `msg='${spec.message}'${GS}UID="${spec.uid.name}" AUID="${who.auidName}"`
  );
}

/** A PAM record from sudo: `op=PAM:... acct="root" exe="/usr/bin/sudo" ... res=success`. */
export function pamMessage(op: string, grantors: string, account: string, tty: string): string {
  return `op=PAM:${op} grantors=${grantors} acct=${encodeValue(account)} exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/${tty} res=success`;
}

/** sudo's USER_CMD message: cwd and the command line (arguments joined by spaces). */
export function userCmdMessage(cwd: string, argv: readonly string[], tty: string): string {
  return `cwd=${encodeValue(cwd)} cmd=${encodeValue(argv.join(' '))} exe="/usr/bin/sudo" terminal=${tty} res=success`;
}

/** SYSCALL (openat), CWD, PATH, PROCTITLE, EOE: a watched file opened by some process. */
export function fileEventLines(spec: FileEventSpec): string[] {
  const { host, id } = spec;
  const who = ids(spec.login, spec.ses);
  const syscall =
    `${head(host, 'SYSCALL', id)} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd6a1e2b30 a2=80000 ` +
    `a3=0 items=1 ppid=${spec.ppid} pid=${spec.pid} auid=${who.auid} ${credentials(spec.runAs)} tty=${spec.tty} ` +
    `ses=${who.ses} comm=${encodeValue(spec.comm)} exe=${encodeValue(spec.exe)} subj=unconfined key=${encodeValue(spec.key)}` +
    enrichedCredentials('openat', who.auidName, spec.runAs);
  return [
    syscall,
    `${head(host, 'CWD', id)} cwd=${encodeValue(spec.cwd)}`,
    pathRecord(host, id, 0, spec.path, 2359000 + (spec.path.length % 89)),
    proctitle(host, id, spec.proctitle),
    `${head(host, 'EOE', id)} `,
  ];
}
