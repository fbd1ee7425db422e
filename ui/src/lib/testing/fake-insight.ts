// What the fake node answers for events and the cultivating screens: the same shapes as the
// real node, computed simply from the fake's threads, entries and events. The real figures
// come from `commonplace_insight`, tested in Rust; this only has to be consistent enough for
// the screens' tests and the demo.
import type {
  Community,
  Entry,
  Event,
  EventSummary,
  Expertise,
  Gaps,
  HealthReport,
  Level,
  LevelCounts,
  LevelThresholds,
  MemberId,
  MemberRef,
  Occurrence,
  Participation,
  Thread,
  Topic,
  WeekRow,
} from '../bindings';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const FIRST_MONDAY = 4 * DAY;

export const DEFAULT_THRESHOLDS: LevelThresholds = { window_days: 90, core: 20, active: 5, peripheral: 1 };

export function summaryOf(e: Event): EventSummary {
  const { notes, ...rest } = e;
  return { ...structuredClone(rest), notes_excerpt: notes.slice(0, 140) };
}

/** Starts of an event's occurrences overlapping `[from, to)`: one-off, weekly or monthly. */
export function starts(e: Event | EventSummary, from: number, to: number, limit = 2000): number[] {
  const out: number[] = [];
  const first = e.details.start;
  const length = e.details.duration_min * 60_000;
  const rule = e.details.recur ?? '';
  const weekly = rule.includes('WEEKLY');
  const monthly = rule.includes('MONTHLY');
  for (let i = 0; out.length < limit && i < 5000; i++) {
    const d = new Date(first);
    if (monthly) d.setUTCMonth(d.getUTCMonth() + i);
    const t = weekly ? first + i * WEEK : d.getTime();
    if (t >= to) break;
    if (t + length > from) out.push(t);
    if (!weekly && !monthly) break;
  }
  return out;
}

export function occurrence(e: Event | EventSummary, start: number, me: MemberId | null): Occurrence {
  const at = e.rsvps.filter((r) => r.occurrence === start);
  const count = (s: string) => at.filter((r) => r.status === s).length;
  return {
    event: e.id,
    title: e.details.title,
    kind: e.details.kind,
    start,
    end: start + e.details.duration_min * 60_000,
    tz: e.details.tz,
    start_local: new Date(start).toISOString().slice(0, 16),
    place: e.details.place,
    going: count('going'),
    maybe: count('maybe'),
    attended: count('attended'),
    mine: at.find((r) => r.member === me)?.status ?? null,
  };
}

function ref(c: Community, id: MemberId): MemberRef {
  return { id, name: c.roster.members[id]?.name ?? `Member ${id.slice(0, 10)}` };
}

function level(n: number, t: LevelThresholds): Level {
  return n >= t.core ? 'core' : n >= t.active ? 'active' : n >= t.peripheral ? 'peripheral' : 'inactive';
}

function contributions(threads: Thread[], member: MemberId, from: number, to: number): { threads: number; replies: number } {
  let opened = 0;
  let replies = 0;
  for (const t of threads) {
    const o = t.opening;
    if (o.author === member && o.created_at >= from && o.created_at < to) opened++;
    replies += t.replies.filter((r) => r.author === member && r.created_at >= from && r.created_at < to).length;
  }
  return { threads: opened, replies };
}

export function participation(c: Community, threads: Thread[], t: LevelThresholds, at: number): Participation {
  const window = t.window_days * DAY;
  const counts: LevelCounts = { core: 0, active: 0, peripheral: 0, inactive: 0 };
  const members = Object.values(c.roster.members)
    .filter((m) => m && m.removed_at === null)
    .map((m) => {
      const now = contributions(threads, m!.id, at - window, at + 1);
      const before = contributions(threads, m!.id, at - 2 * window, at - window);
      const n = now.threads + now.replies;
      const l = level(n, t);
      counts[l] += 1;
      const last = Math.max(0, ...threads.flatMap((x) => [x.opening, ...x.replies]).filter((p) => p.author === m!.id).map((p) => p.created_at));
      return {
        member: ref(c, m!.id),
        role: m!.role,
        level: l,
        previous: m!.added_at < at - window ? level(before.threads + before.replies, t) : null,
        contributions: n,
        threads: now.threads,
        replies: now.replies,
        repertoire_edits: 0,
        attended: 0,
        last_active: last || null,
      };
    })
    .sort((a, b) => ['core', 'active', 'peripheral', 'inactive'].indexOf(a.level) - ['core', 'active', 'peripheral', 'inactive'].indexOf(b.level) || b.contributions - a.contributions || a.member.name.localeCompare(b.member.name));
  const movement = members.filter((m) => m.previous !== m.level).map((m) => ({ member: m.member, from: m.previous, to: m.level }));
  const history = [5, 4, 3, 2, 1, 0].map((k) => ({ at: at - k * 30 * DAY, counts: { ...counts } }));
  return { at, thresholds: t, counts, members, movement, history };
}

export function knowledgeMap(c: Community, threads: Thread[], entries: Entry[]): Topic[] {
  const map = new Map<string, Topic>();
  const at = (tag: string) => {
    let x = map.get(tag);
    if (!x) map.set(tag, (x = { topic: tag, threads: 0, requests: 0, open_requests: 0, replies: 0, entries: 0, last_activity: null }));
    return x;
  };
  c.charter.topics.forEach(at);
  for (const t of threads)
    for (const tag of t.tags) {
      const x = at(tag);
      x.threads++;
      x.replies += t.replies.length;
      if (t.activity === 'request') {
        x.requests++;
        if (!t.resolved) x.open_requests++;
      }
      x.last_activity = Math.max(x.last_activity ?? 0, t.opening.created_at, ...t.replies.map((r) => r.created_at));
    }
  for (const e of entries)
    for (const tag of e.tags) {
      const x = at(tag);
      x.entries++;
      x.last_activity = Math.max(x.last_activity ?? 0, e.updated_at);
    }
  return [...map.values()].sort((a, b) => b.threads + b.entries - (a.threads + a.entries) || a.topic.localeCompare(b.topic));
}

export function expertise(c: Community, threads: Thread[], entries: Entry[]): Expertise[] {
  const map = new Map<string, Expertise>();
  const at = (topic: string, member: MemberId) => {
    const k = `${topic}\u0000${member}`;
    let x = map.get(k);
    if (!x) map.set(k, (x = { topic, member: ref(c, member), score: 0, replies: 0, answers: 0, helped: 0, entries_written: 0, entries_edited: 0 }));
    return x;
  };
  for (const t of threads)
    for (const r of t.replies) {
      if (!r.author || r.author === t.opening.author) continue;
      for (const tag of t.tags) {
        const x = at(tag, r.author);
        x.replies++;
        if (t.answer === r.id) x.answers++;
        x.helped += r.helped_by.filter((h) => h !== r.author).length;
      }
    }
  for (const e of entries)
    for (const tag of e.tags) {
      if (e.author) at(tag, e.author).entries_written++;
      for (const ed of e.editors) if (ed !== e.author) at(tag, ed).entries_edited++;
    }
  const out = [...map.values()].filter((x) => c.roster.members[x.member.id]?.removed_at === null);
  for (const x of out) x.score = x.replies + 3 * x.answers + 2 * x.helped + 3 * x.entries_written + x.entries_edited;
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || b.score - a.score);
}

/** What `commonplace_insight::unanswered_at` decides, for the fake node only. */
function unansweredAt(t: Thread, at: number): boolean {
  return t.activity === 'request' && !t.resolved && t.opening.created_at < at && !t.replies.some((r) => r.author !== t.opening.author && r.created_at < at);
}

export function gaps(c: Community, threads: Thread[], entries: Entry[], unansweredDays: number, staleDays: number, at: number): Gaps {
  const map = knowledgeMap(c, threads, entries);
  const asked = threads.filter((t) => t.activity === 'request' && t.opening.created_at < at);
  const unanswered = asked.filter((t) => unansweredAt(t, at));
  return {
    at,
    options: { unanswered_days: unansweredDays, stale_days: staleDays },
    topics_without_repertoire: map.filter((t) => t.requests > 0 && t.entries === 0).map((t) => ({ topic: t.topic, requests: t.requests, open_requests: t.open_requests })),
    requests: asked.length,
    open_requests: asked.filter((t) => !t.resolved).length,
    unanswered: unanswered.length,
    unanswered_requests: unanswered
      .filter((t) => t.opening.created_at < at - unansweredDays * DAY)
      .sort((a, b) => a.opening.created_at - b.opening.created_at)
      .map((t) => ({ id: t.id, title: t.title, author: t.opening.author ? ref(c, t.opening.author) : null, tags: t.tags, created_at: t.opening.created_at, age_days: Math.floor((at - t.opening.created_at) / DAY) })),
    stale_entries: entries
      .filter((e) => at - e.updated_at > staleDays * DAY)
      .map((e) => ({ id: e.id, title: e.title, tags: e.tags, updated_at: e.updated_at, age_days: Math.floor((at - e.updated_at) / DAY) })),
  };
}

function weekStart(t: number): number {
  return t - ((((t - FIRST_MONDAY) % WEEK) + WEEK) % WEEK);
}

export function healthReport(c: Community, threads: Thread[], entries: Entry[], events: Event[], t: LevelThresholds, since: number, until: number): HealthReport {
  const row = (w: number): WeekRow => ({ week_start: w, threads: 0, replies: 0, posts: 0, active_members: 0, new_members: 0, entries_created: 0, events_held: 0, attendance: 0 });
  const weeks = new Map<number, WeekRow>();
  for (let w = weekStart(since); w < until; w += WEEK) weeks.set(w, row(w));
  const totals = row(since);
  const active = new Map<number, Set<string>>();
  const everyone = new Set<string>();
  const add = (at: number, f: (r: WeekRow) => void, who?: MemberId | null) => {
    if (at < since || at >= until) return;
    const w = weekStart(at);
    f(weeks.get(w)!);
    f(totals);
    if (who) {
      if (!active.has(w)) active.set(w, new Set());
      active.get(w)!.add(who);
      everyone.add(who);
    }
  };
  for (const th of threads) {
    add(th.opening.created_at, (r) => (r.threads++, r.posts++), th.opening.author);
    for (const p of th.replies) add(p.created_at, (r) => (r.replies++, r.posts++), p.author);
  }
  for (const e of entries) add(e.created_at, (r) => r.entries_created++, e.author);
  for (const m of Object.values(c.roster.members)) if (m) add(m.added_at, (r) => r.new_members++);
  let held = 0;
  let attendance = 0;
  const occurrences = [];
  for (const e of events) {
    if (e.cancelled) continue;
    for (const s of starts(e, since, until)) {
      if (s < since || s >= until) continue;
      const o = occurrence(e, s, null);
      held++;
      attendance += o.attended;
      add(s, (r) => (r.events_held++, (r.attendance += o.attended)));
      occurrences.push({ id: e.id, title: e.details.title, start: s, attended: o.attended, going: o.going });
    }
  }
  for (const [w, set] of active) weeks.get(w)!.active_members = set.size;
  totals.active_members = everyone.size;
  const requests = threads.filter((th) => th.activity === 'request' && th.opening.created_at >= since && th.opening.created_at < until);
  const replied = requests.filter((th) => th.replies.some((r) => r.author !== th.opening.author));
  const hours = replied.map((th) => (th.replies.find((r) => r.author !== th.opening.author)!.created_at - th.opening.created_at) / 3_600_000).sort((a, b) => a - b);
  const median = hours.length ? (hours.length % 2 ? hours[(hours.length - 1) / 2] : (hours[hours.length / 2 - 1] + hours[hours.length / 2]) / 2) : null;
  const resolved = requests.filter((th) => th.resolved).length;
  const p = participation(c, threads, t, until);
  const roster = Object.values(c.roster.members).filter((m) => m && m.removed_at === null);
  const topics = new Map<string, number>();
  for (const th of threads) if (th.opening.created_at >= since && th.opening.created_at < until) for (const tag of th.tags) topics.set(tag, (topics.get(tag) ?? 0) + 1);
  return {
    community: c.id,
    name: c.charter.name,
    since,
    until,
    thresholds: t,
    members: { total: roster.length, active: everyone.size, new: totals.new_members, levels_at_start: p.history[0].counts, levels_at_end: p.counts, movement: p.movement },
    weeks: [...weeks.values()],
    totals,
    requests: {
      opened: requests.length,
      replied: replied.length,
      resolved,
      share_resolved: requests.length ? resolved / requests.length : null,
      median_hours_to_first_reply: median,
      unanswered_at_end: threads.filter((th) => unansweredAt(th, until)).length,
    },
    repertoire: {
      entries_at_start: entries.filter((e) => e.created_at < since).length,
      entries_at_end: entries.length,
      created: totals.entries_created,
      promoted_from_threads: entries.filter((e) => e.created_at >= since && e.source).length,
      edits: 0,
      replies_linking_entries: 0,
      entries_reused: 0,
    },
    events: { held, attendance, mean_attendance: held ? attendance / held : null, occurrences },
    top_topics: [...topics].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10),
  };
}
