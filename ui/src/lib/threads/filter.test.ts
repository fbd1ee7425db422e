import { describe, expect, it } from 'vitest';
import type { ThreadSummary } from '../backend';
import { filterThreads, parseTags, tagsByUse, unreadCount } from './filter';

function t(id: string, over: Partial<ThreadSummary> = {}): ThreadSummary {
  return {
    id,
    community: 'C',
    activity: 'problem',
    title: `Thread ${id}`,
    author: 'M1',
    tags: [],
    created_at: 1000,
    last_activity: 1000,
    replies: 0,
    first_reply_at: null,
    resolved: false,
    answer: null,
    resolved_at: null,
    participants: [],
    helped: 0,
    excerpt: '',
    ...over,
  };
}

const list = [
  t('a', { activity: 'request', tags: ['dressings'], last_activity: 3000 }),
  t('b', { activity: 'problem', tags: ['dressings', 'night'], resolved: true, last_activity: 5000, replies: 3 }),
  t('c', { activity: 'story', tags: ['night'], last_activity: 4000, replies: 1 }),
  t('d', { activity: 'request', resolved: true, replies: 2, last_activity: 1000 }),
];

describe('filterThreads', () => {
  it('shows everything, newest activity first, without a filter', () => {
    expect(filterThreads(list, { activity: null, state: null, tag: null }).map((x) => x.id)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('filters by kind of activity', () => {
    expect(filterThreads(list, { activity: 'request', state: null, tag: null }).map((x) => x.id)).toEqual(['a', 'd']);
  });

  it('filters by open or resolved', () => {
    expect(filterThreads(list, { activity: null, state: 'open', tag: null }).map((x) => x.id)).toEqual(['c', 'a']);
    expect(filterThreads(list, { activity: null, state: 'resolved', tag: null }).map((x) => x.id)).toEqual(['b', 'd']);
  });

  it('filters by tag, combined with the other filters', () => {
    expect(filterThreads(list, { activity: null, state: null, tag: 'night' }).map((x) => x.id)).toEqual(['b', 'c']);
    expect(filterThreads(list, { activity: 'problem', state: 'open', tag: 'night' })).toEqual([]);
  });
});

describe('unreadCount', () => {
  it('counts the opening post and every reply of a thread never opened', () => {
    expect(unreadCount(list[1], {})).toBe(4);
  });

  it('counts only posts beyond the read mark', () => {
    expect(unreadCount(list[1], { b: 2 })).toBe(2);
    expect(unreadCount(list[1], { b: 4 })).toBe(0);
  });

  it('never goes below zero when the read mark is ahead', () => {
    expect(unreadCount(list[2], { c: 9 })).toBe(0);
  });
});

describe('helpers', () => {
  it('orders tags by use', () => {
    expect(tagsByUse(list)).toEqual(['dressings', 'night']);
  });

  it('parses comma separated tags', () => {
    expect(parseTags(' Night shifts, #handover,, night shifts ,')).toEqual(['night shifts', 'handover']);
  });
});
