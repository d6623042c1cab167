import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLogGenerator, writeAuditLog, type GeneratedExec } from '../../bench/generate-auditd.js';
import { suspiciousSamples } from '../../bench/command-catalog.js';
import { SeededRandom } from '../../bench/seeded-random.js';
import { summarize } from '../../bench/ingest-throughput.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { createAuditdParser } from '../../src/sources/parsers/auditd.js';

function generate(commands: number, seed = 42): { lines: string[]; execs: GeneratedExec[]; generator: AuditLogGenerator } {
  const generator = new AuditLogGenerator({ commands, seed });
  const lines: string[] = [];
  const execs: GeneratedExec[] = [];
  for (const line of generator.lines()) {
    lines.push(line.text);
    if (line.exec) execs.push(line.exec);
  }
  return { lines, execs, generator };
}

function parseAll(lines: string[]): CommandEvent[] {
  const parser = createAuditdParser({ defaultHost: 'local' });
  const now = new Date();
  const events: CommandEvent[] = [];
  let offset = 0;
  for (const line of lines) {
    const out = parser.push(line, offset, now);
    expect(out.malformed).toEqual([]);
    events.push(...out.events);
    offset += Buffer.byteLength(line) + 1;
  }
  events.push(...parser.flush().events);
  return events;
}

describe('generated auditd log', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('is the same for the same seed and different for another', () => {
    const digest = (seed: number) => createHash('sha256').update(generate(300, seed).lines.join('\n')).digest('hex');
    expect(digest(7)).toBe(digest(7));
    expect(digest(7)).not.toBe(digest(8));
  });

  it('parses back into exactly the executions it reports, every argument decoded', () => {
    const { lines, execs } = generate(3000);
    const events = parseAll(lines);
    const byKey = new Map(events.map((e) => [e.eventKey, e]));
    expect(events).toHaveLength(execs.length);
    for (const exec of execs) {
      const event = byKey.get(exec.key);
      expect(event?.argv).toEqual(exec.argv);
      expect(event?.user).toBe(exec.login);
      expect(event?.pid).toBe(exec.pid);
    }
  });

  it('has the shape the benchmarks promise: ENRICHED records, sudo, hex, split arguments, interleaving', () => {
    const { lines, generator } = generate(5000);
    const stats = generator.stats;
    expect(stats.records / stats.commands).toBeGreaterThan(12);
    expect(stats.records / stats.commands).toBeLessThan(16);
    expect(stats.bytes / stats.records).toBeGreaterThan(150);
    expect(stats.bytes / stats.records).toBeLessThan(260);
    expect(lines.every((line) => line.startsWith('node='))).toBe(true);
    expect(lines.some((line) => line.includes('\x1dARCH=x86_64 SYSCALL=execve AUID="'))).toBe(true);
    for (const type of ['USER_ACCT', 'USER_CMD', 'CRED_REFR', 'USER_START', 'USER_END', 'CRED_DISP']) {
      expect(lines.some((line) => line.includes(` type=${type} `))).toBe(true);
    }
    expect(lines.some((line) => /a(\d+)_len=\d+ a\1\[0\]=[0-9A-F]+/.test(line))).toBe(true);
    expect(lines.some((line) => / type=EXECVE .* a\d=(?:[0-9A-F]{2})*20(?:[0-9A-F]{2})*( |$)/.test(line))).toBe(true);
    expect(stats.sudoCommands / stats.commands).toBeGreaterThan(0.1);
    // Interleaving: some event's records are not all next to each other.
    const lastSeen = new Map<string, number>();
    let interleaved = 0;
    lines.forEach((line, index) => {
      const id = /msg=audit\(([^)]+)\)/.exec(line)?.[1] ?? '';
      const previous = lastSeen.get(id);
      if (previous !== undefined && previous !== index - 1) interleaved += 1;
      lastSeen.set(id, index);
    });
    expect(interleaved).toBeGreaterThan(stats.commands / 10);
  });

  it('makes about 2 % of the commands rule hits, and every suspicious template is one', () => {
    const rules = loadDefaultRules();
    for (const sample of suspiciousSamples(new SeededRandom(1))) {
      const event = parseAll(generateOne(sample.argv))[0]!;
      expect(rules.match(event), sample.argv.join(' ')).not.toBeNull();
    }
    const { lines, generator } = generate(5000);
    const hits = parseAll(lines).filter((event) => rules.match(event) !== null).length;
    expect(hits / generator.stats.commands).toBeGreaterThan(0.01);
    expect(hits / generator.stats.commands).toBeLessThan(0.03);
  });

  it('streams to a file with the counts it reports', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vouch-bench-'));
    dirs.push(dir);
    const file = path.join(dir, 'audit.log');
    let execs = 0;
    const stats = await writeAuditLog(file, { commands: 500, seed: 3 }, () => (execs += 1));
    const text = await readFile(file);
    expect(text.length).toBe(stats.bytes);
    expect(text.toString('utf8').split('\n').length - 1).toBe(stats.records);
    expect(execs).toBe(stats.execEvents);
  });
});

describe('latency summary', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize('x', values)).toEqual({ phase: 'x', samples: 100, p50: 50, p99: 99, max: 100 });
    expect(summarize('one', [7])).toMatchObject({ p50: 7, p99: 7, max: 7 });
  });
});

/** The records of one plain execution of `argv` by alice. */
function generateOne(argv: string[]): string[] {
  return [
    `node=web-1 type=SYSCALL msg=audit(1795507200.000:1): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=1 pid=2 auid=1000 uid=0 euid=0 tty=pts0 ses=3 exe="/usr/bin/${argv[0]}"\x1dAUID="alice" UID="root" EUID="root"`,
    `node=web-1 type=EXECVE msg=audit(1795507200.000:1): argc=${argv.length} ${argv.map((a, i) => `a${i}=${Buffer.from(a).toString('hex').toUpperCase()}`).join(' ')}`,
    `node=web-1 type=CWD msg=audit(1795507200.000:1): cwd="/tmp"`,
    `node=web-1 type=EOE msg=audit(1795507200.000:1): `,
  ];
}
