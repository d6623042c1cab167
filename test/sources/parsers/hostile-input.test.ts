import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogParser } from '../../../src/sources/parser.js';
import { createAutoParser, createParser } from '../../../src/sources/parsers/index.js';
import { NOW, baseOptions } from './parser-harness.js';

/** The formats parsed by the modules under test here (auditd-family parsers have their own suite). */
const FORMATS = ['sudo', 'sudo-journald', 'sudo-json', 'osquery', 'falco', 'json'] as const;
const JSON_FORMATS = ['sudo-journald', 'sudo-json', 'osquery', 'falco', 'json'] as const;

const make = (format: string): LogParser =>
  format === 'auto' ? createAutoParser(baseOptions) : createParser(format, baseOptions);

/** Pushes every line, then flushes; fails the test if anything throws or the output is misshapen. */
function pushAll(parser: LogParser, lines: readonly string[]): { events: number; malformed: string[] } {
  let events = 0;
  const malformed: string[] = [];
  lines.forEach((line, i) => {
    const out = parser.push(line, i * 100, NOW);
    events += out.events.length;
    malformed.push(...out.malformed.map((m) => m.reason));
    for (const event of out.events) expect(event.command).toBe(event.argv.join(' '));
  });
  const rest = parser.flush();
  return { events: events + rest.events.length, malformed: [...malformed, ...rest.malformed.map((m) => m.reason)] };
}

const invalidUtf8 = new TextDecoder().decode(Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0xc3, 0x28, 0x7d]));
const binary = String.fromCharCode(...Array.from({ length: 64 }, (_, i) => (i * 37) % 256));

describe('hostile input', () => {
  it.each([...FORMATS, 'auto'])('%s: arbitrary strings never throw', (format) => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 8 }), (lines) => {
        pushAll(make(format), lines);
      }),
      { numRuns: 200 },
    );
  });

  it.each([...JSON_FORMATS, 'auto'])('%s: arbitrary JSON values never throw', (format) => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), (values) => {
        pushAll(make(format), values.map((v) => JSON.stringify(v)));
      }),
      { numRuns: 200 },
    );
  });

  it.each(JSON_FORMATS)('%s: objects with the right keys and wrong values never throw', (format) => {
    const keys = [
      'time', 'host', 'user', 'argv', 'command', 'pid', 'extra', 'MESSAGE', 'SYSLOG_IDENTIFIER', '_PID',
      '__REALTIME_TIMESTAMP', 'accept', 'reject', 'sudo', 'runargv', 'submit_time', 'columns', 'diffResults',
      'snapshot', 'hostIdentifier', 'unixTime', 'output_fields', 'rule', 'priority', 'tags',
    ];
    const record = fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...keys), fc.jsonValue())));
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        pushAll(make(format), records.map((r) => JSON.stringify(r)));
      }),
      { numRuns: 300 },
    );
  });

  it.each(JSON_FORMATS)('%s: counts truncated JSON, binary garbage and invalid UTF-8', (format) => {
    const { events, malformed } = pushAll(make(format), ['{"time": "2026-11-24T14:2', binary, invalidUtf8]);
    expect(events).toBe(0);
    expect(malformed).toEqual(['truncated', 'binary', 'invalid_utf8']);
  });

  it.each([...FORMATS, 'auto'])('%s: a 10 MB line is counted as too long', (format) => {
    const huge = `{"time": 1, "command": "${'A'.repeat(10 * 1024 * 1024)}"}`;
    const { events, malformed } = pushAll(make(format), [huge]);
    expect(events).toBe(0);
    expect(malformed).toEqual(['too_long']);
  });

  it('keeps a command with a 1 MB argument', () => {
    const big = 'x'.repeat(1024 * 1024);
    const json = pushAll(make('json'), [JSON.stringify({ time: 1795530208, argv: ['/bin/echo', big] })]);
    expect(json).toEqual({ events: 1, malformed: [] });
    const sudoJson = pushAll(make('sudo-json'), [JSON.stringify({ accept: { submituser: 'a', runargv: ['echo', big], submit_time: { seconds: 1 } } })]);
    expect(sudoJson).toEqual({ events: 1, malformed: [] });
  });

  it('parses 20,000 sudo lines, one event each', () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `Nov 24 14:23:28 web-1 sudo[${i}]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart svc-${i}`,
    );
    const parser = make('sudo');
    let events = 0;
    let malformed = 0;
    lines.forEach((line, i) => {
      const out = parser.push(line, i * 130, NOW);
      events += out.events.length;
      malformed += out.malformed.length;
    });
    events += parser.flush().events.length;
    expect(events).toBe(20_000);
    expect(malformed).toBe(0);
  });
});
