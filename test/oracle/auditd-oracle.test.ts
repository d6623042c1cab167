/**
 * The Linux audit userspace as an oracle for the auditd parser, twice over: libauparse through its
 * Python bindings, and `ausearch -i`. Every exec event of the raw auditd fixtures must come out as
 * they decode it, argument for argument. Their answers are cached (auparse-oracle.json,
 * ausearch-oracle.json, made by the scripts of the same names); the freshness tests re-run them
 * when python3-audit and auditd are installed and check the caches are current.
 */
import { describe, expect, it } from 'vitest';
import { createAuditdParser } from '../../src/sources/parsers/auditd.js';
import { auditIdOf, parseFixture, readCachedOracle, runTool, type AuparseEvent } from './oracle-support.js';


/** One exec event as `ausearch -i` decodes it (uids are named from the local passwd: not kept). */
interface AusearchEvent {
  id: string;
  argv: string[];
  exe: string | null;
  cwd: string | null;
}

const cached = readCachedOracle<Record<string, AuparseEvent[]>>('auparse-oracle.json');
const cachedAusearch = readCachedOracle<Record<string, AusearchEvent[]>>('ausearch-oracle.json');

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
        runAs: want.euid_name ?? (want.euid === null ? null : want.euid === 0 ? 'root' : String(want.euid)),
      }));
      expect(decoded).toEqual(oracle);
    });
  }

  it('has a cached libauparse answer that is current', (context) => {
    const result = runTool('/usr/bin/python3', ['test/oracle/auparse-oracle.py', ...Object.keys(cached)]);
    if ('missing' in result) {
      context.skip(`libauparse oracle not available (install python3-audit): ${result.missing}`);
      return;
    }
    expect(JSON.parse(result.stdout)).toEqual(cached);
  });
});

describe('auditd parser against ausearch -i', () => {
  it('covers the same fixtures as the libauparse oracle', () => {
    expect(Object.keys(cachedAusearch)).toEqual(Object.keys(cached));
  });

  for (const [path, expected] of Object.entries(cachedAusearch)) {
    it(`decodes every exec event of ${path} as ausearch does`, () => {
      const { events } = parseFixture(createAuditdParser({ defaultHost: 'vm' }), path);
      const byId = new Map(events.map((event) => [auditIdOf(event), event]));
      const decoded = expected.map((want) => {
        const event = byId.get(want.id);
        if (event === undefined) return { id: want.id, missing: true };
        // A failed execve has no EXECVE record, so no arguments to compare.
        return { id: want.id, argv: want.argv.length > 0 ? event.argv : [], exe: event.exe, cwd: event.cwd };
      });
      expect(decoded).toEqual(expected);
    });
  }

  it('has a cached ausearch answer that is current', (context) => {
    const result = runTool('/usr/bin/python3', ['test/oracle/ausearch-oracle.py', ...Object.keys(cachedAusearch)]);
    if ('missing' in result) {
      context.skip(`ausearch oracle not available (install auditd): ${result.missing}`);
      return;
    }
    const fresh = JSON.parse(result.stdout) as Record<string, AusearchEvent[]>;
    if (Object.values(fresh).every((events) => events.length === 0)) {
      context.skip('ausearch oracle not available (install auditd): it decoded nothing');
      return;
    }
    expect(fresh).toEqual(cachedAusearch);
  });
});
