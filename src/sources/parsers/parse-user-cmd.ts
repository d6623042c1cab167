/** sudo's USER_CMD audit record: who ran which command, where, and whether sudo allowed it. */
import type { MalformedReason } from '../parser.js';
import { decodeField, fieldMap, intField, isNoValue, stripQuotes } from './decode-field.js';

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
