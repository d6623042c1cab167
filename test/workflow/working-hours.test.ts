import { describe, expect, it } from 'vitest';
import { isKnownTimeZone, nextWorkingStart, parseWorkingHours } from '../../src/workflow/working-hours.js';

const KEY = 'workflow.working_hours';

describe('working hours', () => {
  const weekdays = parseWorkingHours('09:00-18:00 Mon-Fri', KEY);

  it('parses ranges, lists and a missing day list', () => {
    expect(weekdays).toMatchObject({ startMinute: 540, endMinute: 1080, days: new Set([1, 2, 3, 4, 5]) });
    expect(parseWorkingHours('08:30-17:00 Mon,Wed-Thu', KEY).days).toEqual(new Set([1, 3, 4]));
    expect(parseWorkingHours('10:00-24:00', KEY).days.size).toBe(7);
    expect(parseWorkingHours('09:00-17:00 Fri-Mon', KEY).days).toEqual(new Set([5, 6, 0, 1]));
  });

  it.each([
    ['9-18', /not a working-hours range/],
    ['09:00-18:00 Mon-Fry', /"Fry" is not a weekday/],
    ['18:00-09:00 Mon-Fri', /must end after it starts/],
    ['09:00-25:00', /25:00 is not a time of day/],
    ['09:60-18:00', /09:60 is not a time of day/],
    ['09:00-18:00 Mon--Fri', /is not a weekday or a range/],
    [42, /must be a string/],
  ])('refuses %j', (value, message) => {
    expect(() => parseWorkingHours(value, KEY)).toThrow(message);
    expect(() => parseWorkingHours(value, KEY)).toThrow(/workflow\.working_hours/);
  });

  it('inside working hours is now', () => {
    const now = new Date('2026-11-24T15:00:00Z'); // Tuesday 10:00 in New York
    expect(nextWorkingStart(now, weekdays, 'America/New_York')).toEqual(now);
  });

  it('before the day starts: that morning; after it ends: the next working morning', () => {
    expect(nextWorkingStart(new Date('2026-11-24T09:00:00Z'), weekdays, 'America/New_York').toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(nextWorkingStart(new Date('2026-11-24T23:30:00Z'), weekdays, 'America/New_York').toISOString()).toBe('2026-11-25T14:00:00.000Z');
  });

  it('Friday evening waits for Monday', () => {
    // Friday 27 Nov 2026, 19:00 in Tokyo.
    expect(nextWorkingStart(new Date('2026-11-27T10:00:00Z'), weekdays, 'Asia/Tokyo').toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('follows daylight saving time', () => {
    // Sunday 29 March 2026: Paris moved to UTC+2 overnight; Monday 09:00 is 07:00 UTC.
    expect(nextWorkingStart(new Date('2026-03-29T12:00:00Z'), weekdays, 'Europe/Paris').toISOString()).toBe('2026-03-30T07:00:00.000Z');
    // Saturday 24 October 2026 in Paris is still UTC+2; Monday 26th is UTC+1, so 09:00 is 08:00 UTC.
    expect(nextWorkingStart(new Date('2026-10-24T12:00:00Z'), weekdays, 'Europe/Paris').toISOString()).toBe('2026-10-26T08:00:00.000Z');
  });

  it('knows real zones from made-up ones', () => {
    expect(isKnownTimeZone('Europe/Paris')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
  });
});
