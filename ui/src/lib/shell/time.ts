// Dates as people say them ("3 days ago"), with the exact time for a hover title.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function relativeTime(ms: number, now: number = Date.now()): string {
  const d = now - ms;
  if (d < 0) return d > -MINUTE ? 'just now' : future(-d, ms, now);
  if (d < 45_000) return 'just now';
  if (d < HOUR) {
    const m = Math.max(1, Math.round(d / MINUTE));
    return m === 1 ? '1 minute ago' : `${m} minutes ago`;
  }
  if (d < DAY) {
    const h = Math.round(d / HOUR);
    return h === 1 ? '1 hour ago' : `${h} hours ago`;
  }
  const days = Math.floor(d / DAY);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  if (days < 30) {
    const w = Math.floor(days / 7);
    return w === 1 ? 'last week' : `${w} weeks ago`;
  }
  const date = new Date(ms);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

function future(d: number, ms: number, now: number): string {
  if (d < HOUR) {
    const m = Math.max(1, Math.round(d / MINUTE));
    return m === 1 ? 'in 1 minute' : `in ${m} minutes`;
  }
  if (d < DAY) {
    const h = Math.round(d / HOUR);
    return h === 1 ? 'in 1 hour' : `in ${h} hours`;
  }
  const days = Math.round(d / DAY);
  if (days === 1) return 'tomorrow';
  if (days < 30) return `in ${days} days`;
  const date = new Date(ms);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return `on ${date.toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' })}`;
}

export function exactTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}
