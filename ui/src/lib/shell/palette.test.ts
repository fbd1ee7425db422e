import { describe, expect, it } from 'vitest';
import { filterPalette, type PaletteItem } from './palette';

const item = (id: string, label: string, group = 'Thread', hint = ''): PaletteItem => ({ id, label, group, hint, run: () => {} });

const items = [
  item('home', 'Home', 'Go to'),
  item('threads', 'Threads', 'Go to'),
  item('t1', 'Night shift handover checklist', 'Thread', 'Problem #handover'),
  item('t2', 'Which dressing for a grade 3 ulcer?', 'Thread', 'Request #dressings'),
  item('e1', 'Handover in five steps', 'Entry', 'Method'),
];

describe('filterPalette', () => {
  it('offers everything for an empty query', () => {
    expect(filterPalette(items, '  ')).toHaveLength(5);
  });

  it('matches every word, in any order, case-insensitively', () => {
    expect(filterPalette(items, 'HANDOVER night').map((i) => i.id)).toEqual(['t1']);
  });

  it('ranks labels starting with the query first', () => {
    expect(filterPalette(items, 'handover').map((i) => i.id)).toEqual(['e1', 't1']);
  });

  it('searches hints (kinds and tags) too', () => {
    expect(filterPalette(items, '#dressings').map((i) => i.id)).toEqual(['t2']);
    expect(filterPalette(items, 'method').map((i) => i.id)).toEqual(['e1']);
  });

  it('finds nothing for words nowhere', () => {
    expect(filterPalette(items, 'zebra')).toEqual([]);
  });

  it('copes with characters that mean something in patterns', () => {
    expect(filterPalette(items, 'ulcer?').map((i) => i.id)).toEqual(['t2']);
  });
});
