import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rulesTestCommand, type RulesTestResult } from '../../src/cli/rules-command.js';
import { ManualClock } from '../../src/clock.js';
import { GO_LIBAUDIT, TEST_RULES, tempDir } from './cli-fixtures.js';

const io = { clock: new ManualClock(new Date('2026-11-24T15:00:00Z')), env: {} };
let tmp: Awaited<ReturnType<typeof tempDir>>;
let rules: string;

beforeEach(async () => {
  tmp = await tempDir('vouch-rules-');
  rules = await tmp.file('rules.yml', TEST_RULES);
});

afterEach(async () => {
  await tmp.cleanup();
});

const event = (argv: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ time: '2026-01-01T00:00:00Z', host: 'web-1', user: 'alice', run_as: 'root', argv, ...extra });

describe('rules test', () => {
  it('counts hits and exception-suppressed hits per rule, with distinct redacted samples, in JSON', async () => {
    const log = await tmp.file('replay.jsonl', [
      event(['grep', 'a']),
      event(['grep', 'a']),
      event(['grep', 'b']),
      event(['cat', '/etc/passwd']),
      event(['cat', 'securitybeat']),
      event(['mysql', '-uroot', '-pHunter2Secret', 'prod']),
      event(['ls']),
      '{"time": oops',
    ].join('\n') + '\n');
    const out = await rulesTestCommand(log, { format: 'auto', rules, samples: '5', json: true }, io);
    const result = JSON.parse(out) as RulesTestResult;
    expect(result).toMatchObject({ file: log, format: 'json', events: 7, matched_events: 5, malformed: { bad_json: 1 } });
    const byId = new Map(result.rules.map((rule) => [rule.id, rule]));
    expect(byId.get('grep-used')).toMatchObject({ hits: 3, suppressed: 0, samples: ['grep a', 'grep b'], severity: 'low', mode: 'alert' });
    expect(byId.get('cat-secret')).toMatchObject({ hits: 1, suppressed: 1, samples: ['cat /etc/passwd'] });
    expect(byId.get('mysql-client')?.samples).toEqual(['mysql -uroot -p[REDACTED] prod']);
    expect(byId.get('never-hits')).toMatchObject({ hits: 0, samples: [] });
    // Noisiest first, silent rules last.
    expect(result.rules.map((rule) => rule.id)).toEqual(['grep-used', 'cat-secret', 'mysql-client', 'never-hits']);
    expect(out).not.toContain('Hunter2Secret');
  });

  it('prints a readable table with samples, silent rules and totals, escaping hostile samples', async () => {
    const log = await tmp.file('replay.jsonl', [event(['grep', 'x\u001b[2Jy']), event(['grep', 'z']), event(['grep', 'third'])].join('\n') + '\n');
    const text = await rulesTestCommand(log, { format: 'json', rules, samples: '2' }, io);
    expect(text).toContain('(json): 3 command events, 3 matched by at least one rule');
    expect(text).toMatch(/^\s+3 {2}grep-used: grep was run \(low\)$/m);
    expect(text).toContain('grep x\\x1b[2Jy');
    expect(text).toContain('grep z');
    expect(text).not.toContain('grep third');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('3 rules with no hits: cat-secret, never-hits, mysql-client');
    expect(text).toContain('totals: 4 rules, 1 rule with hits, 3 hits, 0 malformed lines');
  });

  it('replays the go-libaudit samples through the default pack, listing every rule', async () => {
    const text = await rulesTestCommand(path.join(GO_LIBAUDIT, 'audit-rhel7.log'), { format: 'auditd', samples: '3' }, io);
    expect(text).toMatch(/audit-rhel7\.log \(auditd\): \d+ command events/);
    expect(text).toMatch(/rules with no hits: .*shadow-read/);
    // One event cut short, and four execs whose SYSCALL record the sample left out.
    expect(text).toMatch(/malformed lines by reason:\n(\s+\d+\s+\w+\n)*\s+5\s+incomplete_event/);
  });

  it('rejects a sample count that is not a number from 0 to 100', async () => {
    const log = await tmp.file('empty.log', '');
    await expect(rulesTestCommand(log, { format: 'auto', samples: 'many' }, io)).rejects.toThrow(/--samples: "many"/);
    await expect(rulesTestCommand(log, { format: 'auto', samples: '101' }, io)).rejects.toThrow(/--samples/);
  });
});
