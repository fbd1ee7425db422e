// A check for horizontal overflow, to run in the page (WebDriver `browser.execute`):
//
//   import { findOverflow } from './overflow.mjs';
//   const over = await browser.execute(findOverflow);
//   assert.deepEqual(over, [], `overflowing at 1024×700: ${JSON.stringify(over, null, 1)}`);
//
// It returns every element whose content is wider than its box (scrollWidth > clientWidth + 1):
// a horizontal scrollbar, or text and controls cut off at the edge; and, to say which one is too
// wide, the outermost elements that reach past the right edge of the window (`past: true`). Left out: elements meant
// to clip or scroll sideways — single-line text that ends in an ellipsis, the screen-reader-only
// text, text fields (whose value scrolls), and anything inside an element marked
// `data-scrolls-x` (none today). `OVERFLOW_SCRIPT` is the same check as a string, for a client
// that only takes script text (`return (…)()`).

/** @returns {{ what: string, testid: string | null, scrollWidth: number, clientWidth: number, past: boolean, text: string }[]} */
export function findOverflow() {
  const out = [];
  const edge = document.documentElement.clientWidth + 1;
  const pastEdge = new Set();
  for (const el of document.querySelectorAll('*')) {
    if (!(el instanceof HTMLElement) && !(el instanceof SVGSVGElement)) continue;
    const sw = el.scrollWidth;
    const cw = el.clientWidth;
    const r = el.getBoundingClientRect();
    const past = r.width > 0 && r.right > edge && !el.closest('[data-scrolls-x]') && !el.closest('.sr-only');
    if (past) pastEdge.add(el);
    const outermost = past && !(el.parentElement && pastEdge.has(el.parentElement));
    if (!(sw > cw + 1) && !outermost) continue;
    const s = getComputedStyle(el);
    if (!outermost && (s.display === 'inline' || s.display === 'contents' || s.display === 'none')) continue;
    if (!outermost) {
      if (['INPUT', 'TEXTAREA', 'SELECT', 'OPTION'].includes(el.tagName)) continue;
      if (el.closest('[data-scrolls-x]')) continue;
      if (s.textOverflow === 'ellipsis' && s.overflowX !== 'visible') continue;
      // Visually hidden text (.sr-only): one pixel, clipped on purpose.
      if (el.closest('.sr-only') || (s.position === 'absolute' && cw <= 1)) continue;
    }
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).filter((c) => !c.startsWith('svelte-')).join('.') : '';
    out.push({
      what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls === '.' ? '' : cls}`,
      testid: el.getAttribute('data-testid'),
      scrollWidth: sw,
      clientWidth: cw,
      past: outermost,
      text: (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 60),
    });
  }
  return out;
}

export const OVERFLOW_SCRIPT = `return (${findOverflow.toString()})();`;
