/**
 * Writes exec events as the kernel and auditd would, for tests: the kernel's quoting rule
 * (quoted only when every byte is 0x21..0x7E and none is `"`, else upper-case hex), long
 * arguments split into `aN[i]` hex chunks over several EXECVE records, ENRICHED fields after 0x1D.
 */
export interface ExecSpec {
  node?: string;
  /** `SECONDS.MILLIS:SERIAL` */
  id: string;
  argv: Uint8Array[];
  cwd: Uint8Array;
  auid: number;
  uid: number;
  euid: number;
  pid: number;
  ppid: number;
  ses?: number;
  exe?: string;
  /** ENRICHED names; when present the lines get the 0x1D part. */
  names?: { auid: string; uid: string; euid: string };
  /** aarch64 instead of x86_64. */
  arm?: boolean;
  /** Hex characters per chunk for split arguments (even). Default 7500. */
  chunkChars?: number;
  /** Arguments longer than this many bytes are split. Default 7500. */
  splitAbove?: number;
  /** Leave out the EOE record. */
  noEoe?: boolean;
}

export function encodeValue(bytes: Uint8Array): string {
  let quotable = true;
  for (const b of bytes) {
    if (b < 0x21 || b > 0x7e || b === 0x22) {
      quotable = false;
      break;
    }
  }
  return quotable ? `"${Buffer.from(bytes).toString('latin1')}"` : Buffer.from(bytes).toString('hex').toUpperCase();
}

const SEP = '\x1d';

export function execRecords(spec: ExecSpec): string[] {
  const prefix = `${spec.node ? `node=${spec.node} ` : ''}`;
  const head = (type: string) => `${prefix}type=${type} msg=audit(${spec.id}):`;
  const ses = spec.ses ?? 3;
  const exe = spec.exe ?? '/usr/bin/true';
  const arch = spec.arm ? 'c00000b7' : 'c000003e';
  const nr = spec.arm ? 221 : 59;
  let syscall =
    `${head('SYSCALL')} arch=${arch} syscall=${nr} success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ` +
    `ppid=${spec.ppid} pid=${spec.pid} auid=${spec.auid} uid=${spec.uid} gid=0 euid=${spec.euid} suid=0 fsuid=0 ` +
    `egid=0 sgid=0 fsgid=0 tty=pts0 ses=${ses} comm="x" exe=${encodeValue(Buffer.from(exe))} key="exec"`;
  if (spec.names) {
    syscall += `${SEP}ARCH=${spec.arm ? 'aarch64' : 'x86_64'} SYSCALL=execve AUID="${spec.names.auid}" UID="${spec.names.uid}" GID="root" EUID="${spec.names.euid}"`;
  }
  const lines = [syscall, ...execveLines(spec, head)];
  lines.push(`${head('CWD')} cwd=${encodeValue(spec.cwd)}`);
  lines.push(`${head('PATH')} item=0 name=${encodeValue(Buffer.from(exe))} inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL${spec.names ? `${SEP}OUID="root" OGID="root"` : ''}`);
  const title = Buffer.concat(spec.argv.map((a, i) => Buffer.concat([i ? Buffer.from([0]) : Buffer.alloc(0), Buffer.from(a)])));
  lines.push(`${head('PROCTITLE')} proctitle=${encodeValue(title.subarray(0, 128))}`);
  if (!spec.noEoe) lines.push(`${head('EOE')}`);
  return lines;
}

function execveLines(spec: ExecSpec, head: (type: string) => string): string[] {
  const chunkChars = spec.chunkChars ?? 7500;
  const splitAbove = spec.splitAbove ?? 7500;
  const fields: string[] = [`argc=${spec.argv.length}`];
  spec.argv.forEach((arg, i) => {
    if (arg.length <= splitAbove) {
      fields.push(`a${i}=${encodeValue(arg)}`);
      return;
    }
    const hex = Buffer.from(arg).toString('hex').toUpperCase();
    fields.push(`a${i}_len=${hex.length}`);
    for (let c = 0, part = 0; c < hex.length; c += chunkChars, part++) {
      fields.push(`a${i}[${part}]=${hex.slice(c, c + chunkChars)}`);
    }
  });
  // Records hold about 7500 bytes of fields, as the kernel's buffer does.
  const lines: string[] = [];
  let current = '';
  for (const field of fields) {
    if (current !== '' && current.length + field.length > 7500) {
      lines.push(current);
      current = '';
    }
    current += (lines.length > 0 && current === '' ? '  ' : current === '' ? ' ' : ' ') + field;
  }
  if (current !== '') lines.push(current);
  return lines.map((body) => `${head('EXECVE')}${body}`);
}
