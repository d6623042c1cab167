/**
 * laurel and libauparse against each other and against the laurel parser: the laurel samples are
 * laurel's own decoding (as auditd's plugin, in both argv modes) of the very events in
 * audit-enriched.log, which libauparse decoded into auparse-oracle.json. Every exec event must come
 * out of the laurel parser as auparse says, argument for argument.
 */
import { describe, expect, it } from 'vitest';
import { createLaurelParser } from '../../src/sources/parsers/laurel.js';
import { auditIdOf, parseFixture, readCachedOracle, type AuparseEvent } from './oracle-support.js';

const DIR = 'test/fixtures/real/auditd';
const expected = readCachedOracle<Record<string, AuparseEvent[]>>('auparse-oracle.json')[`${DIR}/audit-enriched.log`]!;

/** What both decoders must agree on; a failed execve has no EXECVE, so its program is PATH item 0. */
const oracleView = (want: AuparseEvent) => ({
  id: want.id,
  command: (want.argv.length > 0 || want.path0 === null ? want.argv : [want.path0]).join(' '),
  exe: want.exe,
  cwd: want.cwd,
  auid: want.auid,
  runAs: want.euid_name,
});

function decode(file: string) {
  const { events, malformed } = parseFixture(createLaurelParser({ defaultHost: 'vm' }), `${DIR}/${file}`);
  expect(malformed).toEqual([]);
  return new Map(events.map((event) => [auditIdOf(event), event]));
}

describe('laurel parser against libauparse, on the same events', () => {
  it('has the events to compare', () => {
    expect(expected.length).toBeGreaterThan(40);
  });

  it('reads laurel\'s execve-argv = ["array"] output argument for argument', () => {
    const byId = decode('laurel-array.jsonl');
    const decoded = expected.map((want) => {
      const event = byId.get(want.id);
      const argv = want.argv.length > 0 || want.path0 === null ? want.argv : [want.path0];
      return { ...oracleView(want), argv, found: event !== undefined };
    });
    const ours = expected.map((want) => {
      const event = byId.get(want.id);
      if (event === undefined) return { id: want.id, found: false };
      const view = { id: want.id, command: event.command, exe: event.exe, cwd: event.cwd };
      return { ...view, auid: event.loginUid, runAs: event.runAs, argv: event.argv, found: true };
    });
    expect(ours).toEqual(decoded);
    expect(byId.size).toBe(expected.length);
  });

  it('reads laurel\'s execve-argv = ["string"] output: the exact command line, and argv where spaces do not blur it', () => {
    const byId = decode('laurel-string.jsonl');
    const ours = expected.map((want) => {
      const event = byId.get(want.id);
      if (event === undefined) return { id: want.id, missing: true };
      const view = { id: want.id, command: event.command, exe: event.exe, cwd: event.cwd };
      return { ...view, auid: event.loginUid, runAs: event.runAs };
    });
    expect(ours).toEqual(expected.map(oracleView));
    for (const want of expected) {
      const event = byId.get(want.id)!;
      if (want.argv.length === 0) continue;
      if (event.extra?.argv_inexact === 'true') {
        // Only where an argument held a space, and the process title was cut short.
        expect(want.argv.some((a) => a.includes(' '))).toBe(true);
      } else {
        expect({ id: want.id, argv: event.argv }).toEqual({ id: want.id, argv: want.argv });
      }
    }
    // Arguments with spaces come back exactly when the process title holds them all (it is cut at
    // 128 bytes, and loses empty arguments).
    const rescued = expected.filter(
      (want) => want.argv.some((a) => a.includes(' ')) && byId.get(want.id)?.extra?.argv_inexact === undefined,
    );
    expect(rescued.map((want) => want.argv.slice(0, 2))).toContainEqual(['bash', '-c']);
  });
});
