// What keeps the screens inside a 1024×700 window. Layout itself needs a browser (see
// e2e/overflow.mjs, run in the end-to-end tests); these hold the pieces that made it overflow.
import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import { findOverflow } from '../../../e2e/overflow.mjs';
import Sidebar from '../shell/Sidebar.svelte';
import ThreadsScreen from '../threads/ThreadsScreen.svelte';
import MembersScreen from '../members/MembersScreen.svelte';
import Chart from './Chart.svelte';
import sidebarSource from '../shell/Sidebar.svelte?raw';
import threadsSource from '../threads/ThreadsScreen.svelte?raw';
import eventsSource from '../events/EventsScreen.svelte?raw';

/** The declarations of the CSS rules in `source` whose selector contains `part`. */
function rules(source: string, part: string): string[] {
  const css = source.slice(source.indexOf('<style>'));
  return [...css.matchAll(/([^{}]+)\{([^{}]*)\}/g)].filter((m) => m[1].includes(part)).map((m) => m[2]);
}

describe('layout at the minimum window', () => {
  it('thread rows say who opened them, keep the whole title as a tooltip and clamp it to two lines', async () => {
    const { app } = await startApp();
    const long = 'A very long title that goes on about silver dressings, handovers and what the night shift saw for weeks';
    await app.backend.createThread(app.currentId!, { activity: 'request', title: long, body: 'Body', tags: ['pressure ulcers'] });
    await app.refreshThreads();
    app.go({ name: 'threads' });
    renderIn(app, ThreadsScreen);
    await settle();
    const row = screen.getAllByTestId('thread-row')[0];
    expect(row.getAttribute('title')).toBe(long);
    expect(row.querySelector('[data-testid="thread-row-author"]')?.textContent).toBe('Amira Haddad');
    expect(rules(threadsSource, '.t ').join(';')).toMatch(/line-clamp: 2/);
  });

  it('the community switcher keeps its arrow and shows a long name whole on hover', async () => {
    const { app } = await startApp();
    renderIn(app, Sidebar, { onAddCommunity: vi.fn(), onPalette: vi.fn() });
    await settle();
    const name = app.overview!.name;
    expect(screen.getByTestId('community-switcher').getAttribute('title')).toBe(name);
    // A `background:` shorthand on the switcher would reset .select's arrow (background-image).
    for (const decl of rules(sidebarSource, '.switcher')) expect(decl).not.toMatch(/(^|[;\s])background\s*:/);
    expect(rules(sidebarSource, '.switcher .current').join(';')).toMatch(/text-overflow: ellipsis/);
  });

  it('an event row lets its title and place shrink (a link as the place was as wide as it is long)', () => {
    // A bare `1fr` track is at least as wide as its longest word: the list overflowed beside the panel.
    const item = rules(eventsSource, '.item ').join(';');
    expect(item).toMatch(/grid-template-columns: [^;]*minmax\(0, 1fr\)/);
    expect(item).not.toMatch(/\) 1fr /);
    expect(rules(eventsSource, '.meta > span').join(';')).toMatch(/overflow-wrap: anywhere/);
  });

  it('a hidden members column hides its header and its cells together', async () => {
    const { node, app } = await startApp();
    node.addMember(app.currentId!, 'MEMBER0000JONAS', 'Jonas Berg');
    await app.refreshCommunity();
    renderIn(app, MembersScreen);
    await settle();
    for (const c of ['c-region', 'c-org', 'c-joined']) {
      expect(document.querySelectorAll(`th.${c}`)).toHaveLength(1);
      expect(document.querySelectorAll(`td.${c}`)).toHaveLength(screen.getAllByTestId('member-row').length);
    }
  });

  it("a chart's screen-reader table is hidden inside a box, not as a table that would widen the page", () => {
    render(Chart, { props: { title: 'Posts per week', x: [0, 604_800], series: [{ label: 'Posts', values: [1, 2], color: '#2f5fd0' }], testid: 'chart-posts' } });
    const table = screen.getByTestId('chart-posts-table');
    expect(table.classList.contains('sr-only')).toBe(false);
    expect(table.parentElement!.classList.contains('sr-only')).toBe(true);
  });

  it('the overflow check finds what is wider than its box and leaves out what is meant to clip', () => {
    document.body.innerHTML = `
      <div id="wide"><span>x</span></div>
      <div id="fits"></div>
      <div id="ellipsis" style="overflow: hidden; text-overflow: ellipsis"></div>
      <div data-scrolls-x><div id="scroller"></div></div>
      <input id="field" />`;
    const size = (id: string, sw: number, cw: number) => {
      const el = document.getElementById(id)!;
      Object.defineProperty(el, 'scrollWidth', { value: sw });
      Object.defineProperty(el, 'clientWidth', { value: cw });
    };
    size('wide', 244, 231);
    size('fits', 232, 231);
    size('ellipsis', 400, 100);
    size('scroller', 900, 300);
    size('field', 900, 300);
    const found = findOverflow();
    expect(found.map((o) => o.what)).toEqual(['div#wide']);
    expect(found[0]).toMatchObject({ scrollWidth: 244, clientWidth: 231 });
  });
});
