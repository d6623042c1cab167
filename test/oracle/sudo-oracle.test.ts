/**
 * sudo as its own oracle: the same commands were run under sudo three times (see
 * test/fixtures/real/sudo/PROVENANCE.md), logged in sudo's text format through rsyslog (two file
 * formats) and journald, and in sudo's JSON format, whose `runargv` is the exact argument vector.
 * Every text log must decode to what the JSON log says, argument for argument.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { createSudoJournaldParser } from '../../src/sources/parsers/sudo-journald.js';
import { createSudoJsonParser } from '../../src/sources/parsers/sudo-json.js';
import { createSudoSyslogParser } from '../../src/sources/parsers/sudo-syslog.js';
import { parseFixture } from './oracle-support.js';

const DIR = 'test/fixtures/real/sudo';
/** A day after the samples were made, so RFC 3164 dates get the right year. */
const NOW = new Date('2026-12-02T00:00:00Z');
const options = { defaultHost: 'vm' };

function essentials(event: CommandEvent) {
  return {
    user: event.user,
    runAs: event.runAs,
    cwd: event.cwd,
    argv: event.argv,
    denied: event.sudoDenied === true,
    reason: event.denialReason ?? null,
  };
}

const fromJson = parseFixture(createSudoJsonParser(options), `${DIR}/auth-json.log`, NOW);

describe('sudo text logs against sudo JSON log of the same commands', () => {
  it('reads the JSON log through syslog, skipping other programs and sudo PAM messages', () => {
    expect(fromJson.malformed).toEqual([]);
    // 2 users x 9 commands, then bob: 1 allowed, 3 denied; erin: 1 denied (sudo -n is not logged).
    expect(fromJson.events).toHaveLength(23);
    expect(fromJson.events.filter((e) => e.sudoDenied).map((e) => e.denialReason)).toEqual([
      ...Array<string>(3).fill('command not allowed'),
      'user NOT in sudoers',
    ]);
  });

  const textLogs = [
    ['auth.log', createSudoSyslogParser],
    ['auth-traditional.log', createSudoSyslogParser],
    ['journal.json', createSudoJournaldParser],
  ] as const;
  for (const [file, create] of textLogs.filter(([name]) => name !== 'journal.json')) {
    it(`decodes ${file} to the JSON log's argv, user, target user and cwd`, () => {
      const { events, malformed } = parseFixture(create(options), `${DIR}/${file}`, NOW);
      expect(malformed).toEqual([]);
      expect(events.map(essentials)).toEqual(fromJson.events.map(essentials));
    });
  }

  it("decodes sudo's own log file (Defaults logfile, wrapped at 80 columns) to the JSON log's commands", () => {
    const { events, malformed } = parseFixture(createSudoSyslogParser(options), `${DIR}/sudo-logfile.log`, new Date('2026-12-08T00:00:00Z'));
    expect(malformed).toEqual([]);
    // The file also has the "a password is required" sudo writes before refusing a command (and
    // for erin's sudo -n, which sends nothing to syslog).
    const refusals = events.filter((e) => e.denialReason !== 'a password is required');
    expect(refusals.map(essentials)).toEqual(fromJson.events.map(essentials));
    expect(events.length - refusals.length).toBe(5);
    expect(new Set(events.map((e) => e.attribution))).toEqual(new Set(['shipper']));
    // dave's entries were written with log_host and log_year.
    const dave = events.filter((e) => e.user === 'dave');
    expect(dave.map((e) => [e.host, e.extra?.submit_host, e.time.getUTCFullYear()])).toEqual(dave.map(() => ['vm', 'vm', 2026]));
    const alice = events.filter((e) => e.user === 'alice');
    expect(alice.every((e) => e.time.toISOString().startsWith('2026-12-07T'))).toBe(true);
    // A wrap inside the command may have eaten a run of spaces: such argv is a best reading.
    expect(alice.find((e) => e.argv.length > 100)?.extra?.argv_inexact).toBe('true');
    expect(alice.find((e) => e.command === '/usr/bin/id')?.extra?.argv_inexact).toBeUndefined();
  });

  // sudo exits right after logging a denial, before journald reads the sender's /proc entry: those
  // entries carry no _EXE/_COMM, cannot be told from a forgery, and are refused (counted).
  it("decodes journal.json to the JSON log's commands, refusing the denials journald could not attribute", () => {
    const { events, malformed } = parseFixture(createSudoJournaldParser(options), `${DIR}/journal.json`, NOW);
    const allowed = fromJson.events.filter((e) => !e.sudoDenied);
    expect(events.filter((e) => !e.sudoDenied).map(essentials)).toEqual(allowed.map(essentials));
    expect(malformed.every((m) => m.reason === 'untrusted_source' && m.detail?.includes('no _EXE or _COMM'))).toBe(true);
    const bytes = readFileSync(`${DIR}/journal.json`);
    const messageAt = (offset: number) => String(JSON.parse(bytes.toString('utf8', offset, bytes.indexOf(10, offset))).MESSAGE);
    const refusedCommands = malformed.filter((m) => messageAt(m.offset!).includes('COMMAND=')).length;
    expect(refusedCommands).toBeGreaterThan(0);
    expect(events.length + refusedCommands).toBe(fromJson.events.length);
  });

  it('reads the JSON messages rsyslog cut short as far as they go, marked truncated', () => {
    const cut = fromJson.events.filter((e) => e.extra?.truncated === 'true');
    expect(cut.map((e) => [e.user, e.argv[0], e.argv[1]])).toEqual([
      ['alice', '/bin/echo', 'huge'],
      ['dave', '/bin/echo', 'huge'],
    ]);
    // rsyslog cut them inside runenv, which sudo writes after runargv: the arguments are whole.
    for (const event of cut) expect(event.argv).toEqual(['/bin/echo', 'huge', 'z'.repeat(6000)]);
  });
});
