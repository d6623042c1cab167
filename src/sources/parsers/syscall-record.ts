/** The fields of a SYSCALL record a command is built from, read from the line's bytes in one pass. */
import { decodeRuleKeyText } from './decode-field.js';
import { execVerdictOf, type ExecVerdict } from './exec-verdict.js';
import { bytesStartWith, decodeFieldAt, intAt, isNoValueAt, textAt, unquotedAt, wordEnd } from './field-bytes.js';

/**
 * What an exec's SYSCALL record says, already decoded: numbers as numbers (null when absent or not
 * a plain decimal), the ENRICHED names (AUID, UID, EUID) without their quotes. An object of one
 * fixed shape, made once per exec.
 */
export interface SyscallFacts {
  verdict: ExecVerdict;
  /** `success=yes` / `no`; undefined for anything else. */
  success: boolean | undefined;
  pid: number | null;
  ppid: number | null;
  auid: number | null;
  uid: number | null;
  euid: number | null;
  ses: number | null;
  /** The raw `tty=` value; null when absent or a "no value" marker. */
  tty: string | null;
  /** The decoded `exe=`; null when absent or bad. */
  exe: string | null;
  /** The decoded rule key(s), joined with commas; null when none. */
  key: string | null;
  AUID: string | undefined;
  UID: string | undefined;
  EUID: string | undefined;
}

/** A SYSCALL record without any field (an event whose SYSCALL never came). */
export const NO_SYSCALL: Readonly<SyscallFacts> = Object.freeze(emptyFacts());

function emptyFacts(): SyscallFacts {
  return {
    verdict: 'unknown',
    success: undefined,
    pid: null,
    ppid: null,
    auid: null,
    uid: null,
    euid: null,
    ses: null,
    tty: null,
    exe: null,
    key: null,
    AUID: undefined,
    UID: undefined,
    EUID: undefined,
  };
}

/** The fields readSyscallAt keeps, one bit each (for the fields seen so far); SKIP for any other. */
const SKIP = 0;
const AUID = 1;
const SUCCESS = 2;
const SES = 4;
const PID = 8;
const PPID = 16;
const UID = 32;
const EUID = 64;
const EXE = 128;
const TTY = 256;
const KEY = 512;
const ARCH_FIELD = 1024;
const SYSCALL_FIELD = 2048;

/** Not seen yet (fields count once: the first at a field start wins, as rawFieldAt finds it). */
const UNSEEN = -1;

/**
 * The raw fields of a SYSCALL record in the order the kernel writes them (audit_log_exit), and
 * what readSyscallAt keeps of each (SKIP: nothing). No word starting with a skipped name starts
 * with a kept one (`exit=` is not `exe=`), so a word that matches its expected name is handled
 * exactly as the general walk handles it.
 */
const KERNEL_ORDER: ReadonlyArray<readonly [string, number]> = [
  ['arch=', ARCH_FIELD],
  ['syscall=', SYSCALL_FIELD],
  ['success=', SUCCESS],
  ['exit=', SKIP],
  ['a0=', SKIP],
  ['a1=', SKIP],
  ['a2=', SKIP],
  ['a3=', SKIP],
  ['items=', SKIP],
  ['ppid=', PPID],
  ['pid=', PID],
  ['auid=', AUID],
  ['uid=', UID],
  ['gid=', SKIP],
  ['euid=', EUID],
  ['suid=', SKIP],
  ['fsuid=', SKIP],
  ['egid=', SKIP],
  ['sgid=', SKIP],
  ['fsgid=', SKIP],
  ['tty=', TTY],
  ['ses=', SES],
  ['comm=', SKIP],
  ['exe=', EXE],
  ['subj=', SKIP],
  ['key=', KEY],
];
const ORDER_NAMES: readonly Uint8Array[] = KERNEL_ORDER.map(([name]) => Buffer.from(name, 'latin1'));
const ORDER_FIELDS = Int32Array.from(KERNEL_ORDER, ([, field]) => field);

/** The SYSCALL record being read: its facts, and which fields were seen (the first one counts). */
interface SyscallWalk {
  facts: SyscallFacts;
  seen: number;
  arch: number;
  archEnd: number;
  syscall: number;
  syscallEnd: number;
}

/** The walk of the record being read: one for all, as reading never pauses midway. */
const current: SyscallWalk = { facts: NO_SYSCALL, seen: 0, arch: UNSEEN, archEnd: UNSEEN, syscall: UNSEEN, syscallEnd: UNSEEN };

/** Readies `current` for a new record whose facts go into `facts`. */
function startWalk(facts: SyscallFacts): SyscallWalk {
  current.facts = facts;
  current.seen = 0;
  current.arch = UNSEEN;
  current.archEnd = UNSEEN;
  current.syscall = UNSEEN;
  current.syscallEnd = UNSEEN;
  return current;
}

/**
 * Reads a SYSCALL record whose raw fields are `bytes[start, rawEnd)` and whose ENRICHED ones (if
 * any) follow the separator at `rawEnd`, up to `end`. A field starts at the range start or after
 * a space, its value runs to the next space (raw values never hold one: the kernel hex-encodes
 * such text), and the first of a name counts. The words are first matched against the kernel's
 * own order, one comparison each; from the first word that differs (a field missing, added or
 * moved) every word is looked at as it comes, so the result is the same in either case. Strings
 * are made only for tty, exe, key and the three names.
 */
export function readSyscallAt(bytes: Buffer, start: number, rawEnd: number, end: number, utf8: boolean): SyscallFacts {
  const walk = startWalk(emptyFacts());
  const from = readInKernelOrder(bytes, start, rawEnd, utf8, walk);
  if (from < rawEnd) readAnyOrder(bytes, from, rawEnd, utf8, walk);
  const facts = walk.facts;
  const { arch, archEnd, syscall, syscallEnd } = walk;
  facts.verdict = arch === UNSEEN || syscall === UNSEEN || arch === archEnd || syscall === syscallEnd ? 'unknown' : execVerdictOf(bytes, arch, archEnd, syscall, syscallEnd);
  if (rawEnd < end) readEnrichedNames(bytes, rawEnd + 1, end, utf8, facts);
  return facts;
}

/**
 * The fast path: reads the words of `bytes[start, rawEnd)` while each is the field KERNEL_ORDER
 * expects next. Returns where the first other word starts (rawEnd or past it when none).
 */
function readInKernelOrder(bytes: Buffer, start: number, rawEnd: number, utf8: boolean, walk: SyscallWalk): number {
  let i = start;
  for (let k = 0; k < ORDER_NAMES.length && i < rawEnd; k++) {
    const name = ORDER_NAMES[k]!;
    const v = i + name.length;
    if (v > rawEnd || !nameAt(bytes, i, name)) return i;
    const stop = wordEnd(bytes, v, rawEnd);
    keep(ORDER_FIELDS[k]!, bytes, v, stop, utf8, walk);
    i = stop + 1;
  }
  return i;
}

/** True when the bytes at `at` are `name` (which the caller made sure fits). */
function nameAt(bytes: Buffer, at: number, name: Uint8Array): boolean {
  for (let k = 0; k < name.length; k++) if (bytes[at + k] !== name[k]) return false;
  return true;
}

/**
 * The general path: every word of `bytes[start, rawEnd)` (`start` a word start), told apart by
 * its first byte, the first of each name kept.
 */
function readAnyOrder(bytes: Buffer, start: number, rawEnd: number, utf8: boolean, walk: SyscallWalk): void {
  for (let i = start; i < rawEnd; ) {
    const stop = wordEnd(bytes, i, rawEnd);
    const field = fieldOfWord(bytes, i, stop);
    if (field !== SKIP) keep(field, bytes, i + nameLength(field), stop, utf8, walk);
    i = stop + 1;
  }
}

/** The field the word `bytes[i, stop)` gives a value of, SKIP when it is none readSyscallAt keeps. */
function fieldOfWord(bytes: Buffer, i: number, stop: number): number {
  switch (bytes[i]) {
    case 97 /* a */:
      if (bytesStartWith(bytes, i, stop, 'arch=')) return ARCH_FIELD;
      if (bytesStartWith(bytes, i, stop, 'auid=')) return AUID;
      return SKIP;
    case 115 /* s */:
      if (bytesStartWith(bytes, i, stop, 'syscall=')) return SYSCALL_FIELD;
      if (bytesStartWith(bytes, i, stop, 'success=')) return SUCCESS;
      if (bytesStartWith(bytes, i, stop, 'ses=')) return SES;
      return SKIP;
    case 112 /* p */:
      if (bytesStartWith(bytes, i, stop, 'pid=')) return PID;
      if (bytesStartWith(bytes, i, stop, 'ppid=')) return PPID;
      return SKIP;
    case 117 /* u */:
      return bytesStartWith(bytes, i, stop, 'uid=') ? UID : SKIP;
    case 101 /* e */:
      if (bytesStartWith(bytes, i, stop, 'euid=')) return EUID;
      if (bytesStartWith(bytes, i, stop, 'exe=')) return EXE;
      return SKIP;
    case 116 /* t */:
      return bytesStartWith(bytes, i, stop, 'tty=') ? TTY : SKIP;
    case 107 /* k */:
      return bytesStartWith(bytes, i, stop, 'key=') ? KEY : SKIP;
    default:
      return SKIP;
  }
}

/** Length of a kept field's `name=`. */
function nameLength(field: number): number {
  switch (field) {
    case SYSCALL_FIELD:
    case SUCCESS:
      return 8;
    case ARCH_FIELD:
    case PPID:
    case AUID:
    case EUID:
      return 5;
    default:
      return 4; // pid= uid= tty= ses= exe= key=
  }
}

/** Keeps the value `bytes[v, stop)` of `field` unless one was already seen. */
function keep(field: number, bytes: Buffer, v: number, stop: number, utf8: boolean, walk: SyscallWalk): void {
  if (field === SKIP || walk.seen & field) return;
  walk.seen |= field;
  const facts = walk.facts;
  switch (field) {
    case ARCH_FIELD:
      walk.arch = v;
      walk.archEnd = stop;
      break;
    case SYSCALL_FIELD:
      walk.syscall = v;
      walk.syscallEnd = stop;
      break;
    case SUCCESS:
      facts.success = successOf(bytes, v, stop);
      break;
    case PPID:
      facts.ppid = intAt(bytes, v, stop);
      break;
    case PID:
      facts.pid = intAt(bytes, v, stop);
      break;
    case AUID:
      facts.auid = intAt(bytes, v, stop);
      break;
    case UID:
      facts.uid = intAt(bytes, v, stop);
      break;
    case EUID:
      facts.euid = intAt(bytes, v, stop);
      break;
    case TTY:
      facts.tty = isNoValueAt(bytes, v, stop) ? null : textAt(bytes, v, stop, utf8);
      break;
    case SES:
      facts.ses = intAt(bytes, v, stop);
      break;
    case EXE:
      facts.exe = decodeFieldAt(bytes, v, stop, utf8) ?? null;
      break;
    case KEY:
      facts.key = decodeRuleKeyText(decodeFieldAt(bytes, v, stop, utf8));
      break;
  }
}

function successOf(bytes: Buffer, from: number, to: number): boolean | undefined {
  if (to - from === 3 && bytesStartWith(bytes, from, to, 'yes')) return true;
  if (to - from === 2 && bytesStartWith(bytes, from, to, 'no')) return false;
  return undefined;
}

/** The ENRICHED fields auditd writes first, in its order; the three names are all readSyscallAt keeps. */
const ARCH_NAME = Buffer.from('ARCH=', 'latin1');
const SYSCALL_NAME = Buffer.from('SYSCALL=', 'latin1');
const AUID_NAME = Buffer.from('AUID=', 'latin1');
const UID_NAME = Buffer.from('UID=', 'latin1');
const GID_NAME = Buffer.from('GID=', 'latin1');
const EUID_NAME = Buffer.from('EUID=', 'latin1');

/**
 * AUID=, UID= and EUID= of the ENRICHED part `bytes[start, end)`; stops once all three are found.
 * auditd writes `ARCH= SYSCALL= AUID= UID= GID= EUID=` first: words in that order are taken one
 * comparison each, and from the first that differs each word is looked at as it comes. None of
 * ARCH=, SYSCALL=, GID= starts a kept name, so the names are the first of each either way.
 */
function readEnrichedNames(bytes: Buffer, start: number, end: number, utf8: boolean, facts: SyscallFacts): void {
  let i = start;
  let stop = expectWord(bytes, i, end, ARCH_NAME);
  if (stop >= 0) stop = expectWord(bytes, (i = stop + 1), end, SYSCALL_NAME);
  if (stop >= 0) stop = expectWord(bytes, (i = stop + 1), end, AUID_NAME);
  if (stop >= 0) {
    facts.AUID = unquotedAt(bytes, i + AUID_NAME.length, stop, utf8);
    stop = expectWord(bytes, (i = stop + 1), end, UID_NAME);
  }
  if (stop >= 0) {
    facts.UID = unquotedAt(bytes, i + UID_NAME.length, stop, utf8);
    stop = expectWord(bytes, (i = stop + 1), end, GID_NAME);
  }
  if (stop >= 0) stop = expectWord(bytes, (i = stop + 1), end, EUID_NAME);
  if (stop >= 0) {
    facts.EUID = unquotedAt(bytes, i + EUID_NAME.length, stop, utf8);
    return;
  }
  readEnrichedNamesAnyOrder(bytes, i, end, utf8, facts);
}

/** The end of the word at `i` when it starts with `name`, else -1 (also when no word is left). */
function expectWord(bytes: Buffer, i: number, end: number, name: Uint8Array): number {
  return i + name.length <= end && nameAt(bytes, i, name) ? wordEnd(bytes, i + name.length, end) : -1;
}

/** readEnrichedNames from the word at `start` on, each word told apart by its first byte. */
function readEnrichedNamesAnyOrder(bytes: Buffer, start: number, end: number, utf8: boolean, facts: SyscallFacts): void {
  if (facts.AUID !== undefined && facts.UID !== undefined && facts.EUID !== undefined) return;
  for (let i = start; i < end; ) {
    const stop = wordEnd(bytes, i, end);
    const first = bytes[i];
    if (first === 65 /* A */ && facts.AUID === undefined && bytesStartWith(bytes, i, stop, 'AUID=')) {
      facts.AUID = unquotedAt(bytes, i + 5, stop, utf8);
    } else if (first === 85 /* U */ && facts.UID === undefined && bytesStartWith(bytes, i, stop, 'UID=')) {
      facts.UID = unquotedAt(bytes, i + 4, stop, utf8);
    } else if (first === 69 /* E */ && facts.EUID === undefined && bytesStartWith(bytes, i, stop, 'EUID=')) {
      facts.EUID = unquotedAt(bytes, i + 5, stop, utf8);
    }
    if (facts.AUID !== undefined && facts.UID !== undefined && facts.EUID !== undefined) return;
    i = stop + 1;
  }
}
