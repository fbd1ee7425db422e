import { describe, expect, it } from 'vitest';
import { exactTime, relativeTime } from './time';

const NOW = new Date(2026, 10, 25, 12, 0, 0).getTime();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('relativeTime', () => {
  it.each([
    [10_000, 'just now'],
    [MIN, '1 minute ago'],
    [5 * MIN, '5 minutes ago'],
    [HOUR, '1 hour ago'],
    [3 * HOUR, '3 hours ago'],
    [DAY + HOUR, 'yesterday'],
    [3 * DAY, '3 days ago'],
    [8 * DAY, 'last week'],
    [15 * DAY, '2 weeks ago'],
  ])('%i ms ago reads "%s"', (ago, text) => {
    expect(relativeTime(NOW - ago, NOW)).toBe(text);
  });

  it('gives a date for older things, with the year when it is not this year', () => {
    expect(relativeTime(NOW - 60 * DAY, NOW)).not.toMatch(/ago/);
    expect(relativeTime(new Date(2024, 2, 3).getTime(), NOW)).toMatch(/2024/);
  });

  it('treats slightly future times (clock skew between members) as now', () => {
    expect(relativeTime(NOW + 5_000, NOW)).toBe('just now');
  });

  it('says how far ahead a future date is (an invite expiring)', () => {
    expect(relativeTime(NOW + 7 * DAY, NOW)).toBe('in 7 days');
    expect(relativeTime(NOW + 2 * HOUR, NOW)).toBe('in 2 hours');
    expect(relativeTime(NOW + DAY, NOW)).toBe('tomorrow');
  });

  it('has an exact time for the hover title', () => {
    expect(exactTime(NOW)).toMatch(/2026/);
  });
});
