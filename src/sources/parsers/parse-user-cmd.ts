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

/** The fields a USER_CMD is read from: value positions (start, end) of the last of each, -1 when absent. */
class UserCmdFields {
  pid = -1;
  pidEnd = -1;
  uid = -1;
  uidEnd = -1;
  auid = -1;
  auidEnd = -1;
  ses = -1;
  sesEnd = -1;
  msg = -1;
  msgEnd = -1;
  cmd = -1;
  cmdEnd = -1;
  cwd = -1;
  cwdEnd = -1;
  exe = -1;
  exeEnd = -1;
  terminal = -1;
  terminalEnd = -1;
  res = -1;
  resEnd = -1;
  AUID = -1;
  AUIDEnd = -1;
}

/**
 * Parses a USER_CMD body from bytes: `pid= uid= auid= ses= ... msg='cwd="..." cmd=HEX terminal=..
 * res=..'`, optionally followed by the ENRICHED separator (at `rawEnd`, after the closing quote of
 * `msg='...'`) and `UID="alice" AUID="alice"` up to `end`. Fields are walked as decode-field.ts
 * fieldMap walks them (the last of a name counts). Returns `bad_hex` when `cmd` or `cwd` is not
 * valid hex, `unrecognized` when there is no `cmd`.
 */
export function parseUserCmdAt(bytes: Buffer, start: number, rawEnd: number, end: number, utf8: boolean): UserCmdResult {
  const f = new UserCmdFields();
  walkFields(bytes, start, rawEnd, f, OUTER | INNER);
  // An empty msg= counts as none: the inner fields are then the outer ones.
  if (f.msg >= 0 && f.msgEnd > f.msg) {
    // The inner fields are those of the msg text without its quotes, never the outer ones.
    f.cmd = f.cwd = f.exe = f.terminal = f.res = -1;
    const quoted = bytes[f.msg] === 39 || bytes[f.msg] === 34;
    const close = quoted && f.msgEnd - f.msg > 1 && bytes[f.msgEnd - 1] === bytes[f.msg] ? f.msgEnd - 1 : f.msgEnd;
    walkFields(bytes, quoted ? f.msg + 1 : f.msg, close, f, INNER);
  }
  if (rawEnd < end) walkFields(bytes, rawEnd + 1, end, f, ENRICHED);
  if (f.cmd < 0) return 'unrecognized';
  const cmd = decodeFieldAt(bytes, f.cmd, f.cmdEnd, utf8);
  const cwd = f.cwd < 0 ? null : decodeFieldAt(bytes, f.cwd, f.cwdEnd, utf8);
  if (cmd === undefined || cwd === undefined) return 'bad_hex';
  return {
    pid: f.pid < 0 ? null : intAt(bytes, f.pid, f.pidEnd),
    auid: f.auid < 0 ? null : intAt(bytes, f.auid, f.auidEnd),
    ses: f.ses < 0 ? null : intAt(bytes, f.ses, f.sesEnd),
    uid: f.uid < 0 ? null : intAt(bytes, f.uid, f.uidEnd),
    cmd: cmd ?? '',
    cwd,
    exe: f.exe < 0 ? null : (decodeFieldAt(bytes, f.exe, f.exeEnd, utf8) ?? null),
    terminal: f.terminal < 0 ? null : terminalAt(bytes, f.terminal, f.terminalEnd, utf8),
    success: f.res < 0 || !(isText(bytes, f.res, f.resEnd, 'failed') || isText(bytes, f.res, f.resEnd, '0')),
    auidName: f.AUID < 0 ? undefined : unquotedAt(bytes, f.AUID, f.AUIDEnd, utf8),
  };
}

/** Which names a walk collects. */
const OUTER = 1;
const INNER = 2;
const ENRICHED = 4;

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

/** Stores the value position of key `bytes[k, keyEnd)` when it is one of `names`. */
function note(bytes: Buffer, k: number, keyEnd: number, v: number, stop: number, f: UserCmdFields, names: number): void {
  const key = (name: string) => keyEnd - k === name.length && bytesStartWith(bytes, k, keyEnd, name);
  if (names & OUTER) {
    if (key('pid')) [f.pid, f.pidEnd] = [v, stop];
    else if (key('uid')) [f.uid, f.uidEnd] = [v, stop];
    else if (key('auid')) [f.auid, f.auidEnd] = [v, stop];
    else if (key('ses')) [f.ses, f.sesEnd] = [v, stop];
    else if (key('msg')) [f.msg, f.msgEnd] = [v, stop];
  }
  if (names & INNER) {
    if (key('cmd')) [f.cmd, f.cmdEnd] = [v, stop];
    else if (key('cwd')) [f.cwd, f.cwdEnd] = [v, stop];
    else if (key('exe')) [f.exe, f.exeEnd] = [v, stop];
    else if (key('terminal')) [f.terminal, f.terminalEnd] = [v, stop];
    else if (key('res')) [f.res, f.resEnd] = [v, stop];
  }
  if (names & ENRICHED && key('AUID')) [f.AUID, f.AUIDEnd] = [v, stop];
}
