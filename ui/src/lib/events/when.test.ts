import { describe, expect, it } from 'vitest';
import { addMonths, city, lengthWords, monthGrid, recurWords, startOfMonth, wallClock } from './when';

describe('event times', () => {
  it('reads a wall clock in a zone, across a DST change', () => {
    // 2026-11-01 is when Toronto goes back to standard time.
    expect(wallClock(Date.UTC(2026, 9, 29, 19, 0), 'America/Toronto')).toBe('2026-10-29T15:00');
    expect(wallClock(Date.UTC(2026, 10, 5, 20, 0), 'America/Toronto')).toBe('2026-11-05T15:00');
    expect(wallClock(Date.UTC(2026, 11, 3, 14, 0), 'UTC')).toBe('2026-12-03T14:00');
  });

  it('says recurrences and lengths in words', () => {
    expect(recurWords('FREQ=WEEKLY')).toBe('Every week');
    expect(recurWords('FREQ=MONTHLY;INTERVAL=2;BYDAY=1TH')).toBe('Every 2 months on Thursday');
    expect(recurWords('FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6')).toBe('Every week on Tuesday, Thursday, 6 times');
    expect(recurWords(null)).toBeNull();
    expect(lengthWords(90)).toBe('1 hour 30 minutes');
    expect(lengthWords(45)).toBe('45 minutes');
    expect(lengthWords(2880)).toBe('2 days');
    expect(city('America/Argentina/Buenos_Aires')).toBe('Buenos Aires');
  });

  it('lays a month out in six Monday-first weeks', () => {
    const dec = new Date(2026, 11, 15).getTime();
    const grid = monthGrid(startOfMonth(dec));
    expect(grid).toHaveLength(42);
    expect(new Date(grid[0]).getDay()).toBe(1);
    expect(new Date(grid[0]).getDate()).toBe(30); // Monday 30 November 2026
    expect(grid.some((d) => new Date(d).getDate() === 31 && new Date(d).getMonth() === 11)).toBe(true);
    expect(new Date(addMonths(startOfMonth(dec), 1)).getMonth()).toBe(0);
  });
});
