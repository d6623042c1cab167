/**
 * The header of one Linux audit record line, `[node=N ]type=T msg=audit(ID): body`, found as index
 * positions (no strings are cut for records a parser skips), and the event id's time.
 */
import type { MalformedReason } from '../parser.js';
import { allDigits } from './decode-field.js';

/** auditd `log_format=ENRICHED` puts this byte between the raw fields and the translated ones. */
export const ENRICHED_SEPARATOR = '\x1d';

/** Longest record line accepted; the kernel never writes records anywhere near this long. */
export const MAX_RECORD_CHARS = 1024 * 1024;

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
  /**
   * Set by scanRecordHeaderBytes only: the id's time in ms since the epoch, as auditTimeMs reads
   * it (NaN when the id is not `SECONDS.FRACTION:...`), its serial as serialAt reads it (-1 when
   * not 1 to 15 digits), and whether the whole id is `N.N:N` as parseAuditId requires.
   */
  timeMs: number;
  serial: number;
  idValid: boolean;
  /**
   * Set by scanRecordHeaderBytes only: true when the id has auditd's own shape (ten digits of
   * seconds, three of milliseconds, a serial; see canonicalIdAt), so that its time, its serial
   * and its length alone tell its text from any other id of that shape.
   */
  canonical: boolean;
}

/** A HeaderScan to reuse for every line. */
export function newHeaderScan(): HeaderScan {
  return { nodeStart: -1, nodeEnd: -1, typeStart: 0, typeEnd: 0, idStart: 0, idEnd: 0, serialStart: 0, bodyStart: 0, timeMs: Number.NaN, serial: -1, idValid: false, canonical: false };
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
  into.canonical = false;
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

/** Where the body starts after the id's closing parenthesis at `idEnd`: past `:` and spaces. */
function bodyStartAt(bytes: Buffer, idEnd: number, end: number): number {
  let bodyStart = idEnd + 1;
  if (bodyStart < end && bytes[bodyStart] === 58 /* : */) bodyStart++;
  while (bodyStart < end && bytes[bodyStart] === 32) bodyStart++;
  return bodyStart;
}

/** The latest time a Date can hold, in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;

/** Index of the first space in `bytes[from, end)`, or -1. */
function spaceIn(bytes: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (bytes[i] === 32) return i;
  return -1;
}

/** True when `bytes[at, end)` starts with `msg=audit(`. */
function msgAuditAt(bytes: Buffer, at: number, end: number): boolean {
  return (
    end - at >= 10 &&
    bytes[at] === 109 &&
    bytes[at + 1] === 115 &&
    bytes[at + 2] === 103 &&
    bytes[at + 3] === 61 &&
    bytes[at + 4] === 97 &&
    bytes[at + 5] === 117 &&
    bytes[at + 6] === 100 &&
    bytes[at + 7] === 105 &&
    bytes[at + 8] === 116 &&
    bytes[at + 9] === 40
  );
}

/** True when `bytes[at, end)` starts with `type=` (`node=` when `node` is true). */
function prefixAt(bytes: Buffer, at: number, end: number, node: boolean): boolean {
  return (
    end - at >= 5 &&
    bytes[at] === (node ? 110 : 116) &&
    bytes[at + 1] === (node ? 111 : 121) &&
    bytes[at + 2] === (node ? 100 : 112) &&
    bytes[at + 3] === 101 &&
    bytes[at + 4] === 61
  );
}

/**
 * scanRecordHeader on the line `bytes[start, end)`, positions absolute in `bytes`: lets a parser
 * look at a record's type and event without making a string of the line. Returns false where
 * scanRecordHeader would return a failure (the caller then decodes the line to say which). The
 * event id is read in the same pass: its time, serial and shape go to `timeMs`, `serial` and
 * `idValid` (see HeaderScan), so no later step walks it again.
 */
export function scanRecordHeaderBytes(bytes: Buffer, start: number, end: number, into: HeaderScan): boolean {
  let pos = start;
  into.nodeStart = -1;
  into.nodeEnd = -1;
  if (prefixAt(bytes, pos, end, true)) {
    const space = spaceIn(bytes, start + 5, end);
    if (space < 0) return false;
    into.nodeStart = start + 5;
    into.nodeEnd = space;
    pos = space + 1;
  }
  if (!prefixAt(bytes, pos, end, false)) return false;
  const typeEnd = spaceIn(bytes, pos + 5, end);
  if (typeEnd < 0 || !msgAuditAt(bytes, typeEnd + 1, end)) return false;
  const idStart = typeEnd + 11;
  if (canonicalIdAt(bytes, pos + 5, typeEnd, idStart, end, into)) return true;
  // SECONDS
  let i = idStart;
  let seconds = 0;
  let c = bytes[i];
  while (i < end && c >= 48 && c <= 57) {
    seconds = seconds * 10 + (c - 48);
    c = bytes[++i];
  }
  let timeShape = i > idStart && i < end && c === 46; /* . */
  // .FRACTION: milliseconds are its first three digits
  let millis = 0;
  let digits = 0;
  if (timeShape) {
    c = bytes[++i];
    while (i < end && c >= 48 && c <= 57) {
      if (digits < 3) millis = millis * 10 + (c - 48);
      digits++;
      c = bytes[++i];
    }
    timeShape = digits > 0;
  }
  // Anything else up to the colon or the closing parenthesis spoils the time (and the id).
  let colon = -1;
  while (i < end && c !== 41 /* ) */) {
    if (c === 58 /* : */) {
      colon = i;
      break;
    }
    timeShape = false;
    c = bytes[++i];
  }
  if (colon < 0) return false;
  // :SERIAL
  let serial = 0;
  i = colon + 1;
  c = bytes[i];
  while (i < end && c >= 48 && c <= 57) {
    serial = serial * 10 + (c - 48);
    c = bytes[++i];
  }
  const serialDigits = i - colon - 1;
  let serialOnlyDigits = true;
  while (i < end && c !== 41) {
    serialOnlyDigits = false;
    c = bytes[++i];
  }
  if (i >= end) return false;
  const idEnd = i;
  setPositions(into, pos + 5, typeEnd, idStart, idEnd, colon + 1, bodyStartAt(bytes, idEnd, end));
  into.timeMs = timeShape ? withFraction(seconds, millis, digits) : Number.NaN;
  into.serial = serialOnlyDigits && serialDigits >= 1 && serialDigits <= 15 ? serial : -1;
  into.idValid = timeShape && serialOnlyDigits && serialDigits >= 1 && into.timeMs <= MAX_DATE_MS;
  into.canonical = false;
  return true;
}

/**
 * The id as auditd writes it, `SSSSSSSSSS.mmm:SERIAL): ` (ten digits of seconds, three of
 * milliseconds, a serial of 1 to 15 digits), read with fixed offsets: true (and `into` filled as
 * the general walk in scanRecordHeaderBytes fills it) when the id has that shape, false to leave
 * any other id to that walk. Nearly every record of a real log takes this path.
 */
function canonicalIdAt(bytes: Buffer, typeStart: number, typeEnd: number, idStart: number, end: number, into: HeaderScan): boolean {
  if (end - idStart < 17 || bytes[idStart + 10] !== 46 /* . */ || bytes[idStart + 14] !== 58 /* : */) return false;
  let seconds = 0;
  for (let k = idStart; k < idStart + 10; k++) {
    const digit = bytes[k]! - 48;
    if (digit < 0 || digit > 9) return false;
    seconds = seconds * 10 + digit;
  }
  let millis = 0;
  for (let k = idStart + 11; k < idStart + 14; k++) {
    const digit = bytes[k]! - 48;
    if (digit < 0 || digit > 9) return false;
    millis = millis * 10 + digit;
  }
  const serialStart = idStart + 15;
  let serial = 0;
  let i = serialStart;
  for (; i < end; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) break;
    serial = serial * 10 + digit;
  }
  const serialDigits = i - serialStart;
  if (i >= end || bytes[i] !== 41 /* ) */ || serialDigits < 1 || serialDigits > 15) return false;
  setPositions(into, typeStart, typeEnd, idStart, i, serialStart, bodyStartAt(bytes, i, end));
  into.timeMs = seconds * 1000 + millis;
  into.serial = serial;
  // Ten digits of seconds stay far below the latest time a Date can hold.
  into.idValid = true;
  into.canonical = true;
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

/** Seconds plus the first (up to three) fraction digits `millis`, of `digits` in all, in ms. */
function withFraction(seconds: number, millis: number, digits: number): number {
  if (digits <= 0) return Number.NaN;
  return seconds * 1000 + millis * (digits === 1 ? 100 : digits === 2 ? 10 : 1);
}
