import { parseIsoTime, toInteger } from './parse-support.js';
import { wallClockToInstant } from './zone-time.js';

/** The parts of a syslog line every program shares. */
export interface SyslogHeader {
  time: Date;
  host: string;
  /** The tag / APP-NAME, e.g. `sudo`. */
  program: string;
  pid: number | null;
  /** Everything after `program[pid]: ` (RFC 3164) or the structured data (RFC 5424). */
  message: string;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** How far in the future an RFC 3164 date may be before it is taken as last year's (clock skew). */
const FUTURE_TOLERANCE_MS = 24 * 3600_000;

/**
 * Splits a syslog line as written by rsyslog/syslog-ng files or forwarded over the network:
 * - RFC 3164 `Nov 24 14:23:28 host prog[pid]: msg` (the year is inferred from `now`: the most
 *   recent such date not in the future; the line has no zone, so the time is read in `timeZone`,
 *   an IANA name, UTC when not given),
 * - the high-precision file format `2026-11-24T14:23:28.123456+00:00 host prog[pid]: msg`,
 * - RFC 5424 `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`,
 * each optionally preceded by `<PRI>`. Returns null when the line is not syslog.
 */
export function parseSyslogHeader(line: string, now: Date, timeZone?: string): SyslogHeader | null {
  let pos = 0;
  let rfc5424 = false;
  if (line.charCodeAt(0) === 0x3c /* < */) {
    const close = line.indexOf('>');
    if (close < 2 || close > 4 || toInteger(line.slice(1, close)) === null) return null;
    pos = close + 1;
    if (line.startsWith('1 ', pos)) {
      rfc5424 = true;
      pos += 2;
    }
  }
  const stamp = readTimestamp(line, pos, now, timeZone);
  if (stamp === null) return null;
  pos = stamp.end;
  const hostEnd = line.indexOf(' ', pos);
  if (hostEnd <= pos) return null;
  const host = line.slice(pos, hostEnd);
  return rfc5424
    ? readRfc5424Body(line, hostEnd + 1, stamp.time, host)
    : readTaggedBody(line, hostEnd + 1, stamp.time, host);
}

/** The start of one entry of sudo's own log file (`Defaults logfile`), see parseSudoLogfileLine. */
export interface SudoLogfileLine {
  time: Date;
  /** Everything after `DATE : `: `user : TTY=... ; COMMAND=...` (`user : HOST=h ; TTY=...` with log_host). */
  message: string;
}

/**
 * The first line of an entry of sudo's own log file: `Nov 24 14:23:28 : alice : TTY=...`, or with
 * `log_year` `Nov 24 14:23:28 2026 : alice : ...` (sudo writes local time; as with RFC 3164 syslog,
 * it is read in `timeZone`, UTC when not given, and the year, when absent, is inferred from
 * `now`). Null for anything else.
 */
export function parseSudoLogfileLine(line: string, now: Date, timeZone?: string): SudoLogfileLine | null {
  if (MONTHS[line.slice(0, 3)] === undefined) return null;
  let pos = 15;
  let year: number | null = null;
  if (/^ \d{4} : /.test(line.slice(pos, pos + 8))) {
    year = Number(line.slice(pos + 1, pos + 5));
    pos += 5;
  }
  if (!line.startsWith(' : ', pos)) return null;
  // readTimestamp wants the space that ends a syslog timestamp.
  const stamp = readTimestamp(`${line.slice(0, 15)} `, 0, now, timeZone, year ?? undefined);
  return stamp === null ? null : { time: stamp.time, message: line.slice(pos + 3) };
}

/** A syslog timestamp at `pos`; an RFC 3164 one is in `year` when given, else the year inferYear finds. */
function readTimestamp(line: string, pos: number, now: Date, timeZone: string | undefined, year?: number): { time: Date; end: number } | null {
  const month = MONTHS[line.slice(pos, pos + 3)];
  if (month !== undefined && line.charCodeAt(pos + 3) === 0x20) {
    // "Nov 24 14:23:28 " or "Nov  4 14:23:28 ": always 16 characters.
    const day = toInteger(line.slice(pos + 4, pos + 6).trimStart());
    const clock = line.slice(pos + 7, pos + 15);
    if (day === null || line.charCodeAt(pos + 15) !== 0x20 || !/^\d\d:\d\d:\d\d$/.test(clock)) {
      return null;
    }
    const time = inferYear(month, day, clock, now, timeZone, year);
    return time === null ? null : { time, end: pos + 16 };
  }
  const end = line.indexOf(' ', pos);
  if (end <= pos) return null;
  const time = parseIsoTime(line.slice(pos, end));
  return time === null ? null : { time, end: end + 1 };
}

/**
 * The date with this month, day and time on the wall clock of `timeZone` (UTC when not given): in
 * `knownYear` when the line names it, else the most recent past (or barely future) one.
 */
function inferYear(month: number, day: number, clock: string, now: Date, timeZone: string | undefined, knownYear?: number): Date | null {
  const [h, m, s] = clock.split(':').map(Number) as [number, number, number];
  if (day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  const limit = knownYear === undefined ? now.getTime() + FUTURE_TOLERANCE_MS : Number.POSITIVE_INFINITY;
  const zoned = timeZone !== undefined && timeZone !== 'UTC';
  // Eight years back always reaches a leap year, for "Feb 29".
  const latest = knownYear ?? now.getUTCFullYear() + 1;
  const earliest = knownYear ?? now.getUTCFullYear() - 8;
  for (let year = latest; year >= earliest; year--) {
    const wall = Date.UTC(year, month, day, h, m, Math.min(s, 59));
    // Date.UTC rolls "Feb 30" over into March; only days past 28 can do that.
    if (day > 28 && new Date(wall).getUTCDate() !== day) continue;
    const ms = zoned ? wallClockToInstant(timeZone, wall) : wall;
    if (ms > limit) continue;
    return new Date(ms);
  }
  return null;
}

function readTaggedBody(line: string, pos: number, time: Date, host: string): SyslogHeader | null {
  const colon = line.indexOf(':', pos);
  if (colon <= pos) return null;
  const tag = line.slice(pos, colon);
  if (tag.includes(' ')) return null;
  let program = tag;
  let pid: number | null = null;
  const bracket = tag.indexOf('[');
  if (bracket > 0 && tag.endsWith(']')) {
    program = tag.slice(0, bracket);
    pid = toInteger(tag.slice(bracket + 1, -1));
  }
  const start = line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1;
  return { time, host, program, pid, message: line.slice(start) };
}

function readRfc5424Body(line: string, pos: number, time: Date, host: string): SyslogHeader | null {
  const fields: string[] = [];
  for (let i = 0; i < 3; i++) {
    const end = line.indexOf(' ', pos);
    if (end <= pos) return null;
    fields.push(line.slice(pos, end));
    pos = end + 1;
  }
  const [program, procId] = fields as [string, string, string];
  const sdEnd = skipStructuredData(line, pos);
  if (sdEnd < 0) return null;
  let message = line.slice(line.charCodeAt(sdEnd) === 0x20 ? sdEnd + 1 : sdEnd);
  if (message.startsWith('\ufeff')) message = message.slice(1);
  return { time, host, program, pid: toInteger(procId), message };
}

/** Index just past the STRUCTURED-DATA (`-` or `[id k="v"]...`), or -1 when it is malformed. */
function skipStructuredData(line: string, pos: number): number {
  if (line.charCodeAt(pos) === 0x2d /* - */) return pos + 1;
  while (line.charCodeAt(pos) === 0x5b /* [ */) {
    let i = pos + 1;
    let inQuotes = false;
    for (; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x5c /* \ */ && inQuotes) i++;
      else if (c === 0x22 /* " */) inQuotes = !inQuotes;
      else if (c === 0x5d /* ] */ && !inQuotes) break;
    }
    if (i >= line.length) return -1;
    pos = i + 1;
  }
  return pos;
}
