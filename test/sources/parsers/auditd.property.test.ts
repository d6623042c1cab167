import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../../src/sources/command-event.js';
import { createAuditdParser } from '../../../src/sources/parsers/auditd.js';
import { execRecords, type ExecSpec } from './audit-writer.js';

const UNSET = 4294967295;
const names: Record<number, string> = { 1000: 'alice', 1001: 'bob' };

/** Argument bytes: mostly printable (quoted), some with spaces/quotes/UTF-8/controls (hex). */
const argBytes = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((s) => Buffer.from(s)),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 24 }),
  // Long enough to be split into chunks.
  fc.uint8Array({ minLength: 40, maxLength: 400 }),
);

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

describe('auditd parser properties', () => {
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
