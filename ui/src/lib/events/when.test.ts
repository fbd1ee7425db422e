import { describe, expect, it } from 'vitest';
import { addMonths, city, endOfDayIn, lengthWords, monthGrid, recurWords, repeatChoices, splitEnds, startOfMonth, wallClock } from './when';

describe('event times', () => {
  it('reads a wall clock in a zone, across a DST change', () => {
    // 2026-11-01 is when Toronto goes back to standard time.
    expect(wallClock(Date.UTC(2026, 9, 29, 19, 0), 'America/Toronto')).toBe('2026-10-29T15:00');
    expect(wallClock(Date.UTC(2026, 10, 5, 20, 0), 'America/Toronto')).toBe('2026-11-05T15:00');
    expect(wallClock(Date.UTC(2026, 11, 3, 14, 0), 'UTC')).toBe('2026-12-03T14:00');
  });

  it('says recurrences and lengths in words', () => {
    expect(recurWords('FREQ=WEEKLY')).toBe('Every week');
    expect(recurWords('FREQ=MONTHLY;INTERVAL=2;BYDAY=1TH')).toBe('Every 2 months on the first Thursday');
    expect(recurWords('FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6')).toBe('Every week on Tuesday and Thursday, 6 times');
    expect(recurWords(null)).toBeNull();
    expect(lengthWords(90)).toBe('1 hour 30 minutes');
    expect(lengthWords(45)).toBe('45 minutes');
    expect(lengthWords(2880)).toBe('2 days');
    expect(city('America/Argentina/Buenos_Aires')).toBe('Buenos Aires');
  });

  it('says every ordinal, interval and end of a recurrence', () => {
    expect(recurWords('FREQ=MONTHLY;BYDAY=2TH')).toBe('Every month on the second Thursday');
    expect(recurWords('FREQ=MONTHLY;BYDAY=-1FR')).toBe('Every month on the last Friday');
    expect(recurWords('FREQ=MONTHLY;BYDAY=+3MO')).toBe('Every month on the third Monday');
    const ords = ['first', 'second', 'third', 'fourth', 'fifth'];
    const back = ['last', 'second-to-last', 'third-to-last', 'fourth-to-last', 'fifth-to-last'];
    for (let n = 1; n <= 5; n++) {
      expect(recurWords(`FREQ=MONTHLY;BYDAY=${n}WE`)).toBe(`Every month on the ${ords[n - 1]} Wednesday`);
      expect(recurWords(`FREQ=MONTHLY;BYDAY=-${n}WE`)).toBe(`Every month on the ${back[n - 1]} Wednesday`);
    }
    expect(recurWords('FREQ=MONTHLY;BYDAY=1TU,3TU')).toBe('Every month on the first Tuesday and the third Tuesday');
    expect(recurWords('FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1')).toBe('Every month on the last Thursday');
    expect(recurWords('FREQ=MONTHLY;BYMONTHDAY=14')).toBe('Every month on day 14');
    expect(recurWords('FREQ=MONTHLY;BYMONTHDAY=-1')).toBe('Every month on the last day');
    expect(recurWords('FREQ=MONTHLY;BYMONTHDAY=1,15')).toBe('Every month on day 1 and day 15');
    expect(recurWords('FREQ=MONTHLY;INTERVAL=3;COUNT=1')).toBe('Every 3 months, once');
    expect(recurWords('FREQ=WEEKLY;INTERVAL=2;UNTIL=20270630T215959Z')).toBe('Every 2 weeks until 30 June 2027');
    expect(recurWords('FREQ=DAILY;UNTIL=20270105')).toBe('Every day until 5 January 2027');
    expect(recurWords('FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14')).toBe('Every year in March on day 14');
    // The day a rule leaves to the start is said when the start is known.
    const thu = Date.UTC(2026, 4, 14, 15, 0); // Thursday 14 May 2026, 15:00 UTC
    expect(recurWords('FREQ=WEEKLY', thu, 'UTC')).toBe('Every week on Thursday');
    expect(recurWords('FREQ=WEEKLY;INTERVAL=2', thu, 'UTC')).toBe('Every 2 weeks on Thursday');
    expect(recurWords('FREQ=MONTHLY', thu, 'UTC')).toBe('Every month on day 14');
    expect(recurWords('FREQ=YEARLY', thu, 'UTC')).toBe('Every year on 14 May');
    // The organiser's day, not the viewer's: 23:30 UTC on Thursday is Friday in Tokyo.
    expect(recurWords('FREQ=WEEKLY', Date.UTC(2026, 4, 14, 23, 30), 'Asia/Tokyo')).toBe('Every week on Friday');
    // A part the words do not cover is shown as written rather than dropped.
    expect(recurWords('FREQ=YEARLY;BYWEEKNO=20')).toBe('Every year (FREQ=YEARLY;BYWEEKNO=20)');
    expect(recurWords('FREQ=HOURLY')).toBe('FREQ=HOURLY');
  });

  it('offers the patterns that fit the chosen date, each said as it will be shown', () => {
    const keys = (d: string) => repeatChoices(d).map((c) => `${c.key}: ${c.label} = ${c.rule}`);
    // Thursday 14 May 2026: the second Thursday, not the last.
    expect(keys('2026-05-14')).toEqual([
      'weekly: Every week on Thursday = FREQ=WEEKLY',
      'biweekly: Every 2 weeks on Thursday = FREQ=WEEKLY;INTERVAL=2',
      'monthly-day: Monthly on day 14 = FREQ=MONTHLY',
      'monthly-nth: Monthly on the second Thursday = FREQ=MONTHLY;BYDAY=2TH',
      'yearly: Every year on 14 May = FREQ=YEARLY',
    ]);
    // Thursday 28 May 2026: both the fourth and the last Thursday.
    expect(keys('2026-05-28').filter((k) => k.startsWith('monthly'))).toEqual([
      'monthly-day: Monthly on day 28 = FREQ=MONTHLY',
      'monthly-nth: Monthly on the fourth Thursday = FREQ=MONTHLY;BYDAY=4TH',
      'monthly-last: Monthly on the last Thursday = FREQ=MONTHLY;BYDAY=-1TH',
    ]);
    // Friday 29 May 2026 is the fifth Friday: only "last" is offered, as most months have no fifth.
    expect(keys('2026-05-29').filter((k) => k.startsWith('monthly-'))).toEqual([
      'monthly-day: Monthly on day 29 (months without one are skipped) = FREQ=MONTHLY',
      'monthly-last: Monthly on the last Friday = FREQ=MONTHLY;BYDAY=-1FR',
    ]);
    // Every label matches what the event panel will say of the rule.
    for (const c of repeatChoices('2026-05-28')) {
      const said = recurWords(c.rule, Date.UTC(2026, 4, 28, 12), 'UTC')!;
      expect(c.label.replace(/^Monthly/, 'Every month').replace(/ \(months.*\)$/, '')).toBe(said);
    }
    expect(repeatChoices('')).toEqual([]);
  });

  it('splits the end off a rule and ends a series at the close of a day in the organiser zone', () => {
    expect(splitEnds('FREQ=MONTHLY;BYDAY=2TH;COUNT=6')).toEqual({ base: 'FREQ=MONTHLY;BYDAY=2TH', count: 6, until: null });
    expect(splitEnds('FREQ=WEEKLY;UNTIL=20270630T215959Z')).toEqual({ base: 'FREQ=WEEKLY', count: null, until: '20270630T215959Z' });
    expect(splitEnds('FREQ=WEEKLY')).toEqual({ base: 'FREQ=WEEKLY', count: null, until: null });
    // 30 June 2027 ends at 23:59:59 in Oslo (UTC+2 in summer), 21:59:59 UTC.
    expect(endOfDayIn('2027-06-30', 'Europe/Oslo')).toBe('20270630T215959Z');
    expect(endOfDayIn('2027-01-05', 'America/Toronto')).toBe('20270106T045959Z');
    expect(endOfDayIn('2027-01-05', 'UTC')).toBe('20270105T235959Z');
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
