import { describe, expect, it } from 'vitest';
import { createFalcoParser } from '../../../src/sources/parsers/falco.js';
import { createJsonLinesParser } from '../../../src/sources/parsers/json-lines.js';
import { parseIsoTime } from '../../../src/sources/parsers/parse-support.js';
import { createSudoJsonParser } from '../../../src/sources/parsers/sudo-json.js';
import { createSudoSyslogParser } from '../../../src/sources/parsers/sudo-syslog.js';
import { storableEvent } from '../../../src/store/storable.js';
import { NOW, baseOptions, run } from './parser-harness.js';

/** An ISO time as Date's own ISO parser reads it: every year as written. */
const iso = (text: string) => new Date(text);

describe('event times read from ISO timestamps', () => {
  it.each([
    ['0099-06-15T00:00:00Z', '0099-06-15T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['0000-03-01T12:00:00Z', '0000-03-01T12:00:00.000Z'],
    ['0050-02-28T23:59:59.250+01:00', '0050-02-28T22:59:59.250Z'],
    ['0100-12-31T00:00:00Z', '0100-12-31T00:00:00.000Z'],
    ['2026-11-24T14:23:28.123456789Z', '2026-11-24T14:23:28.123Z'],
  ])('keep the year of %s as written', (text, expected) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(iso(expected).toISOString());
  });

  it('still refuse days a month does not have, in early years too', () => {
    expect(parseIsoTime('0099-02-29T00:00:00Z')).toBeNull();
    expect(parseIsoTime('2026-02-29T00:00:00Z')).toBeNull();
    expect(parseIsoTime('2026-04-31T00:00:00Z')).toBeNull();
    // 0096 and 2024 are leap years: Feb 29 is a day.
    expect(parseIsoTime('0096-02-29T00:00:00Z')?.toISOString()).toBe(iso('0096-02-29T00:00:00Z').toISOString());
    expect(parseIsoTime('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('date json, falco, sudo JSON and syslog events of years 0001-0099 as written, not 19xx', () => {
    const json = run(createJsonLinesParser(baseOptions), [JSON.stringify({ time: '0099-06-15T00:00:00Z', host: 'web-1', user: 'alice', argv: ['id'] })]);
    const falco = run(createFalcoParser(baseOptions), [
      JSON.stringify({ hostname: 'k8s-1', rule: 'r', priority: 'Notice', time: '0001-01-01T00:00:00Z', output_fields: { 'proc.cmdline': 'bash -i', 'user.name': 'root', 'user.loginuid': -1 } }),
    ]);
    const sudoJson = run(createSudoJsonParser(baseOptions), [
      JSON.stringify({ accept: { submit_time: { iso8601: '00990615000000Z' }, submituser: 'alice', command: '/usr/bin/id', runuser: 'root', runargv: ['id'], submithost: 'web-1' } }),
    ]);
    const syslog = run(createSudoSyslogParser(baseOptions), ['0042-07-01T08:00:00Z db-2 sudo[77]: bob : TTY=pts/3 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/id']);
    expect([json, falco, sudoJson, syslog].map((out) => out.malformed)).toEqual([[], [], [], []]);
    expect([json, falco, sudoJson, syslog].map((out) => out.events[0]?.time.toISOString())).toEqual([
      iso('0099-06-15T00:00:00Z').toISOString(),
      iso('0001-01-01T00:00:00Z').toISOString(),
      iso('0099-06-15T00:00:00Z').toISOString(),
      iso('0042-07-01T08:00:00Z').toISOString(),
    ]);
  });

  it('store a year-0099 event under its own time, and one of year 0000 as unstorable', () => {
    const [early] = run(createJsonLinesParser(baseOptions), [JSON.stringify({ time: '0099-06-15T00:00:00Z', host: 'web-1', argv: ['id'] })]).events;
    expect(storableEvent(early!, NOW).time.toISOString()).toBe(iso('0099-06-15T00:00:00Z').toISOString());
    // Year 0 (1 BC) is outside what is stored: the ingest time, marked, instead of a wrong century.
    const [zero] = run(createJsonLinesParser(baseOptions), [JSON.stringify({ time: '0000-06-15T00:00:00Z', host: 'web-1', argv: ['id'] })]).events;
    const stored = storableEvent(zero!, NOW);
    expect(stored.time).toEqual(NOW);
    expect(stored.extra).toMatchObject({ time_unstorable: 'true' });
  });
});
