import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsoTimeFormatter } from '../../src/cli/iso-time-formatter.js';
import { OutputBuffer } from '../../src/cli/output-buffer.js';
import { jsonString, scanJsonLine, ScanJsonLines } from '../../src/cli/scan-json-line.js';
import type { RuleMatch } from '../../src/detect/rule.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { ATTRIBUTIONS, provenanceOf, toStoredProvenance } from '../../src/sources/provenance.js';

/** Any UTF-16 text: lone surrogates, controls, quotes and backslashes included. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '\u2028', '\ud800', '\udfff', '\u007f', 'a', ' '),
    fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
  ),
});

/** Mostly plain ASCII with now and then a character that must be escaped or is not ASCII: both paths in one line. */
const mostlyPlainText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: anyText },
);

/** Long text (a few KB), plain or with escapes in it. */
const longText = fc.tuple(fc.string({ unit: 'grapheme-ascii', minLength: 1000, maxLength: 5000 }), anyText).map(([a, b]) => a + b);

/** The line as the generic serialiser writes it: the reference the encoder must equal byte for byte. */
function referenceLine(event: CommandEvent, match: RuleMatch | null): string {
  const time = Number.isNaN(event.time.getTime()) ? null : event.time.toISOString();
  return (
    JSON.stringify({
      time,
      host: event.host,
      user: event.user,
      run_as: event.runAs,
      argv: event.argv,
      command: event.command,
      cwd: event.cwd,
      source_format: event.sourceFormat,
      rule: match?.ruleId ?? null,
      rule_name: match?.ruleName ?? null,
      severity: match?.severity ?? null,
      attack: match?.attack ?? null,
      pid: event.pid,
      exe: event.exe,
      sudo_denied: event.sudoDenied ?? false,
      provenance: toStoredProvenance(provenanceOf(event)),
    }) + '\n'
  );
}

const anyTime = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
  fc.integer({ min: 1_600_000_000_000, max: 1_600_000_100_000 }).map((ms) => new Date(ms)),
  fc.constant(new Date(Number.NaN)),
);

const anyEvent: fc.Arbitrary<CommandEvent> = fc
  .record({
    time: anyTime,
    host: anyText,
    user: fc.option(anyText),
    runAs: fc.option(anyText),
    argv: fc.array(anyText, { maxLength: 6 }),
    cwd: fc.option(anyText),
    exe: fc.option(anyText),
    pid: fc.option(fc.oneof(fc.integer(), fc.double())),
    sourceFormat: fc.constantFrom('auditd', 'sudo', 'json', 'laurel', 'a "new" format'),
    sudoDenied: fc.option(fc.boolean(), { nil: undefined }),
    attribution: fc.option(fc.constantFrom(...ATTRIBUTIONS), { nil: undefined }),
  })
  .map((fields) => ({ ...fields, command: fields.argv.join(' '), loginUid: null, ppid: null, eventKey: 'k' }));

/** Events as they come from a log: plain text mostly, times close together, sometimes set by ingestion. */
const logEvent: fc.Arbitrary<CommandEvent> = fc
  .record({
    time: fc.oneof(fc.integer({ min: 1_600_000_000_000, max: 1_600_000_005_000 }).map((ms) => new Date(ms)), anyTime),
    host: mostlyPlainText,
    user: fc.option(mostlyPlainText),
    runAs: fc.option(mostlyPlainText),
    argv: fc.array(fc.oneof({ weight: 9, arbitrary: mostlyPlainText }, { weight: 1, arbitrary: longText }), { maxLength: 6 }),
    cwd: fc.option(mostlyPlainText),
    exe: fc.option(mostlyPlainText),
    pid: fc.option(fc.nat()),
    sourceFormat: fc.constantFrom('auditd', 'sudo', 'json'),
    sudoDenied: fc.option(fc.boolean(), { nil: undefined }),
    attribution: fc.option(fc.constantFrom(...ATTRIBUTIONS), { nil: undefined }),
    http: fc.option(fc.record({ hostBinding: fc.constantFrom('bound' as const, 'unbound' as const, null) }), { nil: undefined }),
  })
  .map(({ http, ...fields }) => {
    const event: CommandEvent = { ...fields, command: fields.argv.join(' '), loginUid: null, ppid: null, eventKey: 'k' };
    if (http !== undefined) event.provenance = { ...provenanceOf(event), transport: 'http', hostBinding: http.hostBinding };
    return event;
  });

const anyMatch: fc.Arbitrary<RuleMatch | null> = fc.option(
  fc.record({
    ruleId: anyText,
    ruleName: anyText,
    severity: fc.constantFrom('low', 'medium', 'high', 'critical'),
    attack: fc.array(anyText, { maxLength: 3 }),
    mode: fc.constantFrom('alert', 'observe'),
  }),
);

describe('jsonString', () => {
  it('writes exactly what JSON.stringify writes, for any string (lone surrogates included)', () => {
    fc.assert(fc.property(fc.oneof(anyText, mostlyPlainText, longText), (text) => jsonString(text) === JSON.stringify(text)), { numRuns: 2000 });
  });

  it('writes every single UTF-16 unit as JSON.stringify does', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const text = `a${String.fromCharCode(code)}b`;
      if (jsonString(text) !== JSON.stringify(text)) expect(jsonString(text)).toBe(JSON.stringify(text));
    }
  });

  it('takes a megabyte of hostile text in linear time', () => {
    const hostile = '\u0000"\\\ud800\u001b\u00e9'.repeat(150_000);
    const started = performance.now();
    expect(jsonString(hostile)).toBe(JSON.stringify(hostile));
    expect(jsonString('x'.repeat(1_000_000))).toBe(JSON.stringify('x'.repeat(1_000_000)));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const back = JSON.parse(jsonString(text)) as string;
        // Well-formed JSON keeps lone surrogates as escapes, so they come back as the same units.
        expect(back).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes controls, quotes, backslashes and lone surrogates, and keeps pairs and other text', () => {
    expect(jsonString('a"b\\c\n\t\u0000\u001f\u007f')).toBe('"a\\"b\\\\c\\n\\t\\u0000\\u001f\u007f"');
    expect(jsonString('\ud83d\ude00 \ud83d x \ude00')).toBe('"\ud83d\ude00 \\ud83d x \\ude00"');
    expect(jsonString('\udbff')).toBe('"\\udbff"');
  });
});

describe('scanJsonLine', () => {
  it('equals the generic serialisation of the contract object, for any event and match', () => {
    fc.assert(
      fc.property(anyEvent, anyMatch, (event, match) => {
        const line = scanJsonLine(event, match);
        expect(line).toBe(referenceLine(event, match));
        expect(JSON.parse(line)).toEqual(JSON.parse(referenceLine(event, match)));
      }),
      { numRuns: 1000 },
    );
  });

  it('prints the shown (redacted) argv and command instead of the event own', () => {
    const event = { time: new Date(0), host: 'h', user: 'u', runAs: 'root', argv: ['a', 'secret'], command: 'a secret', cwd: null, exe: null, pid: 1, loginUid: null, ppid: null, sourceFormat: 'json', eventKey: 'k' };
    const line = JSON.parse(scanJsonLine(event, null, { argv: ['a', '[REDACTED]'], command: 'a [REDACTED]' })) as Record<string, unknown>;
    expect(line).toMatchObject({ argv: ['a', '[REDACTED]'], command: 'a [REDACTED]' });
  });
});

describe('ScanJsonLines', () => {
  it('writes any run of events, one writer for all, as the UTF-8 bytes of their generic serialisation', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(logEvent, anyEvent), anyMatch), { maxLength: 12 }), fc.integer({ min: 1, max: 4096 }), (events, size) => {
        const lines = new ScanJsonLines();
        const out = new OutputBuffer(size);
        for (const [event, match] of events) lines.write(out, event, match);
        const expected = events.map(([event, match]) => referenceLine(event, match)).join('');
        expect(Buffer.concat(out.take()).equals(Buffer.from(expected, 'utf8'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('writes a line holding every kind of escape and script exactly', () => {
    const argv = ['printf', '"%s\\n"', 'v\u00e9rifi\u00e9 \u2713', '\u0000\u001f\u007f', '\ud83d\ude00 \ud83d \ude00', ''];
    const event: CommandEvent = { time: new Date(0), host: 'h\tost', user: null, runAs: 'r\u00f6ot', argv, command: argv.join(' '), cwd: '/tmp/"x"', exe: null, pid: null, loginUid: null, ppid: null, sourceFormat: 'auditd', eventKey: 'k', sudoDenied: true };
    const out = new OutputBuffer(16);
    new ScanJsonLines().write(out, event, null);
    expect(Buffer.concat(out.take()).toString('utf8')).toBe(referenceLine(event, null));
  });
});

describe('IsoTimeFormatter', () => {
  it('formats any sequence of times as toISOString does, null for invalid dates', () => {
    fc.assert(
      fc.property(fc.array(anyTime, { minLength: 1, maxLength: 30 }), (times) => {
        const formatter = new IsoTimeFormatter();
        for (const time of times) expect(formatter.format(time)).toBe(Number.isNaN(time.getTime()) ? null : time.toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the second and changes only the milliseconds within it, before and after 1970', () => {
    const formatter = new IsoTimeFormatter();
    for (const ms of [1_700_000_000_000, 1_700_000_000_999, 1_700_000_001_000, -1, -1000, -1001, 0]) {
      expect(formatter.format(new Date(ms))).toBe(new Date(ms).toISOString());
    }
  });
});
