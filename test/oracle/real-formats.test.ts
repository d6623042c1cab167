/**
 * `--format auto` on every real sample: it must pick a parser that reads the file as its own
 * format's parser does, with nothing reported malformed (but the journald entries it refuses).
 */
import { describe, expect, it } from 'vitest';
import { openLog } from '../../src/sources/read-log.js';
import { createAutoParser, createParser } from '../../src/sources/parsers/index.js';
import { parseFixture } from './oracle-support.js';

const NOW = new Date('2026-12-02T00:00:00Z');
const options = { defaultHost: 'vm' };

const SAMPLES = [
  ['test/fixtures/real/sudo/auth.log', 'sudo'],
  ['test/fixtures/real/sudo/auth-traditional.log', 'sudo'],
  ['test/fixtures/real/sudo/auth-json.log', 'sudo-json'],
  ['test/fixtures/real/sudo/journal.json', 'sudo-journald'],
  ['test/fixtures/real/auditd/audit-raw.log', 'auditd'],
  ['test/fixtures/real/auditd/audit-enriched.log', 'auditd'],
  ['test/fixtures/real/auditd/laurel-array.jsonl', 'laurel'],
  ['test/fixtures/real/auditd/laurel-string.jsonl', 'laurel'],
] as const;

describe('format detection on the real samples', () => {
  for (const [path, format] of SAMPLES) {
    it(`reads ${path} as ${format} does`, () => {
      const explicit = parseFixture(createParser(format, options), path, NOW);
      const auto = parseFixture(createAutoParser(options), path, NOW);
      // Only journald entries whose sender it could not see are refused (see sudo-oracle.test.ts).
      const unexpected = (m: { reason: string }) => m.reason !== 'untrusted_source' || format !== 'sudo-journald';
      expect(explicit.malformed.filter(unexpected)).toEqual([]);
      expect(auto.malformed).toEqual(explicit.malformed);
      expect(explicit.events.length).toBeGreaterThan(0);
      const view = (e: { argv: string[]; user: string | null; cwd: string | null }) => [e.user, e.cwd, e.argv];
      expect(auto.events.map(view)).toEqual(explicit.events.map(view));
    });
  }

  for (const [path, format] of SAMPLES) {
    it(`reads ${path} as ${format} does when a command opens it with only that parser loaded`, async () => {
      const explicit = parseFixture(createParser(format, options), path, NOW);
      const log = await openLog(path, { format: 'auto', parser: options, clock: { now: () => NOW } });
      const events = [];
      const malformed = [];
      for await (const batch of log) {
        events.push(...batch.events);
        malformed.push(...batch.malformed);
      }
      expect(log.format).toBe(format);
      expect(malformed.map((m) => [m.reason, m.offset])).toEqual(explicit.malformed.map((m) => [m.reason, m.offset]));
      expect(events).toEqual(explicit.events);
    });
  }
});
