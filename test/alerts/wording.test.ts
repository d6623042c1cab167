import { describe, expect, it } from 'vitest';
import { humanDuration, outcomeLabel, secondFactorSentence } from '../../src/alerts/wording.js';

describe('human wording', () => {
  it.each([
    [2 * 3_600_000, '2 hours'],
    [90 * 60_000, '1 hour 30 minutes'],
    [60_000, '1 minute'],
    [45_000, '45 seconds'],
    [86_400_000 + 3_600_000 + 60_000, '1 day 1 hour'],
    [200, 'a moment'],
  ])('%i ms reads "%s"', (ms, words) => {
    expect(humanDuration(ms)).toBe(words);
  });

  it('turns second-factor codes into sentences', () => {
    expect(secondFactorSentence('no_device')).toBe('no phone enrolled in Duo: ask IT to enroll you');
    expect(secondFactorSentence('timeout')).toBe('the Duo push was not answered in time');
    expect(secondFactorSentence('strange')).toBe('Duo answered "strange"');
  });

  it('labels outcomes in words', () => {
    expect(outcomeLabel({ status: 'verified', escalationReason: null, secondFactor: 'allow' })).toBe('Verified: confirmed and approved on Duo');
    expect(outcomeLabel({ status: 'escalated', escalationReason: 'no_response', secondFactor: null })).toBe('Escalated: no answer from the owner');
    expect(outcomeLabel({ status: 'escalated', escalationReason: 'second_factor_failed', secondFactor: 'deny' })).toBe('Escalated: the Duo push was denied');
  });
});
