// Event times as people read them: in the viewer's own time zone, with the organiser's wall
// clock beside it when that differs ("16:00 · 10:00 in Toronto").

const DAY = 86_400_000;

/** The viewer's IANA time zone. */
export function viewerZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Every IANA zone the web view knows, the viewer's first. */
export function zones(): string[] {
  const own = viewerZone();
  let all: string[] = [];
  try {
    all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    all = [];
  }
  if (!all.includes('UTC')) all = [...all, 'UTC'];
  return [own, ...all.filter((z) => z !== own)];
}

function parts(ms: number, timeZone?: string): Record<string, string> {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

/** `2026-12-03T15:00`: the wall clock at `ms` in `timeZone` (the viewer's by default). */
export function wallClock(ms: number, timeZone?: string): string {
  const p = parts(ms, timeZone);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** `2026-12-03`: the day holding `ms` for the viewer. */
export function dayKey(ms: number): string {
  return wallClock(ms).slice(0, 10);
}

/** `15:00` in the viewer's zone, or in `timeZone`. */
export function clock(ms: number, timeZone?: string): string {
  return wallClock(ms, timeZone).slice(11);
}

/** `Thursday 3 December` (with the year when it is not this year's). */
export function dayTitle(ms: number, now: number = Date.now()): string {
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/** The city of a zone, for short labels: `America/Toronto` → `Toronto`. */
export function city(tz: string): string {
  return (tz.split('/').pop() ?? tz).replaceAll('_', ' ');
}

/** `10:00 in Toronto` when the organiser's clock differs from the viewer's, else null. */
export function organiserClock(ms: number, tz: string): string | null {
  if (tz === viewerZone()) return null;
  let theirs: string;
  try {
    theirs = wallClock(ms, tz);
  } catch {
    return null;
  }
  if (theirs === wallClock(ms)) return null;
  const day = theirs.slice(0, 10) === dayKey(ms) ? '' : ` (${new Date(`${theirs.slice(0, 10)}T12:00:00Z`).toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' })})`;
  return `${theirs.slice(11)}${day} in ${city(tz)}`;
}

/** Words for a recurrence rule. */
export function recurWords(rule: string | null): string | null {
  if (!rule) return null;
  const fields = Object.fromEntries(rule.split(';').map((kv) => kv.split('=') as [string, string]));
  const every = Number(fields.INTERVAL ?? '1');
  const unit = fields.FREQ === 'WEEKLY' ? 'week' : fields.FREQ === 'MONTHLY' ? 'month' : fields.FREQ === 'DAILY' ? 'day' : fields.FREQ === 'YEARLY' ? 'year' : null;
  if (!unit) return rule;
  const base = every > 1 ? `Every ${every} ${unit}s` : `Every ${unit}`;
  const days: Record<string, string> = { MO: 'Monday', TU: 'Tuesday', WE: 'Wednesday', TH: 'Thursday', FR: 'Friday', SA: 'Saturday', SU: 'Sunday' };
  const by = fields.BYDAY ? ` on ${fields.BYDAY.split(',').map((d) => days[d.replace(/^[-+\d]+/, '')] ?? d).join(', ')}` : '';
  const until = fields.COUNT ? `, ${fields.COUNT} times` : fields.UNTIL ? ` until ${fields.UNTIL.slice(0, 4)}-${fields.UNTIL.slice(4, 6)}-${fields.UNTIL.slice(6, 8)}` : '';
  return `${base}${by}${until}`;
}

/** `90 minutes`, `1 hour`, `2 hours 30 minutes`. */
export function lengthWords(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const hours = h === 0 ? '' : h === 1 ? '1 hour' : `${h} hours`;
  const mins = m === 0 ? '' : `${m} minutes`;
  if (h >= 24 && m === 0 && h % 24 === 0) return h === 24 ? '1 day' : `${h / 24} days`;
  return [hours, mins].filter(Boolean).join(' ') || '0 minutes';
}

/** Local midnight starting the day of `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The first day of the month holding `ms`, at local midnight. */
export function startOfMonth(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
}

/** The month `delta` months from the one starting at `month`. */
export function addMonths(month: number, delta: number): number {
  const d = new Date(month);
  return new Date(d.getFullYear(), d.getMonth() + delta, 1).getTime();
}

/** Six weeks of days (local midnights), Monday first, covering the month starting at `month`. */
export function monthGrid(month: number): number[] {
  const first = new Date(month);
  const back = (first.getDay() + 6) % 7;
  const out: number[] = [];
  for (let i = 0; i < 42; i++) out.push(new Date(first.getFullYear(), first.getMonth(), 1 - back + i).getTime());
  return out;
}

/** `December 2026`. */
export function monthTitle(month: number): string {
  return new Date(month).toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
}

/** How far ahead the events list (and its "coming up" count) looks: about six months. */
export const HORIZON = 183 * DAY;

/** The header's count: occurrences from now to the list's horizon, whatever view shows. */
export function comingUp(n: number): string {
  if (n === 0) return 'Nothing coming up in the next six months';
  return `${n} coming up in the next six months`;
}

export { DAY };
