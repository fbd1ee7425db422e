// Which threads a list shows, and what is unread, as plain functions of the data.
import type { ActivityKind, DocId, ThreadState, ThreadSummary } from '../backend';

export interface ThreadQuery {
  activity: ActivityKind | null;
  state: ThreadState | null;
  tag: string | null;
}

export const ALL_THREADS: ThreadQuery = { activity: null, state: null, tag: null };

export function filterThreads(threads: ThreadSummary[], q: ThreadQuery): ThreadSummary[] {
  return threads
    .filter(
      (t) =>
        (q.activity === null || t.activity === q.activity) &&
        (q.state === null || (q.state === 'resolved') === t.resolved) &&
        (q.tag === null || t.tags.includes(q.tag)),
    )
    .sort((a, b) => b.last_activity - a.last_activity);
}

/** Posts (opening post included) not seen yet; a thread never opened is unread as a whole. */
export function unreadCount(t: ThreadSummary, read: { [id in DocId]?: number }): number {
  const total = t.replies + 1;
  return Math.max(0, total - (read[t.id] ?? 0));
}

/** Tags by how often they are used, most used first. */
export function tagsByUse(items: { tags: string[] }[]): string[] {
  const counts = new Map<string, number>();
  for (const i of items) for (const t of i.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
}

/** "a, b ,, c" → ["a", "b", "c"] */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim().replace(/^#/, '').toLowerCase();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}
