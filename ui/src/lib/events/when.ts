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

const WEEKDAYS: Record<string, string> = { MO: 'Monday', TU: 'Tuesday', WE: 'Wednesday', TH: 'Thursday', FR: 'Friday', SA: 'Saturday', SU: 'Sunday' };
/** RRULE day codes by `Date.getUTCDay()`. */
const DAY_CODES = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];
const UNITS: Record<string, string> = { DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' };
/** The parts `recurWords` puts into words; a rule with any other is also shown as written. */
const SAID = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYSETPOS', 'BYMONTHDAY', 'BYMONTH', 'COUNT', 'UNTIL', 'WKST']);

/** `first`, `second-to-last`, `last`: the ordinal of an RRULE position, 1..5 or -1..-5. */
function ordinal(n: number): string | null {
  if (n >= 1 && n <= 5) return ORDINALS[n - 1];
  if (n === -1) return 'last';
  if (n <= -2 && n >= -5) return `${ORDINALS[-n - 1]}-to-last`;
  return null;
}

/** `a`, `a and b`, `a, b and c`. */
function and(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** `30 June 2027` for an RRULE date (`20270630` or `20270630T215959Z`). */
function ruleDate(v: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(v);
  if (!m) return v;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

/** The organiser's calendar day of `ms` as [year, month 1..12, day, weekday code]. */
function localDay(ms: number, tz?: string): [number, number, number, string] {
  let w: string;
  try {
    w = wallClock(ms, tz);
  } catch {
    w = wallClock(ms, 'UTC');
  }
  const [y, mo, d] = w.slice(0, 10).split('-').map(Number);
  return [y, mo, d, DAY_CODES[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()]];
}

/**
 * Words for a recurrence rule: `Every month on the second Thursday, 6 times`. With the first
 * occurrence's start (and the organiser's zone) the day a rule leaves to it is said too
 * (`FREQ=WEEKLY` → `Every week on Thursday`). Parts it does not put into words are shown as
 * written, so nothing the rule says is hidden.
 */
export function recurWords(rule: string | null, start?: number, tz?: string): string | null {
  if (!rule) return null;
  const fields: Record<string, string> = {};
  for (const kv of rule.toUpperCase().split(';')) {
    const [k, v = ''] = kv.split('=');
    if (k.trim()) fields[k.trim()] = v.trim();
  }
  const unit = UNITS[fields.FREQ ?? ''];
  if (!unit) return rule;
  const every = Number(fields.INTERVAL ?? '1');
  let out = every > 1 ? `Every ${every} ${unit}s` : `Every ${unit}`;
  let unsaid = Object.keys(fields).some((k) => !SAID.has(k));

  if (fields.BYMONTH) {
    const months = fields.BYMONTH.split(',').map((m) => MONTHS[Number(m) - 1]);
    if (months.some((m) => !m)) unsaid = true;
    else out += ` in ${and(months)}`;
  }
  const setpos = fields.BYSETPOS ? Number(fields.BYSETPOS) : null;
  let on = '';
  if (fields.BYDAY) {
    const days = fields.BYDAY.split(',').map((item) => {
      const m = /^([+-]?\d{1,2})?([A-Z]{2})$/.exec(item);
      const day = m ? WEEKDAYS[m[2]] : undefined;
      if (!m || !day) return null;
      const pos = m[1] !== undefined ? Number(m[1]) : setpos !== null && !fields.BYSETPOS.includes(',') ? setpos : null;
      if (pos === null) return day;
      const o = ordinal(pos);
      return o ? `the ${o} ${day}` : null;
    });
    if (days.some((d) => d === null)) unsaid = true;
    else on = and(days as string[]);
  } else if (setpos !== null) {
    unsaid = true;
  }
  if (fields.BYMONTHDAY) {
    const days = fields.BYMONTHDAY.split(',').map((v) => {
      const n = Number(v);
      if (n >= 1 && n <= 31) return `day ${n}`;
      const o = ordinal(n);
      return o ? `the ${o} day` : null;
    });
    if (days.some((d) => d === null)) unsaid = true;
    else on = on ? `${on} falling on ${and(days as string[])}` : and(days as string[]);
  }
  if (!on && start !== undefined && Number.isFinite(start) && !fields.BYMONTH) {
    const [, month, day, code] = localDay(start, tz);
    if (fields.FREQ === 'WEEKLY') on = WEEKDAYS[code];
    else if (fields.FREQ === 'MONTHLY') on = `day ${day}`;
    else if (fields.FREQ === 'YEARLY') on = `${day} ${MONTHS[month - 1]}`;
  }
  if (on) out += ` on ${on}`;
  if (fields.COUNT) out += Number(fields.COUNT) === 1 ? ', once' : `, ${fields.COUNT} times`;
  else if (fields.UNTIL) out += ` until ${ruleDate(fields.UNTIL)}`;
  return unsaid ? `${out} (${rule})` : out;
}

/** One way an event can repeat, offered in the event form. */
export interface RepeatChoice {
  key: 'weekly' | 'biweekly' | 'monthly-day' | 'monthly-nth' | 'monthly-last' | 'yearly';
  label: string;
  /** The RRULE value, without its end (COUNT / UNTIL). */
  rule: string;
}

/**
 * The common patterns for an event on `date` (`2026-05-14`, the organiser's calendar day):
 * weekly, every two weeks, monthly on the same day, on the same weekday of the month (the
 * second Thursday; the last one when it is in the last week), yearly.
 */
export function repeatChoices(date: string): RepeatChoice[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return [];
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(Date.UTC(y, mo - 1, d));
  if (Number.isNaN(at.getTime())) return [];
  const code = DAY_CODES[at.getUTCDay()];
  const day = WEEKDAYS[code];
  const inMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const nth = Math.ceil(d / 7);
  const out: RepeatChoice[] = [
    { key: 'weekly', label: `Every week on ${day}`, rule: 'FREQ=WEEKLY' },
    { key: 'biweekly', label: `Every 2 weeks on ${day}`, rule: 'FREQ=WEEKLY;INTERVAL=2' },
    { key: 'monthly-day', label: `Monthly on day ${d}${d > 28 ? ' (months without one are skipped)' : ''}`, rule: 'FREQ=MONTHLY' },
  ];
  // A fifth weekday is missing from most months: "last" says what is meant.
  if (nth <= 4) out.push({ key: 'monthly-nth', label: `Monthly on the ${ORDINALS[nth - 1]} ${day}`, rule: `FREQ=MONTHLY;BYDAY=${nth}${code}` });
  if (d + 7 > inMonth) out.push({ key: 'monthly-last', label: `Monthly on the last ${day}`, rule: `FREQ=MONTHLY;BYDAY=-1${code}` });
  out.push({ key: 'yearly', label: `Every year on ${d} ${MONTHS[mo - 1]}`, rule: 'FREQ=YEARLY' });
  return out;
}

/** A rule without its end, and the end: after `count` times, or until an RRULE UTC time. */
export function splitEnds(rule: string): { base: string; count: number | null; until: string | null } {
  let count: number | null = null;
  let until: string | null = null;
  const kept = rule.split(';').filter((kv) => {
    const [k, v = ''] = kv.split('=');
    if (k === 'COUNT') count = Number(v);
    else if (k === 'UNTIL') until = v;
    else return true;
    return false;
  });
  return { base: kept.join(';'), count, until };
}

/** The RRULE `UNTIL` (UTC) for the last moment of `date` in zone `tz`: a series ending on
 * 30 June ends at midnight there, wherever the viewer is. */
export function endOfDayIn(date: string, tz: string): string {
  const [y, mo, d] = date.split('-').map(Number);
  const guess = Date.UTC(y, mo - 1, d, 23, 59, 59);
  // The zone's offset at that moment, from its wall clock (seconds are not in the wall clock).
  const wall = wallClock(guess, tz);
  const asUtc = Date.UTC(Number(wall.slice(0, 4)), Number(wall.slice(5, 7)) - 1, Number(wall.slice(8, 10)), Number(wall.slice(11, 13)), Number(wall.slice(14, 16)), 59);
  const t = new Date(guess - (asUtc - guess));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}T${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}Z`;
}

/** The organiser's calendar day (`2027-06-30`) of an RRULE `UNTIL` value. */
export function untilDay(until: string, tz: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(until);
  if (!m) return '';
  if (!m[4]) return `${m[1]}-${m[2]}-${m[3]}`;
  try {
    return wallClock(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])), tz).slice(0, 10);
  } catch {
    return `${m[1]}-${m[2]}-${m[3]}`;
  }
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
