/**
 * The record types the auditd parser reads, told apart by comparing the line in place (no type
 * string is cut out of lines that are skipped). Kernel types an exec event is built from come first.
 */
export const KERNEL_TYPE_NAMES = ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE'] as const;
export const SYSCALL = 0;
export const EXECVE = 1;
export const CWD = 2;
export const PATH = 3;
export const PROCTITLE = 4;
export const USER_CMD = 5;
export const EOE = 6;
export const OTHER = 7;

/**
 * The record type at `bytes[start, end)`: an index into KERNEL_TYPE_NAMES, USER_CMD, EOE or
 * OTHER. The length and first byte pick the one candidate, so most records are told by two
 * comparisons and a short loop.
 */
export function recordKindAt(bytes: Buffer, start: number, end: number): number {
  const first = bytes[start];
  switch (end - start) {
    case 7:
      return first === 83 /* S */ && bytesAre(bytes, start, 'SYSCALL') ? SYSCALL : OTHER;
    case 6:
      return first === 69 /* E */ && bytesAre(bytes, start, 'EXECVE') ? EXECVE : OTHER;
    case 3:
      if (first === 67 /* C */) return bytesAre(bytes, start, 'CWD') ? CWD : OTHER;
      return first === 69 /* E */ && bytesAre(bytes, start, 'EOE') ? EOE : OTHER;
    case 4:
      return first === 80 /* P */ && bytesAre(bytes, start, 'PATH') ? PATH : OTHER;
    case 9:
      return first === 80 /* P */ && bytesAre(bytes, start, 'PROCTITLE') ? PROCTITLE : OTHER;
    case 8:
      return first === 85 /* U */ && bytesAre(bytes, start, 'USER_CMD') ? USER_CMD : OTHER;
    default:
      return OTHER;
  }
}

/** True when `bytes` holds the ASCII `name` at `at`, its first byte already compared. */
function bytesAre(bytes: Buffer, at: number, name: string): boolean {
  for (let i = 1; i < name.length; i++) if (bytes[at + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** The kernel kind (SYSCALL to PROCTITLE) of a record type name, or null for any other type. */
export function kernelKind(type: string): number | null {
  const index = (KERNEL_TYPE_NAMES as readonly string[]).indexOf(type);
  return index < 0 ? null : index;
}
