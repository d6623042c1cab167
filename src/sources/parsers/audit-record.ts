/**
 * Low-level Linux audit record parsing shared by the auditd, go-audit and laurel parsers.
 *
 * Everything here works on index ranges of the original line (indexOf/slice, no per-field regular
 * expressions) because the auditd parser runs over logs of hundreds of megabytes. Nothing here
 * throws on hostile input: bad values come back as `undefined` (bad hex) or `null` (absent).
 */
import type { CommandEvent } from '../command-event.js';
import { commandLine } from '../command-event.js';
import type { MalformedReason } from '../parser.js';

/** auditd `log_format=ENRICHED` puts this byte between the raw fields and the translated ones. */
export const ENRICHED_SEPARATOR = '\x1d';

/** The auid/ses value that means "never set" (daemons, boot). */
export const UNSET_ID = 4294967295;

/** Longest record line accepted; the kernel never writes records anywhere near this long. */
export const MAX_RECORD_CHARS = 1024 * 1024;

/** Most argument bytes kept for one event; a forged log could otherwise grow one event forever. */
export const MAX_EVENT_ARG_BYTES = 16 * 1024 * 1024;

/** Where the parts of one `[node=N ]type=T msg=audit(ID): body` line are. */
export interface RecordHeader {
  node: string | null;
  type: string;
  /** `SECONDS.MILLIS:SERIAL`, the event id shared by every record of one event. */
  id: string;
  /** Index of the first body character (after `): `). */
  bodyStart: number;
}

/** Reasons a line is not an audit record at all. */
export type HeaderFailure = Extract<MalformedReason, 'unrecognized' | 'binary' | 'truncated'>;

/**
 * Where the parts of a record line are, as indexes into the line: filled in place by
 * scanRecordHeader so that the parser's hot path allocates nothing for records it skips.
 */
export interface HeaderScan {
  /** Start of the `node=` value; -1 when the line has no `node=` prefix. */
  nodeStart: number;
  nodeEnd: number;
  typeStart: number;
  typeEnd: number;
  /** The event id is `line[idStart, idEnd)`; its serial starts at `serialStart` (after the colon). */
  idStart: number;
  idEnd: number;
  serialStart: number;
  /** Index of the first body character (after `): `). */
  bodyStart: number;
}

/** A HeaderScan to reuse for every line. */
export function newHeaderScan(): HeaderScan {
  return { nodeStart: -1, nodeEnd: -1, typeStart: 0, typeEnd: 0, idStart: 0, idEnd: 0, serialStart: 0, bodyStart: 0 };
}

/**
 * Finds the header parts of `[node=N ]type=T msg=audit(ID): body` and stores their positions in
 * `into`. Returns null when the line is a record, otherwise why it is not: no `type=` (`binary`
 * when it holds control bytes), no `msg=audit(...)` or an id without a colon (`unrecognized`),
 * or a line cut short (`truncated`).
 */
export function scanRecordHeader(line: string, into: HeaderScan): HeaderFailure | null {
  let pos = 0;
  into.nodeStart = -1;
  into.nodeEnd = -1;
  if (line.startsWith('node=')) {
    const space = line.indexOf(' ', 5);
    if (space < 0) return 'truncated';
    into.nodeStart = 5;
    into.nodeEnd = space;
    pos = space + 1;
  }
  if (!line.startsWith('type=', pos)) return containsBinary(line) ? 'binary' : 'unrecognized';
  const typeEnd = line.indexOf(' ', pos + 5);
  if (typeEnd < 0) return 'truncated';
  if (!line.startsWith('msg=audit(', typeEnd + 1)) return 'unrecognized';
  const idStart = typeEnd + 11;
  const idEnd = line.indexOf(')', idStart);
  if (idEnd < 0) return 'truncated';
  const colon = line.indexOf(':', idStart);
  if (colon < 0 || colon >= idEnd) return 'unrecognized';
  let bodyStart = idEnd + 1;
  if (line.charCodeAt(bodyStart) === 58 /* : */) bodyStart++;
  while (line.charCodeAt(bodyStart) === 32) bodyStart++;
  setPositions(into, pos + 5, typeEnd, idStart, idEnd, colon + 1, bodyStart);
  return null;
}

/** Stores the positions of the type, the event id (and its serial) and the body. */
function setPositions(into: HeaderScan, typeStart: number, typeEnd: number, idStart: number, idEnd: number, serialStart: number, bodyStart: number): void {
  into.typeStart = typeStart;
  into.typeEnd = typeEnd;
  into.idStart = idStart;
  into.idEnd = idEnd;
  into.serialStart = serialStart;
  into.bodyStart = bodyStart;
}

const NODE_PREFIX = Buffer.from('node=');
const TYPE_PREFIX = Buffer.from('type=');
const MSG_PREFIX = Buffer.from('msg=audit(');

/** True when `bytes[at, end)` starts with `prefix`. */
function bytesStartWith(bytes: Buffer, at: number, end: number, prefix: Buffer): boolean {
  if (at < 0 || end - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Index of the first space in `bytes[from, end)`, or -1. */
function spaceIn(bytes: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (bytes[i] === 32) return i;
  return -1;
}

/**
 * scanRecordHeader on the ASCII line `bytes[start, end)`, positions absolute in `bytes`: lets a
 * parser look at a record's type and event without making a string of the line. Returns false
 * where scanRecordHeader would return a failure (the caller then decodes the line to say which).
 */
export function scanRecordHeaderBytes(bytes: Buffer, start: number, end: number, into: HeaderScan): boolean {
  let pos = start;
  into.nodeStart = -1;
  into.nodeEnd = -1;
  if (bytesStartWith(bytes, pos, end, NODE_PREFIX)) {
    const space = spaceIn(bytes, start + 5, end);
    if (space < 0) return false;
    into.nodeStart = start + 5;
    into.nodeEnd = space;
    pos = space + 1;
  }
  if (!bytesStartWith(bytes, pos, end, TYPE_PREFIX)) return false;
  const typeEnd = spaceIn(bytes, pos + 5, end);
  if (typeEnd < 0 || !bytesStartWith(bytes, typeEnd + 1, end, MSG_PREFIX)) return false;
  const idStart = typeEnd + 11;
  let colon = -1;
  let idEnd = idStart;
  for (; idEnd < end && bytes[idEnd] !== 41 /* ) */; idEnd++) if (colon < 0 && bytes[idEnd] === 58) colon = idEnd;
  if (idEnd >= end || colon < 0) return false;
  let bodyStart = idEnd + 1;
  if (bodyStart < end && bytes[bodyStart] === 58 /* : */) bodyStart++;
  while (bodyStart < end && bytes[bodyStart] === 32) bodyStart++;
  setPositions(into, pos + 5, typeEnd, idStart, idEnd, colon + 1, bodyStart);
  return true;
}

/**
 * Splits the record header. Returns a reason instead when the line is not a record (see
 * scanRecordHeader).
 */
export function parseRecordHeader(line: string): RecordHeader | HeaderFailure {
  const scan = newHeaderScan();
  const failure = scanRecordHeader(line, scan);
  if (failure !== null) return failure;
  return {
    node: scan.nodeStart < 0 ? null : line.slice(scan.nodeStart, scan.nodeEnd),
    type: line.slice(scan.typeStart, scan.typeEnd),
    id: line.slice(scan.idStart, scan.idEnd),
    bodyStart: scan.bodyStart,
  };
}

/**
 * End of the raw fields: the ENRICHED separator, or the line length when there is none. Kept out
 * of parseRecordHeader so lines of skipped record types are never scanned to their end.
 */
export function rawEndOf(line: string, bodyStart: number): number {
  const sep = line.indexOf(ENRICHED_SEPARATOR, bodyStart);
  return sep < 0 ? line.length : sep;
}

/** True when the text holds C0 control bytes other than tab, or replacement characters. */
export function containsBinary(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 0x1d) || c === 0xfffd) return true;
  }
  return false;
}

/** Seconds, milliseconds and serial of an event id; null when the id is not `N.NNN:N`. */
export function parseAuditId(id: string): { time: Date; serial: string } | null {
  const dot = id.indexOf('.');
  const colon = id.indexOf(':');
  if (dot <= 0 || colon <= dot + 1 || colon === id.length - 1) return null;
  if (!allDigits(id, 0, dot) || !allDigits(id, dot + 1, colon) || !allDigits(id, colon + 1, id.length)) {
    return null;
  }
  // Digits are summed in place (no slices): seconds past 13 digits give an invalid date anyway.
  let seconds = 0;
  for (let i = 0; i < dot; i++) seconds = seconds * 10 + (id.charCodeAt(i) - 48);
  // The fraction is milliseconds in auditd; pad/cut so "1.5" and "1.500" mean the same.
  let millis = 0;
  for (let i = dot + 1; i < dot + 4; i++) millis = millis * 10 + (i < colon ? id.charCodeAt(i) - 48 : 0);
  const time = new Date(seconds * 1000 + millis);
  if (Number.isNaN(time.getTime())) return null;
  return { time, serial: id.slice(colon + 1) };
}

function allDigits(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Calls `visit(key, rawValue)` for every `key=value` in `line[start, end)`. Raw values keep their
 * quotes (`"grep"`, `'...'`) so callers can tell quoted text from hex; a `'...'` value runs to the
 * last single quote in the range (user-space `msg='...'`, whose inner values may contain `'`).
 * Words without `=` (the `user` in old USER_CMD records) are skipped.
 */
export function forEachField(
  line: string,
  start: number,
  end: number,
  visit: (key: string, value: string) => void,
): void {
  let i = start;
  while (i < end) {
    while (i < end && line.charCodeAt(i) === 32) i++;
    if (i >= end) return;
    const keyStart = i;
    let c = line.charCodeAt(i);
    while (i < end && c !== 61 /* = */ && c !== 32) c = line.charCodeAt(++i);
    if (i >= end || c === 32) continue;
    const key = line.slice(keyStart, i);
    const v = i + 1;
    const first = line.charCodeAt(v);
    let valueEnd: number;
    if (first === 34 /* " */) {
      const close = line.indexOf('"', v + 1);
      valueEnd = close < 0 || close >= end ? end : close + 1;
    } else if (first === 39 /* ' */) {
      const close = line.lastIndexOf("'", end - 1);
      valueEnd = close <= v ? end : close + 1;
    } else {
      const space = line.indexOf(' ', v);
      valueEnd = space < 0 || space > end ? end : space;
    }
    visit(key, line.slice(v, valueEnd));
    i = valueEnd;
  }
}

/** Collects the fields of a range into a map (raw values, quotes kept). */
export function fieldMap(line: string, start: number, end: number, into = new Map<string, string>()) {
  forEachField(line, start, end, (k, v) => into.set(k, v));
  return into;
}

/** True when every character of `s[start, end)` is a hex digit and the count is even. */
export function isHex(s: string, start = 0, end = s.length): boolean {
  if ((end - start) % 2 !== 0) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const digit = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
    if (!digit) return false;
  }
  return true;
}

/** Any character that is not a hex digit. */
const NOT_HEX = /[^0-9A-Fa-f]/;

/** Hex (either case) to bytes; undefined when the length is odd or a character is not hex. */
export function decodeHex(hex: string): Buffer | undefined {
  // The regular expression runs natively, about twice as fast as a character loop on long
  // arguments. Buffer.from alone cannot validate: it reads only the low byte of each character.
  return hex.length % 2 === 0 && !NOT_HEX.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** Values the kernel writes for "no value". */
function isNoValue(raw: string): boolean {
  return raw === '' || raw === '(null)' || raw === '(none)' || raw === '?';
}

/**
 * The bytes of an untrusted-string field (argument, path, cwd, cmd): quoted text as is, unquoted
 * text as hex. Null for the kernel's "no value" markers; undefined when the hex is bad.
 */
export function decodeFieldBytes(raw: string): Buffer | string | null | undefined {
  const first = raw.charCodeAt(0);
  if (first === 34 || first === 39) return stripQuotes(raw);
  if (isNoValue(raw)) return null;
  return decodeHex(raw);
}

/** Like decodeFieldBytes, as UTF-8 text (invalid sequences become U+FFFD). */
export function decodeField(raw: string | undefined): string | null | undefined {
  if (raw === undefined) return null;
  const bytes = decodeFieldBytes(raw);
  if (bytes === null || bytes === undefined || typeof bytes === 'string') return bytes;
  return bytes.toString('utf8');
}

/** Removes one pair of surrounding quotes; tolerates a missing closing quote. */
export function stripQuotes(raw: string): string {
  const first = raw.charCodeAt(0);
  if (first !== 34 && first !== 39) return raw;
  const last = raw.length > 1 ? raw.charCodeAt(raw.length - 1) : -1;
  return raw.slice(1, last === first ? -1 : undefined);
}

/** A decimal field as a number; null when absent or not a plain decimal. */
export function intField(raw: string | undefined): number | null {
  if (raw === undefined || !allDigits(raw, 0, raw.length) || raw.length > 15) return null;
  return Number(raw);
}

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

/** The raw value of the first `name` field (name ends with `=`) in the range, or null. */
export function rawFieldAt(line: string, start: number, end: number, name: string): string | null {
  let at = line.indexOf(name, start);
  // A match must start a field: at the range start or after a space.
  while (at >= 0 && at < end && at > start && line.charCodeAt(at - 1) !== 32) {
    at = line.indexOf(name, at + 1);
  }
  if (at < 0 || at >= end) return null;
  const v = at + name.length;
  const space = line.indexOf(' ', v);
  return line.slice(v, space < 0 || space > end ? end : space);
}

const BAD_HEX = 1;
const TOO_LONG = 2;

/** `s[start, end)` as a number when it is 1 to 15 decimal digits (as intField), without slicing. */
function intIn(s: string, start: number, end: number): number | null {
  if (end <= start || end - start > 15) return null;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = s.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value;
}

/** Collects the argument vector of an execve from one or more EXECVE records. */
export class ExecveArgs {
  argc: number | null = null;
  private readonly args = new Map<number, Buffer | string>();
  private readonly chunks = new Map<number, Array<Buffer | string>>();
  private bytes = 0;
  /** Set when arguments were dropped because the event grew past MAX_EVENT_ARG_BYTES. */
  overflow = false;

  /**
   * Adds the fields of one EXECVE record body. Returns `bad_hex` when a value was not valid hex
   * (that argument is then left out) or `too_long` when the event passed its byte cap.
   */
  addRecord(line: string, start: number, end: number): MalformedReason | null {
    let problem: MalformedReason | null = null;
    forEachField(line, start, end, (key, raw) => {
      const r = this.addField(key, raw);
      if (r && !problem) problem = r;
    });
    return problem;
  }

  private addField(key: string, raw: string): MalformedReason | null {
    if (key === 'argc') {
      this.argc = intField(raw);
      return null;
    }
    if (key.charCodeAt(0) !== 97 /* a */) return null;
    const bracket = key.indexOf('[');
    if (bracket < 0) {
      // aN or aN_len; the length is informative only (chunks are joined whatever it says).
      if (key.endsWith('_len')) return null;
      const index = intIn(key, 1, key.length);
      if (index === null) return null;
      const value = this.decode(raw);
      if (typeof value === 'number') return value === BAD_HEX ? 'bad_hex' : 'too_long';
      this.args.set(index, value);
      return null;
    }
    const index = intIn(key, 1, bracket);
    const part = intIn(key, bracket + 1, key.length - 1);
    if (index === null || part === null || !key.endsWith(']')) return null;
    let parts = this.chunks.get(index);
    if (!parts) this.chunks.set(index, (parts = []));
    const value = this.decode(raw);
    if (typeof value === 'number') return value === BAD_HEX ? 'bad_hex' : 'too_long';
    parts[part] = value;
    return null;
  }

  /** The bytes of one value, or BAD_HEX / TOO_LONG (numbers, so no decoded text can be mistaken for them). */
  private decode(raw: string): Buffer | string | number {
    const value = decodeFieldBytes(raw);
    if (value === undefined) return BAD_HEX;
    const v = value ?? '';
    this.bytes += v.length;
    if (this.bytes > MAX_EVENT_ARG_BYTES) {
      this.overflow = true;
      return TOO_LONG;
    }
    return v;
  }

  /** The decoded argv in order, stopping at the first missing argument; complete says if none was. */
  assemble(): { argv: string[]; complete: boolean } {
    const argv: string[] = [];
    const count = this.argc ?? this.highestIndex() + 1;
    for (let i = 0; i < count; i++) {
      const arg = this.argument(i);
      if (arg === null) return { argv, complete: false };
      argv.push(arg);
    }
    return { argv, complete: !this.overflow && this.argc !== null };
  }

  /** True when at least one argument was seen. */
  get hasAny(): boolean {
    return this.args.size > 0 || this.chunks.size > 0;
  }

  private argument(i: number): string | null {
    const whole = this.args.get(i);
    if (whole !== undefined) return typeof whole === 'string' ? whole : whole.toString('utf8');
    const parts = this.chunks.get(i);
    if (!parts) return null;
    const buffers: Buffer[] = [];
    // Chunks are decoded on their own and joined as bytes, so a UTF-8 character split between two
    // hex chunks comes out whole. A hole (a lost record) ends the argument early.
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p];
      if (part === undefined) break;
      buffers.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
    }
    return Buffer.concat(buffers).toString('utf8');
  }

  private highestIndex(): number {
    let max = -1;
    for (const k of this.args.keys()) if (k > max) max = k;
    for (const k of this.chunks.keys()) if (k > max) max = k;
    return max;
  }
}

/** Names a uid; the chain is: a name the log gives, then the resolver, then the number. */
export interface UidNamer {
  (uid: number, logName: string | null | undefined): string;
}

/** Builds a UidNamer from the parser options for one host. Never throws (a throwing resolver counts as "unknown"). */
export function uidNamer(
  host: string,
  resolveUid: ((uid: number, host: string) => string | null) | undefined,
): UidNamer {
  return (uid, logName) => {
    if (logName && isUsableName(logName)) return logName;
    if (resolveUid) {
      try {
        const name = resolveUid(uid, host);
        if (typeof name === 'string' && name !== '') return name;
      } catch {
        // A resolver failure must not lose the event; the number still identifies the user.
      }
    }
    return String(uid);
  };
}

/** ENRICHED and go-audit write placeholders for uids without a passwd entry. */
function isUsableName(name: string): boolean {
  return name !== 'unset' && name !== 'UNKNOWN_USER' && !name.startsWith('unknown(') && name !== '?';
}

/**
 * The raw SYSCALL fields a command is built from, and the ENRICHED names (in capitals) used for
 * naming; undefined when the record lacks one. An object of one fixed shape, not a map: one is
 * made per exec.
 */
export interface SyscallFields {
  arch: string | undefined;
  syscall: string | undefined;
  success: string | undefined;
  ppid: string | undefined;
  pid: string | undefined;
  auid: string | undefined;
  uid: string | undefined;
  euid: string | undefined;
  tty: string | undefined;
  ses: string | undefined;
  exe: string | undefined;
  key: string | undefined;
  AUID: string | undefined;
  UID: string | undefined;
  EUID: string | undefined;
}

const NO_SYSCALL: Readonly<SyscallFields> = Object.freeze(readSyscallFields('', 0, 0));

/** The first `name` field (name ends with `=`) of `line[start, end)`, or undefined. */
function fieldIn(line: string, start: number, end: number, name: string): string | undefined {
  return rawFieldAt(line, start, end, name) ?? undefined;
}

/**
 * Reads the SYSCALL fields of raw fields `line[start, rawEnd)` and ENRICHED ones after `rawEnd`.
 * Only the fields a command needs are looked up: raw values never contain spaces (the kernel
 * hex-encodes those), so a field-start search is exact. One native indexOf per field is faster
 * than walking the fields in script (measured: a single pass in script is 1.3-2x slower).
 */
function readSyscallFields(line: string, start: number, rawEnd: number): SyscallFields {
  const enriched = rawEnd < line.length;
  return {
    arch: fieldIn(line, start, rawEnd, 'arch='),
    syscall: fieldIn(line, start, rawEnd, 'syscall='),
    success: fieldIn(line, start, rawEnd, 'success='),
    ppid: fieldIn(line, start, rawEnd, 'ppid='),
    pid: fieldIn(line, start, rawEnd, 'pid='),
    auid: fieldIn(line, start, rawEnd, 'auid='),
    uid: fieldIn(line, start, rawEnd, 'uid='),
    euid: fieldIn(line, start, rawEnd, 'euid='),
    tty: fieldIn(line, start, rawEnd, 'tty='),
    ses: fieldIn(line, start, rawEnd, 'ses='),
    exe: fieldIn(line, start, rawEnd, 'exe='),
    key: fieldIn(line, start, rawEnd, 'key='),
    AUID: enriched ? fieldIn(line, rawEnd + 1, line.length, 'AUID=') : undefined,
    UID: enriched ? fieldIn(line, rawEnd + 1, line.length, 'UID=') : undefined,
    EUID: enriched ? fieldIn(line, rawEnd + 1, line.length, 'EUID=') : undefined,
  };
}

/** What the syscall-side records of one kernel event contributed. */
export interface EventContext {
  host: string;
  id: string;
  time: Date;
  sourceFormat: string;
  names: UidNamer;
}

/**
 * Accumulates the records of one kernel event (SYSCALL, EXECVE, CWD, PATH, PROCTITLE) and turns
 * them into a CommandEvent when the event is an exec. Records of other types are not stored.
 */
export class AuditEventBuilder {
  /** The SYSCALL record's fields, once it has come. */
  syscall: SyscallFields | null = null;
  verdict: ExecVerdict = 'unknown';
  args: ExecveArgs | null = null;
  cwd: string | null = null;
  /** Raw PROCTITLE value, decoded only when there is no EXECVE to take argv from. */
  proctitle: string | null = null;
  /** Raw PATH item 0 name: the program a failed execve tried to run (no EXECVE record then). */
  path0: string | null = null;

  /**
   * Adds one record; `body` is `line[start, rawEnd)` raw fields and `[rawEnd + 1, line.length)`
   * ENRICHED ones. Returns a malformed reason for a bad value (the rest of the record still counts).
   */
  addRecord(type: string, line: string, start: number, rawEnd: number): MalformedReason | null {
    switch (type) {
      case 'SYSCALL':
        return this.addSyscall(line, start, rawEnd);
      case 'EXECVE':
        this.args ??= new ExecveArgs();
        return this.args.addRecord(line, start, rawEnd);
      case 'CWD': {
        const raw = rawFieldAt(line, start, rawEnd, 'cwd=');
        if (raw === null) return null;
        const cwd = decodeField(raw);
        if (cwd === undefined) return 'bad_hex';
        this.cwd = cwd;
        return null;
      }
      case 'PATH':
        return this.addPath(line, start, rawEnd);
      case 'PROCTITLE':
        this.proctitle = rawFieldAt(line, start, rawEnd, 'proctitle=');
        return null;
      default:
        return null;
    }
  }

  private addSyscall(line: string, start: number, rawEnd: number): MalformedReason | null {
    const fields = readSyscallFields(line, start, rawEnd);
    this.syscall = fields;
    this.verdict = fields.arch && fields.syscall ? execVerdictFor(fields.arch.toLowerCase(), fields.syscall) : 'unknown';
    return null;
  }

  private addPath(line: string, start: number, rawEnd: number): MalformedReason | null {
    if (this.path0 === null && rawFieldAt(line, start, rawEnd, 'item=') === '0') {
      this.path0 = rawFieldAt(line, start, rawEnd, 'name=');
    }
    return null;
  }

  /** True once an EXECVE record gave arguments. */
  get hasArgs(): boolean {
    return this.args !== null && this.args.hasAny;
  }

  /** True when the records seen so far make this an exec (SYSCALL says so, or there are arguments). */
  get isExec(): boolean {
    return this.verdict === 'exec' || (this.args !== null && this.args.hasAny);
  }

  /** The command this event describes, or null when it is not an exec. */
  build(ctx: EventContext): CommandEvent | null {
    if (!this.isExec) return null;
    const f = this.syscall ?? NO_SYSCALL;
    const enriched = (v: string | undefined) => (v === undefined ? undefined : stripQuotes(v));
    const auid = intField(f.auid);
    const loginUid = auid === null || auid === UNSET_ID ? null : auid;
    const uid = intField(f.uid);
    const euid = intField(f.euid) ?? uid;
    const euidName = enriched(f.EUID) ?? (euid === uid ? enriched(f.UID) : undefined);
    const exe = decodeField(f.exe) ?? null;
    const { argv, complete } = this.argv(exe);
    const event: CommandEvent = {
      time: ctx.time,
      host: ctx.host,
      user: loginUid === null ? null : ctx.names(loginUid, enriched(f.AUID)),
      loginUid,
      runAs: euid === null ? null : ctx.names(euid, euidName),
      argv,
      command: commandLine(argv),
      exe,
      cwd: this.cwd,
      pid: intField(f.pid),
      ppid: intField(f.ppid),
      sourceFormat: ctx.sourceFormat,
      eventKey: `${ctx.host}:${ctx.id}`,
    };
    const success = f.success;
    if (success === 'yes' || success === 'no') event.success = success === 'yes';
    const extra = this.extra(f, complete);
    if (extra) event.extra = extra;
    return event;
  }

  private argv(exe: string | null): { argv: string[]; complete: boolean } {
    if (this.args && this.args.hasAny) return this.args.assemble();
    // No EXECVE record: the execve failed before the kernel copied the arguments. The program it
    // tried is PATH item 0; PROCTITLE would be the caller's own title, so it comes last.
    const path0 = this.path0 === null ? null : decodeField(this.path0);
    if (path0) return { argv: [path0], complete: false };
    const title = this.proctitle === null ? null : decodeField(this.proctitle);
    if (title) {
      const words = title.split('\0');
      while (words.length > 1 && words[words.length - 1] === '') words.pop();
      return { argv: words, complete: false };
    }
    return { argv: exe ? [exe] : [], complete: false };
  }

  private extra(f: SyscallFields, complete: boolean): Record<string, string> | undefined {
    const extra: Record<string, string> = {};
    let any = false;
    const tty = f.tty;
    if (tty && !isNoValue(tty)) {
      extra.tty = tty;
      any = true;
    }
    const ses = intField(f.ses);
    if (ses !== null && ses !== UNSET_ID) {
      extra.ses = String(ses);
      any = true;
    }
    const key = decodeRuleKey(f.key);
    if (key) {
      extra.key = key;
      any = true;
    }
    if (!complete && this.args?.hasAny) {
      extra.truncated = 'true';
      any = true;
    }
    return any ? extra : undefined;
  }
}

/** Audit rule keys: quoted, or hex with several keys separated by 0x01; joined with commas. */
export function decodeRuleKey(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const key = decodeField(raw);
  if (!key) return null;
  return key.includes('\x01') ? key.split('\x01').join(',') : key;
}

/** The parts of a sudo USER_CMD record that matter. */
export interface UserCmdRecord {
  pid: number | null;
  auid: number | null;
  ses: number | null;
  uid: number | null;
  cmd: string;
  cwd: string | null;
  exe: string | null;
  terminal: string | null;
  success: boolean;
  /** ENRICHED names (AUID, UID) when present. */
  auidName: string | undefined;
}

/**
 * Parses a USER_CMD body: `pid= uid= auid= ses= ... msg='cwd="..." cmd=HEX terminal=.. res=..'`,
 * optionally followed by the ENRICHED separator and `UID="alice" AUID="alice"`. The separator
 * sits after the closing quote of `msg='...'`, so `rawEnd` bounds the raw part. Returns
 * `bad_hex` when `cmd` or `cwd` is not valid hex, `unrecognized` when there is no `cmd`.
 */
export function parseUserCmd(
  line: string,
  start: number,
  rawEnd: number,
): UserCmdRecord | Extract<MalformedReason, 'bad_hex' | 'unrecognized'> {
  const outer = fieldMap(line, start, rawEnd);
  const enriched = rawEnd < line.length ? fieldMap(line, rawEnd + 1, line.length) : null;
  const msg = outer.get('msg');
  const inner = msg ? fieldMap(stripQuotes(msg), 0, stripQuotes(msg).length) : outer;
  const rawCmd = inner.get('cmd');
  if (rawCmd === undefined) return 'unrecognized';
  const cmd = decodeField(rawCmd);
  const cwd = decodeField(inner.get('cwd'));
  if (cmd === undefined || cwd === undefined) return 'bad_hex';
  const auidName = enriched?.get('AUID');
  return {
    pid: intField(outer.get('pid')),
    auid: intField(outer.get('auid')),
    ses: intField(outer.get('ses')),
    uid: intField(outer.get('uid')),
    cmd: cmd ?? '',
    cwd,
    exe: decodeField(inner.get('exe')) ?? null,
    terminal: nullIfNoValue(inner.get('terminal')),
    success: inner.get('res') !== 'failed' && inner.get('res') !== '0',
    auidName: auidName === undefined ? undefined : stripQuotes(auidName),
  };
}

function nullIfNoValue(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const v = stripQuotes(raw);
  return isNoValue(v) ? null : v;
}

/** A sudo USER_CMD waiting for the execve it launched. */
interface PendingSudo {
  host: string;
  record: UserCmdRecord;
  /** The event to emit if no execve claims this record in time. */
  event: CommandEvent;
  offset: number;
  arrivedAt: number;
}

/** Everything needed to turn a USER_CMD record into a CommandEvent. */
export interface UserCmdContext extends EventContext {
  offset: number;
  nowMs: number;
}

/**
 * Ties sudo's USER_CMD records to the execve they caused, so one sudo command is one event.
 *
 * sudo writes USER_CMD (its own serial) before it executes the command; the execve follows, run
 * by sudo's child (ppid = the USER_CMD pid) or, with `use_pty`, by a grandchild, which is matched
 * by session, login uid and the command text instead. A claimed USER_CMD is dropped and the
 * execve is marked `extra.via = 'sudo'`. A USER_CMD nobody claims within the timeout (hosts that
 * do not audit execve) is emitted on its own, argv split from `cmd`. A denial (`res=failed`) is
 * emitted at once with `sudoDenied: true`, since no execve will follow.
 */
export class SudoCorrelator {
  private readonly pending: PendingSudo[] = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly cap: number,
  ) {}

  /** Takes one USER_CMD; returns the events to emit now (a denial, or records pushed out by the cap). */
  add(record: UserCmdRecord, ctx: UserCmdContext): CommandEvent[] {
    const event = userCmdEvent(record, ctx);
    if (!record.success) return [event];
    this.pending.push({ host: ctx.host, record, event, offset: ctx.offset, arrivedAt: ctx.nowMs });
    const out: CommandEvent[] = [];
    while (this.pending.length > this.cap) out.push(this.pending.shift()!.event);
    return out;
  }

  /** Marks `event` as run via sudo and forgets the USER_CMD it came from, if one matches. */
  claim(event: CommandEvent): boolean {
    let index = this.pending.findIndex((p) => this.sameActor(p, event) && event.ppid === p.record.pid);
    if (index < 0) index = this.pending.findIndex((p) => this.sameActor(p, event) && commandMatches(p.record, event));
    if (index < 0) return false;
    this.pending.splice(index, 1);
    event.extra = { ...event.extra, via: 'sudo' };
    return true;
  }

  private sameActor(p: PendingSudo, event: CommandEvent): boolean {
    const loginUid = p.record.auid === null || p.record.auid === UNSET_ID ? null : p.record.auid;
    const ses = p.record.ses === null || p.record.ses === UNSET_ID ? undefined : String(p.record.ses);
    return p.host === event.host && loginUid === event.loginUid && ses === event.extra?.ses && event.pid !== p.record.pid;
  }

  /** Emits the USER_CMDs that waited longer than the timeout without a matching execve. */
  expire(nowMs: number): CommandEvent[] {
    const out: CommandEvent[] = [];
    while (this.pending.length > 0 && nowMs - this.pending[0].arrivedAt >= this.timeoutMs) {
      out.push(this.pending.shift()!.event);
    }
    return out;
  }

  /** Emits every USER_CMD still waiting. */
  flush(): CommandEvent[] {
    return this.pending.splice(0).map((p) => p.event);
  }

  /** The earliest time at which a waiting USER_CMD times out (Infinity when none waits). */
  nextExpiry(): number {
    return this.pending.length > 0 ? this.pending[0].arrivedAt + this.timeoutMs : Number.POSITIVE_INFINITY;
  }

  /** Offset of the oldest waiting USER_CMD line, or null. */
  lowWaterMark(): number | null {
    let min: number | null = null;
    for (const p of this.pending) if (min === null || p.offset < min) min = p.offset;
    return min;
  }
}

function commandMatches(record: UserCmdRecord, event: CommandEvent): boolean {
  if (record.cmd === event.command) return true;
  return event.exe !== null && record.cmd === commandLine([event.exe, ...event.argv.slice(1)]);
}

/** The event a USER_CMD stands for when no execve claims it, or when sudo denied it. */
function userCmdEvent(record: UserCmdRecord, ctx: EventContext): CommandEvent {
  const loginUid = record.auid === null || record.auid === UNSET_ID ? null : record.auid;
  // sudo joins argv with single spaces, so the argument boundaries are gone; split on spaces.
  const argv = record.cmd.split(' ').filter((word) => word !== '');
  const extra: Record<string, string> = { via: 'sudo' };
  if (record.terminal) extra.tty = record.terminal;
  if (record.ses !== null && record.ses !== UNSET_ID) extra.ses = String(record.ses);
  const event: CommandEvent = {
    time: ctx.time,
    host: ctx.host,
    user: loginUid === null ? null : ctx.names(loginUid, record.auidName),
    loginUid,
    runAs: null,
    argv,
    command: commandLine(argv),
    exe: null,
    cwd: record.cwd,
    pid: record.pid,
    ppid: null,
    sourceFormat: ctx.sourceFormat,
    eventKey: `${ctx.host}:${ctx.id}`,
    success: record.success,
    extra,
    attribution: 'audit-userspace',
  };
  if (!record.success) event.sudoDenied = true;
  return event;
}
