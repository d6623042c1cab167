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

/** EXEC_SYSCALLS with the arch as a number (the value read as hex) and the syscalls as numbers. */
const EXEC_BY_ARCH = new Map<number, readonly number[]>(Object.entries(EXEC_SYSCALLS).map(([arch, nrs]) => [parseInt(arch, 16), nrs.map(Number)]));

/** Markers of execVerdictAt's scan: a field not seen, or seen with a value no table entry has. */
const NOT_SEEN = -2;
const NO_ENTRY = -1;

/**
 * execVerdict for an ASCII line in `bytes` whose body is `bytes[start, end)`, without decoding it:
 * one pass over the field starts of the raw part (they come first: it stops at both or at the
 * ENRICHED separator), the values read as numbers, no string made.
 */
export function execVerdictAt(bytes: Buffer, start: number, end: number): ExecVerdict {
  // The kernel writes `arch=` and `syscall=` as the first two fields: then they are the first of
  // each (the arch value holds no space), read without the field walk.
  if (bytes[start] === 97 /* a */ && startsWith(bytes, start, end, 'arch=')) {
    const archEnd = valueEnd(bytes, start + 5, end);
    const next = archEnd + 1;
    if (archEnd < end && bytes[archEnd] === 32 && bytes[next] === 115 /* s */ && startsWith(bytes, next, end, 'syscall=')) {
      return verdictOf(hexValueAt(bytes, start + 5, end), decimalValueAt(bytes, next + 8, end));
    }
  }
  let arch = NOT_SEEN;
  let syscall = NOT_SEEN;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 0x1d) break;
    // The same field-start rule as rawFieldAt: the range start, or after a space.
    if (i > start && bytes[i - 1] !== 32) continue;
    if (c === 97 /* a */ && arch === NOT_SEEN && startsWith(bytes, i, end, 'arch=')) arch = hexValueAt(bytes, i + 5, end);
    else if (c === 115 /* s */ && syscall === NOT_SEEN && startsWith(bytes, i, end, 'syscall=')) syscall = decimalValueAt(bytes, i + 8, end);
    else continue;
    if (arch !== NOT_SEEN && syscall !== NOT_SEEN) break;
  }
  if (arch === NOT_SEEN || syscall === NOT_SEEN) return 'unknown';
  return verdictOf(arch, syscall);
}

/** The verdict of an arch and a syscall value as execVerdictAt reads them (NO_ENTRY: not in any table). */
function verdictOf(arch: number, syscall: number): ExecVerdict {
  const table = EXEC_BY_ARCH.get(arch);
  if (!table) return 'unknown';
  return syscall !== NO_ENTRY && table.includes(syscall) ? 'exec' : 'other';
}

function startsWith(bytes: Buffer, at: number, end: number, name: string): boolean {
  if (end - at < name.length) return false;
  for (let k = 1; k < name.length; k++) if (bytes[at + k] !== name.charCodeAt(k)) return false;
  return true;
}

/** Where the raw value at `from` ends: a space, the ENRICHED separator or `end`. */
function valueEnd(bytes: Buffer, from: number, end: number): number {
  let stop = from;
  while (stop < end && bytes[stop] !== 32 && bytes[stop] !== 0x1d) stop++;
  return stop;
}

/** An arch value as a number when it is exactly eight hex digits (as the table's keys), else NO_ENTRY. */
function hexValueAt(bytes: Buffer, from: number, end: number): number {
  const stop = valueEnd(bytes, from, end);
  if (stop - from !== 8) return NO_ENTRY;
  let value = 0;
  for (let i = from; i < stop; i++) {
    const c = bytes[i]!;
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (digit < 0) return NO_ENTRY;
    value = value * 16 + digit;
  }
  return value;
}

/** A syscall value as a number when it is written as the table writes numbers (no leading zero), else NO_ENTRY. */
function decimalValueAt(bytes: Buffer, from: number, end: number): number {
  const stop = valueEnd(bytes, from, end);
  if (stop === from || stop - from > 6 || (bytes[from] === 48 && stop - from > 1)) return NO_ENTRY;
  let value = 0;
  for (let i = from; i < stop; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return NO_ENTRY;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The verdict of the arch value `bytes[archFrom, archTo)` and the syscall value
 * `bytes[syscallFrom, syscallTo)` of an ASCII line, read as execVerdictFor reads them as text.
 */
export function execVerdictOf(bytes: Buffer, archFrom: number, archTo: number, syscallFrom: number, syscallTo: number): ExecVerdict {
  const table = EXEC_BY_ARCH.get(hexValueAt(bytes, archFrom, archTo));
  if (!table) return 'unknown';
  const syscall = decimalValueAt(bytes, syscallFrom, syscallTo);
  return syscall !== NO_ENTRY && table.includes(syscall) ? 'exec' : 'other';
}

/** Verdict from an arch (hex, without 0x) and a decimal syscall number. */
export function execVerdictFor(arch: string, syscall: string): ExecVerdict {
  const table = EXEC_SYSCALLS[arch];
  if (!table) return 'unknown';
  return table.includes(syscall) ? 'exec' : 'other';
}
