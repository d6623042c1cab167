/** sudo's USER_CMD audit record: who ran which command, where, and whether sudo allowed it. */
import { isAscii } from 'node:buffer';
import type { MalformedReason } from '../parser.js';
import { bytesStartWith, decodeFieldAt, intAt, isNoValueAt, textAt, unquotedAt } from './field-bytes.js';

/** The parts of a sudo USER_CMD record that matter. */
export interface UserCmdRecord {
  pid: number | null;
  auid: number | null;
  ses: number | null;
  uid: number | null;
  cmd: string;
  /** True when `cmd` is as long as libaudit lets it be (PATH_MAX - 1 bytes): the command may go on. */
  cmdCut: boolean;
  cwd: string | null;
  exe: string | null;
  terminal: string | null;
  success: boolean;
  /** ENRICHED names (AUID, UID) when present. */
  auidName: string | undefined;
}

type UserCmdResult = UserCmdRecord | Extract<MalformedReason, 'bad_hex' | 'unrecognized'>;

/**
 * Parses a USER_CMD body given as text: `line[start, rawEnd)` raw fields, ENRICHED ones after
 * the separator at `rawEnd`. See parseUserCmdAt.
 */
export function parseUserCmd(line: string, start: number, rawEnd: number): UserCmdResult {
  const bytes = Buffer.from(line.slice(start), 'utf8');
  const raw = rawEnd >= line.length ? bytes.length : Buffer.byteLength(line.slice(start, rawEnd));
  return parseUserCmdAt(bytes, 0, raw, bytes.length, !isAscii(bytes));
}

/** The fields a USER_CMD is read from, as indexes into UserCmdFields; NONE for any other key. */
const PID = 0;
const UID = 1;
const AUID = 2;
const SES = 3;
const MSG = 4;
const CMD = 5;
const CWD = 6;
const EXE = 7;
const TERMINAL = 8;
const RES = 9;
const AUID_NAME = 10;
const NONE = -1;
const FIELD_COUNT = 11;

/** Which walk collects each field (see walkFields). */
const OUTER = 1;
const INNER = 2;
const ENRICHED = 4;
const FIELD_GROUP = [OUTER, OUTER, OUTER, OUTER, OUTER, INNER, INNER, INNER, INNER, INNER, ENRICHED];

/** Value positions (start, end) of the last of each field, -1 when absent. */
class UserCmdFields {
  readonly start = new Int32Array(FIELD_COUNT);
  readonly end = new Int32Array(FIELD_COUNT);

  /** Forgets every field, for the next record. */
  reset(): this {
    this.start.fill(-1);
    this.end.fill(-1);
    return this;
  }

  has(field: number): boolean {
    return this.start[field]! >= 0;
  }

  forget(field: number): void {
    this.start[field] = -1;
    this.end[field] = -1;
  }
}

/** Positions of the record being parsed: one set for all, as parsing never pauses midway. */
const fields = new UserCmdFields();

/**
 * Parses a USER_CMD body from bytes: `pid= uid= auid= ses= ... msg='cwd="..." cmd=HEX terminal=..
 * res=..'`, optionally followed by the ENRICHED separator (at `rawEnd`, after the closing quote of
 * `msg='...'`) and `UID="alice" AUID="alice"` up to `end`. Fields are walked as decode-field.ts
 * fieldMap walks them (the last of a name counts). Returns `bad_hex` when `cmd` or `cwd` is not
 * valid hex, `unrecognized` when there is no `cmd`.
 */
export function parseUserCmdAt(bytes: Buffer, start: number, rawEnd: number, end: number, utf8: boolean): UserCmdResult {
  const f = fields.reset();
  const at = f.start;
  const to = f.end;
  walkFields(bytes, start, rawEnd, f, OUTER | INNER);
  // An empty msg= counts as none: the inner fields are then the outer ones.
  const msg = at[MSG]!;
  const msgEnd = to[MSG]!;
  if (msg >= 0 && msgEnd > msg) {
    // The inner fields are those of the msg text without its quotes, never the outer ones.
    for (let field = CMD; field <= RES; field++) f.forget(field);
    const quoted = bytes[msg] === 39 || bytes[msg] === 34;
    const close = quoted && msgEnd - msg > 1 && bytes[msgEnd - 1] === bytes[msg] ? msgEnd - 1 : msgEnd;
    walkFields(bytes, quoted ? msg + 1 : msg, close, f, INNER);
  }
  if (rawEnd < end) walkFields(bytes, rawEnd + 1, end, f, ENRICHED);
  if (!f.has(CMD)) return 'unrecognized';
  const cmd = decodeFieldAt(bytes, at[CMD]!, to[CMD]!, utf8);
  const cwd = f.has(CWD) ? decodeFieldAt(bytes, at[CWD]!, to[CWD]!, utf8) : null;
  if (cmd === undefined || cwd === undefined) return 'bad_hex';
  const int = (field: number) => (f.has(field) ? intAt(bytes, at[field]!, to[field]!) : null);
  const res = at[RES]!;
  return {
    pid: int(PID),
    auid: int(AUID),
    ses: int(SES),
    uid: int(UID),
    cmd: cmd ?? '',
    cmdCut: cmdBytes(bytes, at[CMD]!, to[CMD]!) >= LIBAUDIT_MAX_CMD_BYTES,
    cwd,
    exe: f.has(EXE) ? (decodeFieldAt(bytes, at[EXE]!, to[EXE]!, utf8) ?? null) : null,
    terminal: f.has(TERMINAL) ? terminalAt(bytes, at[TERMINAL]!, to[TERMINAL]!, utf8) : null,
    success: res < 0 || !(isText(bytes, res, to[RES]!, 'failed') || isText(bytes, res, to[RES]!, '0')),
    auidName: f.has(AUID_NAME) ? unquotedAt(bytes, at[AUID_NAME]!, to[AUID_NAME]!, utf8) : undefined,
  };
}

/**
 * libaudit's audit_log_user_command keeps at most PATH_MAX - 1 bytes of the command (4,095 on
 * Linux): a longer sudo command is logged cut there, in its USER_CMD record.
 */
export const LIBAUDIT_MAX_CMD_BYTES = 4095;

/** Bytes of the command the raw `cmd` value `bytes[from, to)` holds: hex is two digits a byte, quoted text is itself. */
function cmdBytes(bytes: Buffer, from: number, to: number): number {
  const first = bytes[from];
  return first === 34 || first === 39 ? to - from - 2 : (to - from) >> 1;
}

function isText(bytes: Buffer, from: number, to: number, text: string): boolean {
  return to - from === text.length && bytesStartWith(bytes, from, to, text);
}

/** The terminal without quotes, or null for a "no value" marker. */
function terminalAt(bytes: Buffer, from: number, to: number, utf8: boolean): string | null {
  const quoted = to > from && (bytes[from] === 34 || bytes[from] === 39);
  const inner = quoted ? from + 1 : from;
  const close = quoted && to - from > 1 && bytes[to - 1] === bytes[from] ? to - 1 : to;
  return isNoValueAt(bytes, inner, close) ? null : textAt(bytes, inner, close, utf8);
}

/**
 * Walks the `key=value` fields of `bytes[start, end)` as decode-field.ts forEachField does
 * (words without `=` skipped, `"..."` to its closing quote, `'...'` to the last single quote of
 * the range) and stores the value positions of the names of `names` in `f`.
 */
function walkFields(bytes: Buffer, start: number, end: number, f: UserCmdFields, names: number): void {
  let i = start;
  while (i < end) {
    while (i < end && bytes[i] === 32) i++;
    if (i >= end) return;
    const keyStart = i;
    let c = bytes[i];
    while (i < end && c !== 61 /* = */ && c !== 32) c = bytes[++i];
    if (i >= end || c === 32) continue;
    const v = i + 1;
    const stop = valueEnd(bytes, v, end);
    note(bytes, keyStart, i, v, stop, f, names);
    i = stop;
  }
}

function valueEnd(bytes: Buffer, v: number, end: number): number {
  const first = v < end ? bytes[v] : -1;
  if (first === 34) {
    for (let i = v + 1; i < end; i++) if (bytes[i] === 34) return i + 1;
    return end;
  }
  if (first === 39) {
    for (let i = end - 1; i > v; i--) if (bytes[i] === 39) return i + 1;
    return end;
  }
  let i = v;
  while (i < end && bytes[i] !== 32) i++;
  return i;
}

/** Stores the value position of key `bytes[k, keyEnd)` when it names a field the `names` walks collect. */
function note(bytes: Buffer, k: number, keyEnd: number, v: number, stop: number, f: UserCmdFields, names: number): void {
  const field = fieldOf(bytes, k, keyEnd);
  if (field === NONE || (FIELD_GROUP[field]! & names) === 0) return;
  f.start[field] = v;
  f.end[field] = stop;
}

/** The field `bytes[k, keyEnd)` names, told by its length and first byte, then compared whole. */
function fieldOf(bytes: Buffer, k: number, keyEnd: number): number {
  switch (keyEnd - k) {
    case 3:
      switch (bytes[k]) {
        case 112 /* p */:
          return named(bytes, k, keyEnd, 'pid', PID);
        case 117 /* u */:
          return named(bytes, k, keyEnd, 'uid', UID);
        case 115 /* s */:
          return named(bytes, k, keyEnd, 'ses', SES);
        case 109 /* m */:
          return named(bytes, k, keyEnd, 'msg', MSG);
        case 99 /* c */:
          return bytes[k + 1] === 109 /* m */ ? named(bytes, k, keyEnd, 'cmd', CMD) : named(bytes, k, keyEnd, 'cwd', CWD);
        case 101 /* e */:
          return named(bytes, k, keyEnd, 'exe', EXE);
        case 114 /* r */:
          return named(bytes, k, keyEnd, 'res', RES);
        default:
          return NONE;
      }
    case 4:
      return bytes[k] === 97 /* a */ ? named(bytes, k, keyEnd, 'auid', AUID) : named(bytes, k, keyEnd, 'AUID', AUID_NAME);
    case 8:
      return named(bytes, k, keyEnd, 'terminal', TERMINAL);
    default:
      return NONE;
  }
}

function named(bytes: Buffer, k: number, keyEnd: number, name: string, field: number): number {
  return bytesStartWith(bytes, k, keyEnd, name) ? field : NONE;
}
