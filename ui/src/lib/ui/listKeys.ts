/**
 * Arrow keys move between the rows of a dense list (Linear-like); Home and End jump to the ends.
 * Rows are the elements matching `selector` inside the list.
 */
export function listKeys(selector: string) {
  return (e: KeyboardEvent) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const list = e.currentTarget as HTMLElement;
    const rows = [...list.querySelectorAll<HTMLElement>(selector)];
    if (rows.length === 0) return;
    const i = rows.indexOf(document.activeElement as HTMLElement);
    const next =
      e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : e.key === 'ArrowDown' ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0);
    e.preventDefault();
    rows[next].focus();
  };
}
