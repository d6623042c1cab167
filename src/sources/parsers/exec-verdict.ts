/** Whether a SYSCALL record is an execve/execveat, decided from its `arch=` and `syscall=` alone. */
import { rawFieldAt } from './decode-field.js';

/** Syscall numbers of execve and execveat per audit arch (AUDIT_ARCH_* as logged, lower case). */
const EXEC_SYSCALLS: Record<string, readonly string[]> = {
  c000003e: ['59', '322'], // x86_64
  '40000003': ['11', '358'], // i386 (also 32-bit processes on x86_64)
  c00000b7: ['221', '281'], // aarch64
  '40000028': ['11', '387'], // arm
  c00000f3: ['221', '281'], // riscv64
  c0000015: ['11', '362'], // ppc64le
  '80000015': ['11', '362'], // ppc64
  '80000016': ['11', '354'], // s390x
};

/** Whether a SYSCALL record is an exec, is not, or cannot be told (an arch not in the table). */
export type ExecVerdict = 'exec' | 'other' | 'unknown';

/** Reads `arch=` and `syscall=` straight from the line, without parsing the other fields. */
export function execVerdict(line: string, start: number, end: number): ExecVerdict {
  const arch = rawFieldAt(line, start, end, 'arch=');
  const syscall = rawFieldAt(line, start, end, 'syscall=');
  if (arch === null || syscall === null) return 'unknown';
  return execVerdictFor(arch.toLowerCase(), syscall);
}

const ARCH_FIELD = Buffer.from('arch=');
const SYSCALL_FIELD = Buffer.from('syscall=');

/** execVerdict for an ASCII line in `bytes` whose body is `bytes[start, end)`, without decoding it. */
export function execVerdictAt(bytes: Buffer, start: number, end: number): ExecVerdict {
  const rawEnd = rawEndAt(bytes, start, end);
  const arch = rawFieldAtBytes(bytes, start, rawEnd, ARCH_FIELD);
  const syscall = rawFieldAtBytes(bytes, start, rawEnd, SYSCALL_FIELD);
  if (arch === null || syscall === null) return 'unknown';
  return execVerdictFor(arch.toLowerCase(), syscall);
}

/** rawEndOf for an ASCII line in `bytes` (a loop bounded by the line, unlike a native search). */
function rawEndAt(bytes: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (bytes[i] === 0x1d) return i;
  return end;
}

/** rawFieldAt for an ASCII line in `bytes`: the same field-start rule, the same value end. */
function rawFieldAtBytes(bytes: Buffer, start: number, end: number, name: Buffer): string | null {
  const first = name[0];
  for (let at = start; at + name.length <= end; at++) {
    if (bytes[at] !== first || (at > start && bytes[at - 1] !== 32)) continue;
    let k = 1;
    while (k < name.length && bytes[at + k] === name[k]) k++;
    if (k < name.length) continue;
    const v = at + name.length;
    let stop = v;
    while (stop < end && bytes[stop] !== 32) stop++;
    return bytes.toString('latin1', v, stop);
  }
  return null;
}

/** Verdict from an arch (hex, without 0x) and a decimal syscall number. */
export function execVerdictFor(arch: string, syscall: string): ExecVerdict {
  const table = EXEC_SYSCALLS[arch];
  if (!table) return 'unknown';
  return table.includes(syscall) ? 'exec' : 'other';
}
