// Small text arithmetic for the entry editor: where two versions of a text differ, where a
// caret goes when someone else's text arrives, and how a local edit is replayed on top of it.

/** The one region where `a` and `b` differ: `a[start, endA)` became `b[start, endB)`. */
export interface Splice {
  start: number;
  endA: number;
  endB: number;
}

export function diffRegion(a: string, b: string): Splice {
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  return { start: p, endA: a.length - s, endB: b.length - s };
}

/** Where position `pos` of `before` is in `after`. */
export function mapPosition(before: string, after: string, pos: number): number {
  const d = diffRegion(before, after);
  if (pos <= d.start) return pos;
  if (pos >= d.endA) return pos + (after.length - before.length);
  // Inside text that was replaced: keep the caret at the end of what replaced it.
  return d.endB;
}

export function adjustSelection(
  before: string,
  after: string,
  start: number,
  end: number,
): { start: number; end: number } {
  return { start: mapPosition(before, after, start), end: mapPosition(before, after, end) };
}

/**
 * Replays the local edit `base → mine` on top of `theirs` (which also started from `base`).
 * Used when a save came back with other members' text merged in while more was typed here.
 */
export function rebase(base: string, mine: string, theirs: string): string {
  if (mine === base) return theirs;
  if (theirs === base) return mine;
  const m = diffRegion(base, mine);
  const inserted = mine.slice(m.start, m.endB);
  const start = mapPosition(base, theirs, m.start);
  const end = Math.max(start, mapPosition(base, theirs, m.endA));
  return theirs.slice(0, start) + inserted + theirs.slice(end);
}
