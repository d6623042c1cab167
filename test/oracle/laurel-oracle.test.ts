/**
 * laurel against libauparse, and the laurel and auditd parsers against both, on the same events:
 * - the live samples: laurel ran as auditd's plugin (both argv modes) while auditd wrote
 *   audit-enriched.log (test/fixtures/real/auditd/PROVENANCE.md);
 * - laurel-oracle.json: laurel's output for raw logs fed on its standard input, made by
 *   laurel-oracle.py (re-run and compared when laurel is installed).
 * libauparse's decoding of the same logs is auparse-oracle.json.
 */
import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { createAuditdParser } from '../../src/sources/parsers/auditd.js';
import { createLaurelParser, decodePercent } from '../../src/sources/parsers/laurel.js';
import { run } from '../sources/parsers/parser-harness.js';
import { auditIdOf, parseFixture, readCachedOracle, readFixture, runTool, type AuparseEvent } from './oracle-support.js';

const DIR = 'test/fixtures/real/auditd';
const auparse = readCachedOracle<Record<string, AuparseEvent[]>>('auparse-oracle.json');
type LaurelEvent = Record<string, unknown>;
type LaurelModes = Record<'array' | 'string' | 'array-limited' | 'string-limited', LaurelEvent[]>;
const cachedLaurel = readCachedOracle<Record<string, LaurelModes>>('laurel-oracle.json');

/** A failed execve has no EXECVE record: the program it tried is its PATH item 0. */
const oracleArgv = (want: AuparseEvent) => (want.argv.length > 0 || want.path0 === null ? want.argv : [want.path0]);

/** What every decoder must agree on, whatever its argv mode. */
const oracleView = (want: AuparseEvent) => ({
  id: want.id,
  command: oracleArgv(want).join(' '),
  exe: want.exe,
  cwd: want.cwd,
  auid: want.auid,
  runAs: want.euid_name ?? (want.euid === null ? null : want.euid === 0 ? 'root' : String(want.euid)),
});

function ourView(id: string, event: CommandEvent | undefined) {
  if (event === undefined) return { id, missing: true };
  return { id, command: event.command, exe: event.exe, cwd: event.cwd, auid: event.loginUid, runAs: event.runAs };
}

function laurelEvents(lines: readonly string[]): Map<string, CommandEvent> {
  const { events, malformed } = run(createLaurelParser({ defaultHost: 'vm' }), lines);
  expect(malformed).toEqual([]);
  return new Map(events.map((event) => [auditIdOf(event), event]));
}

/** laurel's `["array"]` output read by the laurel parser must be auparse's decoding, argument for argument. */
function checkArrayMode(lines: readonly string[], expected: readonly AuparseEvent[]): void {
  const byId = laurelEvents(lines);
  const ours = expected.map((want) => ({ ...ourView(want.id, byId.get(want.id)), argv: byId.get(want.id)?.argv }));
  expect(ours).toEqual(expected.map((want) => ({ ...oracleView(want), argv: oracleArgv(want) })));
  expect(byId.size).toBe(expected.length);
}

/**
 * laurel's `["string"]` output: the command line is always exact; argv is exact unless an
 * argument held a space, and then the event says so. Returns the events whose arguments with
 * spaces still came back exactly (from the process title).
 */
function checkStringMode(lines: readonly string[], expected: readonly AuparseEvent[]): AuparseEvent[] {
  const byId = laurelEvents(lines);
  expect(expected.map((want) => ourView(want.id, byId.get(want.id)))).toEqual(expected.map(oracleView));
  const rescued: AuparseEvent[] = [];
  for (const want of expected) {
    const event = byId.get(want.id)!;
    if (event.extra?.argv_inexact === 'true') {
      expect({ id: want.id, spaces: want.argv.some((a) => a.includes(' ')) }).toEqual({ id: want.id, spaces: true });
      continue;
    }
    expect({ id: want.id, argv: event.argv }).toEqual({ id: want.id, argv: oracleArgv(want) });
    if (want.argv.some((a) => a.includes(' '))) rescued.push(want);
  }
  return rescued;
}

/** The auditd parser on the raw log must give laurel's ARGV for every event laurel has one for. */
function checkAuditdAgainstLaurel(path: string, laurel: readonly LaurelEvent[]): void {
  const { events } = parseFixture(createAuditdParser({ defaultHost: 'vm' }), path);
  const byId = new Map(events.map((event) => [auditIdOf(event), event]));
  const withArgv = laurel.filter((event) => Array.isArray((event.EXECVE as LaurelEvent | undefined)?.ARGV));
  expect(withArgv.length).toBeGreaterThan(0);
  const ours = withArgv.map((event) => ({ id: event.ID, argv: byId.get(event.ID as string)?.argv }));
  const theirs = withArgv.map((event) => ({
    id: event.ID,
    argv: ((event.EXECVE as LaurelEvent).ARGV as string[]).map(decodePercent),
  }));
  expect(ours).toEqual(theirs);
}

/**
 * laurel's output where `execve-argv-limit-bytes` made it cut arguments out of the middle: the
 * arguments kept must be auparse's with one run of `skipped_args` removed, and the event must
 * say it was truncated.
 */
function checkCutEvents(lines: readonly string[], expected: readonly AuparseEvent[]): number {
  const byId = laurelEvents(lines);
  for (const [id, event] of byId) {
    const want = expected.find((e) => e.id === id)!;
    const skipped = Number(event.extra?.skipped_args);
    expect({ id, truncated: event.extra?.truncated, skipped: skipped > 0 }).toEqual({ id, truncated: 'true', skipped: true });
    let keptHead = 0;
    while (keptHead < event.argv.length && event.argv[keptHead] === want.argv[keptHead]) keptHead++;
    expect(event.argv).toEqual([...want.argv.slice(0, keptHead), ...want.argv.slice(keptHead + skipped)]);
  }
  return byId.size;
}

const nonEmptyLines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('laurel as auditd plugin, against libauparse on the same events', () => {
  const expected = auparse[`${DIR}/audit-enriched.log`]!;

  it('reads laurel\'s execve-argv = ["array"] output argument for argument', () => {
    expect(expected.length).toBeGreaterThan(40);
    checkArrayMode(nonEmptyLines(readFixture(`${DIR}/laurel-array.jsonl`)), expected);
  });

  it('reads laurel\'s execve-argv = ["string"] output: the exact command line, and argv where spaces do not blur it', () => {
    const rescued = checkStringMode(nonEmptyLines(readFixture(`${DIR}/laurel-string.jsonl`)), expected);
    // The process title holds them all only when short (the kernel keeps 128 bytes) and without
    // empty arguments.
    expect(rescued.map((want) => want.argv.slice(0, 2))).toContainEqual(['bash', '-c']);
  });

  it("ties sudo's USER_CMD records to the execve they caused, as the auditd parser does on the same events", () => {
    const view = (event: CommandEvent) => [event.eventKey, event.user, event.runAs, event.command, event.extra?.via ?? null, event.sudoDenied ?? false];
    const fromLaurel = run(createLaurelParser({ defaultHost: 'vm' }), nonEmptyLines(readFixture(`${DIR}/laurel-array.jsonl`))).events.map(view);
    const fromAuditd = parseFixture(createAuditdParser({ defaultHost: 'vm' }), `${DIR}/audit-enriched.log`).events.map(view);
    expect(fromLaurel.filter((v) => v[4] === 'sudo').length).toBeGreaterThanOrEqual(4);
    expect([...fromLaurel].sort()).toEqual([...fromAuditd].sort());
  });

  it('decodes audit-enriched.log with the auditd parser as laurel did', () => {
    const laurel = nonEmptyLines(readFixture(`${DIR}/laurel-array.jsonl`)).map((l) => JSON.parse(l) as LaurelEvent);
    checkAuditdAgainstLaurel(`${DIR}/audit-enriched.log`, laurel);
  });
});

describe('laurel on raw logs, against libauparse and the auditd parser', () => {
  for (const [path, output] of Object.entries(cachedLaurel)) {
    const expected = auparse[path]!;
    const lines = (events: LaurelEvent[]) => events.map((event) => JSON.stringify(event));

    it(`reads laurel's output for ${path} in both argv modes as auparse decodes the log`, () => {
      expect(expected).toBeDefined();
      checkArrayMode(lines(output.array), expected);
      checkStringMode(lines(output.string), expected);
    });

    it(`reads laurel's output for ${path} where execve-argv-limit-bytes cut arguments out`, () => {
      const cut = checkCutEvents(lines(output['array-limited']), expected);
      expect(checkCutEvents(lines(output['string-limited']), expected)).toBe(cut);
      if (path.startsWith(DIR)) expect(cut).toBeGreaterThan(0);
    });

    it(`decodes ${path} with the auditd parser as laurel does`, () => {
      checkAuditdAgainstLaurel(path, output.array);
    });
  }

  it('has a cached laurel answer that is current', (context) => {
    const result = runTool('/usr/bin/python3', ['test/oracle/laurel-oracle.py', ...Object.keys(cachedLaurel)]);
    if ('missing' in result) {
      context.skip(`laurel oracle not available (install laurel): ${result.missing}`);
      return;
    }
    expect(JSON.parse(result.stdout)).toEqual(cachedLaurel);
  });
});
