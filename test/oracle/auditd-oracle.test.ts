/**
 * libauparse (the Linux audit userspace's own parser) as an oracle for the auditd parser: every
 * exec event of the raw auditd fixtures, argument for argument. The oracle's answer is cached in
 * auparse-oracle.json (made by auparse-oracle.py); the second test re-runs the oracle when
 * python3-audit is installed and checks the cache is current.
 */
import { describe, expect, it } from 'vitest';
import { createAuditdParser } from '../../src/sources/parsers/auditd.js';
import { auditIdOf, parseFixture, readCachedOracle, runTool } from './oracle-support.js';

/** One exec event as auparse decodes it. */
export interface AuparseEvent {
  id: string;
  argv: string[];
  exe: string | null;
  cwd: string | null;
  auid: number | null;
  uid: number | null;
  euid: number | null;
  path0: string | null;
  euid_name: string | null;
}

const cached = readCachedOracle<Record<string, AuparseEvent[]>>('auparse-oracle.json');

describe('auditd parser against libauparse', () => {
  for (const [path, expected] of Object.entries(cached)) {
    it(`decodes every exec event of ${path} as auparse does`, () => {
      const { events, malformed } = parseFixture(createAuditdParser({ defaultHost: 'vm' }), path);
      expect(malformed).toEqual([]);
      expect(events).toHaveLength(expected.length);
      const byId = new Map(events.map((event) => [auditIdOf(event), event]));
      const decoded = expected.map((want) => {
        const event = byId.get(want.id);
        return event === undefined
          ? { id: want.id, missing: true }
          : {
              id: want.id,
              argv: event.argv,
              exe: event.exe,
              cwd: event.cwd,
              auid: event.loginUid,
              // The euid is named from the log when it is ENRICHED, and is its number otherwise.
              runAs: event.runAs,
            };
      });
      const oracle = expected.map((want) => ({
        id: want.id,
        // A failed execve has no EXECVE record: the program it tried is the PATH item 0.
        argv: want.argv.length > 0 || want.path0 === null ? want.argv : [want.path0],
        exe: want.exe,
        cwd: want.cwd,
        auid: want.auid,
        runAs: want.euid_name ?? (want.euid === null ? null : String(want.euid)),
      }));
      expect(decoded).toEqual(oracle);
    });
  }

  it('has a cached oracle answer that is current', (context) => {
    const result = runTool('/usr/bin/python3', ['test/oracle/auparse-oracle.py', ...Object.keys(cached)]);
    if ('missing' in result) {
      context.skip(`libauparse oracle not available (install python3-audit): ${result.missing}`);
      return;
    }
    expect(JSON.parse(result.stdout)).toEqual(cached);
  });
});
