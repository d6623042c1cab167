import { describe, expect, it } from 'vitest';
import { planDay } from '../../bench/replay-day-plan.js';
import { runReplayBenchmark } from '../../bench/replay-day.js';
import { replaySection } from '../../bench/results-markdown.js';

describe('the replay benchmark of a working day', () => {
  it('plans a seeded day: the same seed gives the same day, with the eight activities and nine attacks', () => {
    const first = planDay({ seed: 5, commands: 2000, hosts: 10 });
    const again = planDay({ seed: 5, commands: 2000, hosts: 10 });
    expect(again.commands).toEqual(first.commands);
    expect(first.activities).toHaveLength(8);
    expect(first.attacks).toHaveLength(9);
    expect(first.commands.length).toBeGreaterThan(1900);
    const times = first.commands.map((c) => c.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
    // The deploy runs on every host, one login each.
    const deploy = first.commands.filter((c) => c.label.kind === 'legit' && c.label.activity.startsWith('fleet deploy'));
    expect(new Set(deploy.map((c) => c.host)).size).toBe(10);
    expect(new Set(deploy.map((c) => c.session)).size).toBe(10);
    // Cron runs with no login user.
    expect(first.commands.some((c) => c.label.kind === 'system' && c.login === 'unset' && c.uid === 4294967295)).toBe(true);
  });

  it('replays a small day through the service and computes every figure from what Slack and Duo saw', async () => {
    const result = await runReplayBenchmark({
      databaseUrl: process.env.TEST_DATABASE_URL ?? null,
      seed: 7,
      commands: 600,
      hosts: 2,
      burstHits: 60,
      burstPeople: 6,
      log: () => undefined,
    });
    expect(result.commands).toBeGreaterThan(250);
    expect(Object.keys(result.dmsPerPerson).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']);
    expect(result.maxDms).toBe(Math.max(...Object.values(result.dmsPerPerson)));
    expect(result.maxDms).toBeGreaterThan(0);
    expect(result.attacks).toHaveLength(9);
    for (const attack of result.attacks) {
      expect(attack.commands).toBeGreaterThan(0);
      expect(attack.missed).toBe(attack.escalatedCommands < attack.commands);
    }
    expect(result.attacksMissed).toBe(result.attacks.filter((a) => a.missed).length);
    // Every attack ended in front of a human: the channel carries one post per escalated one.
    expect(result.posts.escalation).toBeGreaterThan(0);
    expect(result.activities).toHaveLength(8);
    const cleared = result.activities.filter((a) => a.cleared);
    expect(cleared.length).toBeGreaterThan(0);
    for (const activity of cleared) {
      expect(activity.clicks).toBeGreaterThanOrEqual(2);
      expect(activity.sentences).toBeGreaterThanOrEqual(1);
      expect(activity.taps).toBeGreaterThanOrEqual(1);
    }
    expect(result.burst.maxDmsFirstMinute).toBeGreaterThan(0);
    expect(result.burst.maxDmsFirstMinute).toBeLessThanOrEqual(10);
    // The page states each figure against its goal.
    const page = replaySection(result).join('\n');
    expect(page).toContain(`| max ${result.maxDms} (`);
    expect(page).toMatch(new RegExp(`Every attack escalated \\| ${result.attacksMissed} of 9 missed \\| (PASS|\\*\\*FAIL\\*\\*) \\|`));
    expect(page).toContain('fleet deploy (curl \\| sh on every host)');
  }, 300_000);
});
