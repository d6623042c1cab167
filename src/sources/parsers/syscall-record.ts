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

/** Not seen yet (fields count once: the first at a field start wins, as rawFieldAt finds it). */
const UNSEEN = -1;

/**
 * Reads a SYSCALL record whose raw fields are `bytes[start, rawEnd)` and whose ENRICHED ones (if
 * any) follow the separator at `rawEnd`, up to `end`. One walk over the space-separated words of
 * the raw part: a field starts at the range start or after a space, its value runs to the next
 * space (raw values never hold one: the kernel hex-encodes such text). Strings are made only for
 * tty, exe, key and the three names.
 */
export function readSyscallAt(bytes: Buffer, start: number, rawEnd: number, end: number, utf8: boolean): SyscallFacts {
  const facts = emptyFacts();
  let arch = UNSEEN;
  let archEnd = UNSEEN;
  let syscall = UNSEEN;
  let syscallEnd = UNSEEN;
  let seen = 0;
  for (let i = start; i < rawEnd; ) {
    const stop = wordEnd(bytes, i, rawEnd);
    switch (bytes[i]) {
      case 97 /* a */:
        if (arch === UNSEEN && bytesStartWith(bytes, i, stop, 'arch=')) {
          arch = i + 5;
          archEnd = stop;
        } else if (!(seen & AUID) && bytesStartWith(bytes, i, stop, 'auid=')) {
          seen |= AUID;
          facts.auid = intAt(bytes, i + 5, stop);
        }
        break;
      case 115 /* s */:
        if (syscall === UNSEEN && bytesStartWith(bytes, i, stop, 'syscall=')) {
          syscall = i + 8;
          syscallEnd = stop;
        } else if (!(seen & SUCCESS) && bytesStartWith(bytes, i, stop, 'success=')) {
          seen |= SUCCESS;
          facts.success = successOf(bytes, i + 8, stop);
        } else if (!(seen & SES) && bytesStartWith(bytes, i, stop, 'ses=')) {
          seen |= SES;
          facts.ses = intAt(bytes, i + 4, stop);
        }
        break;
      case 112 /* p */:
        if (!(seen & PID) && bytesStartWith(bytes, i, stop, 'pid=')) {
          seen |= PID;
          facts.pid = intAt(bytes, i + 4, stop);
        } else if (!(seen & PPID) && bytesStartWith(bytes, i, stop, 'ppid=')) {
          seen |= PPID;
          facts.ppid = intAt(bytes, i + 5, stop);
        }
        break;
      case 117 /* u */:
        if (!(seen & UID) && bytesStartWith(bytes, i, stop, 'uid=')) {
          seen |= UID;
          facts.uid = intAt(bytes, i + 4, stop);
        }
        break;
      case 101 /* e */:
        if (!(seen & EUID) && bytesStartWith(bytes, i, stop, 'euid=')) {
          seen |= EUID;
          facts.euid = intAt(bytes, i + 5, stop);
        } else if (!(seen & EXE) && bytesStartWith(bytes, i, stop, 'exe=')) {
          seen |= EXE;
          facts.exe = decodeFieldAt(bytes, i + 4, stop, utf8) ?? null;
        }
        break;
      case 116 /* t */:
        if (!(seen & TTY) && bytesStartWith(bytes, i, stop, 'tty=')) {
          seen |= TTY;
          facts.tty = isNoValueAt(bytes, i + 4, stop) ? null : textAt(bytes, i + 4, stop, utf8);
        }
        break;
      case 107 /* k */:
        if (!(seen & KEY) && bytesStartWith(bytes, i, stop, 'key=')) {
          seen |= KEY;
          facts.key = decodeRuleKeyText(decodeFieldAt(bytes, i + 4, stop, utf8));
        }
        break;
    }
    i = stop + 1;
  }
  facts.verdict = arch === UNSEEN || syscall === UNSEEN || arch === archEnd || syscall === syscallEnd ? 'unknown' : execVerdictOf(bytes, arch, archEnd, syscall, syscallEnd);
  if (rawEnd < end) readEnrichedNames(bytes, rawEnd + 1, end, utf8, facts);
  return facts;
}

/** Bits of the fields seen so far. */
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

function successOf(bytes: Buffer, from: number, to: number): boolean | undefined {
  if (to - from === 3 && bytesStartWith(bytes, from, to, 'yes')) return true;
  if (to - from === 2 && bytesStartWith(bytes, from, to, 'no')) return false;
  return undefined;
}

/** AUID=, UID= and EUID= of the ENRICHED part `bytes[start, end)`; stops once all three are found. */
function readEnrichedNames(bytes: Buffer, start: number, end: number, utf8: boolean, facts: SyscallFacts): void {
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
