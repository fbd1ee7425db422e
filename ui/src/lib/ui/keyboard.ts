// Keyboard use shared by the screens: a list is one tab stop, focus goes into what opens and
// back to the row that opened it.

/**
 * A dense list is one tab stop (Linear-like, the WAI-ARIA "roving tabindex"): Tab enters the
 * list at its current row — the one open beside it, else the last one focused, else the first —
 * and leaves it with the next Tab. Inside, ↑/↓ and j/k move between rows, Home and End jump to
 * the ends, Enter opens (rows are buttons, or rows whose own controls take Enter).
 *
 * Rows are the elements matching `rows` inside the list and carry `data-key` (the id of what
 * they open), so that closing a view can give focus back to the row that opened it
 * ([`focusRow`]). Controls inside a row (a member's role) are reachable with Tab only in the
 * current row, so a table of 20 members is not 40 tab stops.
 */

/** The lists on screen, each with its current row. */
const LISTS = new Map<HTMLElement, () => HTMLElement | null>();
const CONTROLS = 'button, select, input, textarea, a[href], [tabindex]';

/** Whether a key press is text being typed, which no shortcut may take. */
export function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

export function roving(list: HTMLElement, rows: string) {
  let current: HTMLElement | null = null;
  const all = () => [...list.querySelectorAll<HTMLElement>(rows)];

  function sync() {
    const items = all();
    if (!current || !items.includes(current)) {
      current = items.find((r) => r.getAttribute('aria-current') === 'true') ?? items[0] ?? null;
    }
    for (const r of items) {
      const on = r === current;
      r.tabIndex = on ? 0 : -1;
      for (const c of r.querySelectorAll<HTMLElement>(CONTROLS)) {
        if (on) {
          if (c.dataset.rovingOff) {
            c.removeAttribute('tabindex');
            delete c.dataset.rovingOff;
          }
        } else if (c.tabIndex >= 0) {
          c.tabIndex = -1;
          c.dataset.rovingOff = '1';
        }
      }
    }
  }

  function move(to: HTMLElement | undefined) {
    if (!to) return;
    current = to;
    sync();
    to.focus();
  }

  function keydown(e: KeyboardEvent) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement;
    // A select or a field inside a row keeps its own keys.
    if (typing(target)) return;
    const items = all();
    if (items.length === 0) return;
    const row = items.find((r) => r === target || r.contains(target));
    const i = row ? items.indexOf(row) : -1;
    let next: HTMLElement | undefined;
    if (e.key === 'ArrowDown' || e.key === 'j') next = items[Math.min(i + 1, items.length - 1)];
    else if (e.key === 'ArrowUp' || e.key === 'k') next = items[Math.max(i - 1, 0)];
    else if (e.key === 'Home') next = items[0];
    else if (e.key === 'End') next = items[items.length - 1];
    else if (e.key === 'Enter' && row === target && row.tagName !== 'BUTTON') {
      // A row that is not itself a button: Enter goes to its first control.
      const first = row.querySelector<HTMLElement>(CONTROLS);
      if (first) {
        e.preventDefault();
        first.focus();
      }
      return;
    } else return;
    e.preventDefault();
    move(next);
  }

  function focusin(e: FocusEvent) {
    const row = all().find((r) => r === e.target || r.contains(e.target as Node));
    if (row && row !== current) {
      current = row;
      sync();
    }
  }

  // Rows come and go as the list refreshes from the node.
  const observer = new MutationObserver(() => sync());
  observer.observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-current'] });
  list.dataset.roving = '';
  list.addEventListener('keydown', keydown);
  list.addEventListener('focusin', focusin);
  LISTS.set(list, () => current);
  sync();
  return {
    destroy() {
      observer.disconnect();
      list.removeEventListener('keydown', keydown);
      list.removeEventListener('focusin', focusin);
      LISTS.delete(list);
    },
  };
}

/**
 * Focuses the row showing `key` (the thread, entry or event that was open) in any list on
 * screen, preferring the row last used in its list, then the one marked current. False when no list shows it.
 */
export function focusRow(key: string | null): boolean {
  if (!key) return false;
  for (const [list, current] of LISTS) {
    if (!document.contains(list)) continue;
    const rows = [...list.querySelectorAll<HTMLElement>('[data-key]')].filter((r) => r.dataset.key === key);
    // The row last used (the occurrence of an event that was opened), then the one marked.
    const last = current();
    const row = (last && rows.includes(last) ? last : null) ?? rows.find((r) => r.getAttribute('aria-current') === 'true') ?? rows[0];
    if (row) {
      row.focus();
      return true;
    }
  }
  return false;
}

/**
 * For the heading of a view that opens (a thread, an entry, an event): focus moves to it, so a
 * keyboard or screen-reader user is in what they opened. Not when they are already inside the
 * view, nor while they type elsewhere.
 */
export function focusOnOpen(heading: HTMLElement) {
  heading.tabIndex = -1;
  const view = heading.closest('[data-view]');
  const active = document.activeElement;
  if (active && view?.contains(active)) return;
  if (typing(active)) return;
  heading.focus({ preventScroll: true });
}

/** The heading of the view holding `el` (the reply box's thread), or of the screen. */
export function focusHeadingOf(el: Element | null): boolean {
  const h = el?.closest('[data-view]')?.querySelector<HTMLElement>('h1, h2') ?? document.querySelector<HTMLElement>('main h1');
  if (!h) return false;
  h.tabIndex = -1;
  h.focus({ preventScroll: true });
  return true;
}
