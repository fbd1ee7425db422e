import { describe, expect, it } from 'vitest';
import { adjustSelection, diffRegion, mapPosition, rebase } from './text';

describe('diffRegion', () => {
  it('finds the one changed region', () => {
    expect(diffRegion('hello world', 'hello brave world')).toEqual({ start: 6, endA: 6, endB: 12 });
    expect(diffRegion('abc', 'abc')).toEqual({ start: 3, endA: 3, endB: 3 });
    expect(diffRegion('aaa', 'aa')).toEqual({ start: 2, endA: 3, endB: 2 });
  });
});

describe('caret preservation', () => {
  it('keeps a caret before text inserted later in the document', () => {
    expect(mapPosition('one two', 'one two three', 3)).toBe(3);
  });

  it('moves a caret after text inserted earlier in the document', () => {
    const before = 'Intro.\nMy paragraph';
    const after = 'Intro, rewritten.\nMy paragraph';
    const caret = before.indexOf('paragraph');
    expect(after.slice(mapPosition(before, after, caret))).toBe('paragraph');
  });

  it('moves a selection with deleted text before it', () => {
    const before = 'remove me. keep this';
    const after = 'keep this';
    const sel = adjustSelection(before, after, before.indexOf('keep'), before.length);
    expect(after.slice(sel.start, sel.end)).toBe('keep this');
  });

  it('puts a caret inside replaced text at the end of the replacement', () => {
    expect(mapPosition('a XXX b', 'a YY b', 4)).toBe(4);
  });
});

describe('rebase', () => {
  it('replays a local insertion on top of a remote one elsewhere', () => {
    expect(rebase('one two', 'one! two', 'one two three')).toBe('one! two three');
  });

  it('keeps both when they touch different ends', () => {
    expect(rebase('middle', 'start middle', 'middle end')).toBe('start middle end');
  });

  it('is the identity when either side did nothing', () => {
    expect(rebase('x', 'x', 'xy')).toBe('xy');
    expect(rebase('x', 'xz', 'x')).toBe('xz');
  });
});
