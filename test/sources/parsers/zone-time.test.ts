import { describe, expect, it } from 'vitest';
import { createSudoSyslogParser } from '../../../src/sources/parsers/sudo-syslog.js';
import { parseSudoLogfileLine, parseSyslogHeader } from '../../../src/sources/parsers/syslog-header.js';
import { isTimeZone, wallClockToInstant } from '../../../src/sources/parsers/zone-time.js';
import { run } from './parser-harness.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const iso = (date: Date | undefined) => date?.toISOString();

describe('syslog dates without a zone, read in the host time zone', () => {
  it('reads an RFC 3164 date in the zone given, UTC without one', () => {
    const line = 'Nov 24 14:23:28 web-1 sudo[77]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    expect(iso(parseSyslogHeader(line, NOW)?.time)).toBe('2026-11-24T14:23:28.000Z');
    expect(iso(parseSyslogHeader(line, NOW, 'UTC')?.time)).toBe('2026-11-24T14:23:28.000Z');
    expect(iso(parseSyslogHeader(line, NOW, 'America/Los_Angeles')?.time)).toBe('2026-11-24T22:23:28.000Z');
    expect(iso(parseSyslogHeader(line, NOW, 'Asia/Kolkata')?.time)).toBe('2026-11-24T08:53:28.000Z');
    // A date that carries its own offset is read as it says, whatever the zone.
    const precise = '2026-11-24T14:23:28.123456+01:00 web-1 sudo[77]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    expect(iso(parseSyslogHeader(precise, NOW, 'America/Los_Angeles')?.time)).toBe('2026-11-24T13:23:28.123Z');
  });

  it('takes each side of a daylight-saving change with its own offset', () => {
    const at = (stamp: string) => iso(parseSyslogHeader(`${stamp} web-1 cron[1]: x`, new Date('2026-12-01T00:00:00Z'), 'America/New_York')?.time);
    expect(at('Mar  8 01:59:59')).toBe('2026-03-08T06:59:59.000Z');
    // 02:30 does not exist that night: it is read an hour on, as 03:30 EDT.
    expect(at('Mar  8 02:30:00')).toBe('2026-03-08T07:30:00.000Z');
    expect(at('Mar  8 03:00:00')).toBe('2026-03-08T07:00:00.000Z');
    // 01:30 happens twice in November: the first, still EDT.
    expect(at('Nov  1 01:30:00')).toBe('2026-11-01T05:30:00.000Z');
    expect(at('Nov  1 02:30:00')).toBe('2026-11-01T07:30:00.000Z');
    expect(at('Jul  4 12:00:00')).toBe('2026-07-04T16:00:00.000Z');
  });

  it("infers the year by the zone's wall clock: a New Year's Eve line of Berlin is last year's", () => {
    const now = new Date('2026-12-31T23:30:00Z'); // 00:30 on 1 January 2027 in Berlin
    expect(iso(parseSyslogHeader('Jan  1 00:20:00 web-1 cron[1]: x', now, 'Europe/Berlin')?.time)).toBe('2026-12-31T23:20:00.000Z');
    expect(iso(parseSyslogHeader('Dec 31 23:50:00 web-1 cron[1]: x', now, 'Europe/Berlin')?.time)).toBe('2026-12-31T22:50:00.000Z');
  });

  it("reads an entry of sudo's own log file in the zone, its year included", () => {
    expect(iso(parseSudoLogfileLine('Nov 24 14:23:28 : alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls', NOW, 'Europe/Berlin')?.time)).toBe('2026-11-24T13:23:28.000Z');
    expect(iso(parseSudoLogfileLine('Jan  1 00:30:00 2026 : alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls', NOW, 'Europe/Berlin')?.time)).toBe('2025-12-31T23:30:00.000Z');
  });

  it('gives the sudo parser its events at the right instant', () => {
    const line = 'Nov 24 14:23:28 web-1 sudo[77]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls';
    const { events } = run(createSudoSyslogParser({ defaultHost: 'h', timeZone: 'America/New_York' }), [line], NOW);
    expect(events.map((e) => iso(e.time))).toEqual(['2026-11-24T19:23:28.000Z']);
  });

  it('knows the runtime zones and refuses others', () => {
    expect(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'].every(isTimeZone)).toBe(true);
    expect(['Mars/Olympus', 'CEST+1', ''].some(isTimeZone)).toBe(false);
    expect(wallClockToInstant('UTC', Date.UTC(2026, 0, 1))).toBe(Date.UTC(2026, 0, 1));
  });
});
