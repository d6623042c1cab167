import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../../src/sources/command-event.js';
import { lineBlock } from '../../../src/sources/line-block.js';
import type { LogParser, ParseOutput } from '../../../src/sources/parser.js';
import { createAuditdParser } from '../../../src/sources/parsers/auditd.js';
import { execRecords, type ExecSpec } from './audit-writer.js';

const UNSET = 4294967295;
const names: Record<number, string> = { 1000: 'alice', 1001: 'bob' };

/**
 * Argument bytes: mostly printable (quoted), some with spaces/quotes/UTF-8/controls (hex). Never a
 * NUL: the kernel reads each argument as a C string.
 */
const argBytes = fc
  .oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((s) => Buffer.from(s)),
    fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 24 }),
    // Long enough to be split into chunks.
    fc.uint8Array({ minLength: 40, maxLength: 400 }),
  )
  .map((bytes) => Uint8Array.from(bytes.filter((byte) => byte !== 0)));

const eventSpec = fc.record({
  argv: fc.array(argBytes, { minLength: 1, maxLength: 6 }),
  cwd: fc.uint8Array({ minLength: 1, maxLength: 30 }),
  auid: fc.constantFrom(1000, 1001, 2002, UNSET),
  euid: fc.constantFrom(0, 1000, 33),
  enriched: fc.boolean(),
  node: fc.option(fc.constantFrom('web1', 'db-2.example'), { nil: undefined }),
  // Small split thresholds force chunked arguments of random sizes.
  splitAbove: fc.integer({ min: 8, max: 64 }),
  chunkBytes: fc.integer({ min: 1, max: 40 }),
  arm: fc.boolean(),
});

type Generated = typeof eventSpec extends fc.Arbitrary<infer T> ? T : never;

function toSpec(g: Generated, serial: number): ExecSpec {
  const nameOf = (uid: number) => names[uid] ?? (uid === 0 ? 'root' : uid === UNSET ? 'unset' : `unknown(${uid})`);
  return {
    node: g.node,
    id: `1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}`,
    argv: g.argv,
    cwd: g.cwd,
    auid: g.auid,
    uid: g.euid,
    euid: g.euid,
    pid: 100 + serial,
    ppid: 1,
    names: g.enriched ? { auid: nameOf(g.auid), uid: nameOf(g.euid), euid: nameOf(g.euid) } : undefined,
    splitAbove: g.splitAbove,
    chunkChars: g.chunkBytes * 2,
    arm: g.arm,
  };
}

/** Merges per-event line lists in the order `picks` dictates, keeping each event's own order. */
function interleave(lists: string[][], picks: number[]): string[] {
  const queues = lists.map((l) => [...l]);
  const out: string[] = [];
  let p = 0;
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0);
    out.push(open[(picks[p++ % Math.max(1, picks.length)] ?? 0) % open.length].shift()!);
  }
  return out;
}

function expectedUser(g: Generated): string | null {
  if (g.auid === UNSET) return null;
  return names[g.auid] ?? String(g.auid);
}

/**
 * Feeds `lines` as byte blocks cut after the line indexes in `cuts`, the `now` of a block being
 * `times[block]`; with `byLine`, feeds the same lines one by one with the same `now`s instead.
 */
function feed(parser: LogParser, lines: readonly string[], cuts: readonly number[], times: readonly number[], byLine: boolean): ParseOutput {
  const out: ParseOutput = { events: [], malformed: [] };
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const starts: number[] = [];
  for (let i = 0, at = 0; i < lines.length; i++) {
    starts.push(at);
    at += Buffer.byteLength(lines[i]!) + 1;
  }
  starts.push(bytes.length);
  const bounds = [...new Set([0, ...cuts.map((c) => c % (lines.length + 1)), lines.length])].sort((a, b) => a - b);
  for (let b = 0; b + 1 < bounds.length; b++) {
    const now = new Date(times[b % Math.max(1, times.length)] ?? 0);
    const [from, to] = [starts[bounds[b]!]!, starts[bounds[b + 1]!]!];
    if (!byLine) {
      parser.pushBlock!(lineBlock(bytes, from, to, from), now, out);
      continue;
    }
    for (let i = bounds[b]!; i < bounds[b + 1]!; i++) {
      const part = parser.push(lines[i]!, starts[i]!, now);
      out.events.push(...part.events);
      out.malformed.push(...part.malformed);
    }
  }
  const rest = parser.flush();
  out.events.push(...rest.events);
  out.malformed.push(...rest.malformed);
  return out;
}

/** Typical fields per record type, so that generated lines often make whole events. */
const FIELDS_BY_TYPE: Record<string, string[]> = {
  SYSCALL: [
    'arch=c000003e syscall=59 success=yes pid=10 ppid=1 auid=1000 uid=0 euid=0 tty=pts0 ses=3 exe="/bin/ls"',
    'arch=c000003e syscall=257 success=yes pid=11 auid=1000 uid=0',
    'arch=c000003e syscall=59 success=no pid=12 auid=4294967295 uid=0 exe="/bin/nope"',
  ],
  EXECVE: ['argc=2 a0="ls" a1="-la"', 'argc=1 a0=6C73', 'argc=2 a0="x" a1_len=4 a1[0]=6162 a1[1]=6364', 'argc=1 a0=ZZ'],
  CWD: ['cwd="/root"', 'cwd=2F746D70', 'cwd=Z'],
  PATH: ['item=0 name="/bin/ls" inode=1', 'item=1 name="/lib/ld.so"'],
  PROCTITLE: ['proctitle=6C73002D6C61'],
  USER_CMD: [`pid=20 uid=0 auid=1000 ses=3 msg='cwd="/home/a" cmd=6C73 exe="/usr/bin/sudo" terminal=pts/0 res=success'`],
  EOE: [''],
};
const ANY_FIELDS = Object.values(FIELDS_BY_TYPE).flat();

/** Record lines of a few colliding events, mostly well formed: what the byte path must get right. */
const recordLine = fc
  .tuple(
    fc.option(fc.constantFrom('web1', 'db-2'), { nil: undefined }),
    fc.constantFrom('SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE', 'EOE', 'USER_CMD', 'CRED_ACQ', 'SYSCAL'),
    fc.constantFrom('1700000000.001:7', '1700000000.001:8', '1700000000.002:7', '9.9:x', '1.2:3:4'),
    fc.nat(),
    fc.array(fc.constantFrom(...ANY_FIELDS, '\u001dAUID="alice" UID="root"'), { maxLength: 2 }),
  )
  .map(([node, type, id, pick, extra]) => {
    const own = FIELDS_BY_TYPE[type] ?? ANY_FIELDS;
    const fields = [own[pick % own.length], ...extra].join(' ');
    return `${node ? `node=${node} ` : ''}type=${type} msg=audit(${id}): ${fields}`;
  });

describe('auditd parser properties', () => {
  it('reads blocks of bytes exactly as it reads the same lines one by one', () => {
    const line = fc.oneof(
      { weight: 20, arbitrary: recordLine },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((l) => l.replace(/\n/g, ' ')) },
      // Rare, since one non-ASCII line sends its whole block down the string path.
      { weight: 1, arbitrary: fc.constantFrom('node=w\u00e9b type=EOE msg=audit(1700000000.001:7): ', 'type=CWD msg=audit(1700000000.001:8): cwd="/\u00e9"') },
      { weight: 1, arbitrary: fc.constantFrom('', '   ', 'type=', 'node=x', 'type=EOE msg=audit(1.000:1', 'type=EOE msg=audit(1.000:1):') },
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 40, size: 'medium' }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (lines, cuts, times, maxPendingEvents) => {
          const options = { defaultHost: 'h', eventTimeoutMs: 1000, maxPendingEvents, resolveUid: (uid: number) => names[uid] ?? null };
          const byBlock = feed(createAuditdParser(options), lines, cuts, times, false);
          const byLine = feed(createAuditdParser(options), lines, cuts, times, true);
          expect(byBlock).toEqual(byLine);
        },
      ),
      { numRuns: 1000 },
    );
  });


  it('generated exec events round-trip through auditd text (raw, ENRICHED, interleaved, split)', () => {
    fc.assert(
      fc.property(
        fc.array(eventSpec, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
        (events, picks) => {
          const specs = events.map((g, i) => toSpec(g, i + 1));
          const lines = interleave(specs.map(execRecords), picks);
          const parser = createAuditdParser({ defaultHost: 'local', resolveUid: (uid) => names[uid] ?? null });
          const got: CommandEvent[] = [];
          let offset = 0;
          for (const line of lines) {
            const out = parser.push(line, offset, new Date(0));
            expect(out.malformed).toEqual([]);
            got.push(...out.events);
            offset += Buffer.byteLength(line) + 1;
          }
          expect(parser.lowWaterMark()).toBeNull();
          expect(got).toHaveLength(specs.length);
          const byKey = new Map(got.map((e) => [e.eventKey, e]));
          events.forEach((g, i) => {
            const spec = specs[i];
            const event = byKey.get(`${spec.node ?? 'local'}:${spec.id}`);
            expect(event).toBeDefined();
            expect(event!.argv).toEqual(g.argv.map((a) => Buffer.from(a).toString('utf8')));
            expect(event!.cwd).toBe(Buffer.from(g.cwd).toString('utf8'));
            expect(event!.user).toBe(expectedUser(g));
            expect(event!.loginUid).toBe(g.auid === UNSET ? null : g.auid);
            expect(event!.extra?.truncated).toBeUndefined();
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never throws on arbitrary text or bytes', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
      fc
        .tuple(
          fc.constantFrom('SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE', 'EOE', 'USER_CMD', 'LOGIN'),
          fc.constantFrom('1.000:1', '1700000000.001:2', 'x:y', ':', '1.1:'),
          fc.string({ maxLength: 200 }),
        )
        .map(([type, id, body]) => `type=${type} msg=audit(${id}): ${body}`),
      fc
        .array(fc.tuple(fc.constantFrom('argc', 'a0', 'a1', 'a1_len', 'a1[0]', 'a1[x]', 'a9999999999', 'cwd', 'msg', 'syscall', 'arch', 'auid'), fc.string({ maxLength: 30 })))
        .map((fields) => `type=EXECVE msg=audit(1.000:1): ${fields.map(([k, v]) => `${k}=${v}`).join(' ')}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.integer({ min: -5, max: 10_000 }), { maxLength: 20 }), (lines, times) => {
        const parser = createAuditdParser({ defaultHost: 'h', eventTimeoutMs: 100 });
        lines.forEach((l, i) => {
          const out = parser.push(l, i, new Date(times[i] ?? 0));
          for (const e of out.events) expect(Array.isArray(e.argv)).toBe(true);
        });
        parser.lowWaterMark();
        parser.flush();
        expect(parser.lowWaterMark()).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
