import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import App from '../../App.svelte';
import { AppState } from './app.svelte';
import { demoNode } from '../testing/demo';
import { settle } from '../testing/render';

async function demoApp() {
  const node = await demoNode();
  const app = new AppState(node.api());
  await app.start();
  render(App, { props: { app } });
  await settle(10);
  return { node, app };
}

const focused = () => document.activeElement as HTMLElement;
const stops = (rows: HTMLElement[]) => rows.filter((r) => r.tabIndex === 0);

describe('keyboard', () => {
  it('a thread list is one tab stop with arrows and j/k; opening moves focus in, Esc brings it back', async () => {
    const { app } = await demoApp();
    app.go({ name: 'threads' });
    await settle(10);
    let rows = screen.getAllByTestId('thread-row');
    expect(rows.length).toBeGreaterThan(3);
    expect(stops(rows)).toEqual([rows[0]]);
    rows[0].focus();
    await fireEvent.keyDown(rows[0], { key: 'j' });
    expect(focused()).toBe(rows[1]);
    await fireEvent.keyDown(rows[1], { key: 'ArrowDown' });
    expect(focused()).toBe(rows[2]);
    await fireEvent.keyDown(rows[2], { key: 'k' });
    expect(focused()).toBe(rows[1]);
    await fireEvent.keyDown(rows[1], { key: 'End' });
    expect(focused()).toBe(rows[rows.length - 1]);
    await fireEvent.keyDown(focused(), { key: 'Home' });
    expect(focused()).toBe(rows[0]);
    await fireEvent.keyDown(rows[0], { key: 'j' });
    // The row reached is the list's one tab stop.
    expect(stops(rows)).toEqual([rows[1]]);

    // Enter on a row button is a click: the thread opens beside the list, focus on its title.
    const title = rows[1].querySelector('.t')!.textContent;
    await fireEvent.click(rows[1]);
    await settle(10);
    const heading = screen.getByTestId('thread-title-heading');
    expect(heading.textContent).toBe(title);
    expect(focused()).toBe(heading);

    // Esc in the reply box keeps the draft and gives focus back to the thread's row.
    const reply = screen.getByTestId('reply-body') as HTMLTextAreaElement;
    reply.focus();
    await fireEvent.input(reply, { target: { value: 'A draft' } });
    await fireEvent.keyDown(reply, { key: 'Escape' });
    rows = screen.getAllByTestId('thread-row');
    expect(focused()).toBe(rows[1]);
    expect((screen.getByTestId('reply-body') as HTMLTextAreaElement).value).toBe('A draft');

    // Esc from inside the thread closes it; focus lands on the row that opened it.
    heading.focus();
    await fireEvent.keyDown(heading, { key: 'Escape' });
    await settle(10);
    expect(screen.queryByTestId('thread-view')).toBeNull();
    expect(focused()).toBe(screen.getAllByTestId('thread-row')[1]);
  });

  it('an entry opens with focus on its title and closing it returns to its row', async () => {
    const { app } = await demoApp();
    app.go({ name: 'repertoire' });
    await settle(10);
    let rows = screen.getAllByTestId('entry-row');
    expect(stops(rows)).toHaveLength(1);
    rows[0].focus();
    await fireEvent.keyDown(rows[0], { key: 'ArrowDown' });
    expect(focused()).toBe(rows[1]);
    const key = rows[1].dataset.key;
    await fireEvent.click(rows[1]);
    await settle(10);
    expect(focused()).toBe(screen.getByTestId('entry-title'));
    await fireEvent.keyDown(focused(), { key: 'Escape' });
    await settle(10);
    rows = screen.getAllByTestId('entry-row');
    expect(focused().dataset.key).toBe(key);
    expect(stops(rows)).toEqual([focused()]);
  });

  it('events and members are one tab stop; the event panel takes focus and gives it back', async () => {
    const { app } = await demoApp();
    app.go({ name: 'events' });
    await settle(10);
    const rows = screen.getAllByTestId('event-row');
    expect(rows.length).toBeGreaterThan(2);
    expect(stops(rows)).toHaveLength(1);
    rows[0].focus();
    await fireEvent.keyDown(rows[0], { key: 'j' });
    await fireEvent.keyDown(rows[1], { key: 'j' });
    const row = focused();
    expect(row).toBe(rows[2]);
    await fireEvent.click(row);
    await settle(10);
    expect(focused()).toBe(screen.getByTestId('event-panel-title'));
    await fireEvent.keyDown(focused(), { key: 'Escape' });
    await settle(10);
    expect(screen.queryByTestId('event-panel-title')).toBeNull();
    expect(focused()).toBe(row);

    app.go({ name: 'members' });
    await settle(10);
    const members = screen.getAllByTestId('member-row');
    expect(members.length).toBe(3);
    expect(stops(members)).toEqual([members[0]]);
    // Only the current row's controls are in the tab order.
    const tabbable = () => [...document.querySelectorAll<HTMLElement>('[data-testid="member-role"], [data-testid="member-remove"]')].filter((c) => c.tabIndex >= 0);
    members[0].focus();
    await fireEvent.keyDown(members[0], { key: 'j' });
    expect(focused()).toBe(members[1]);
    expect(tabbable().every((c) => members[1].contains(c))).toBe(true);
    expect(tabbable().length).toBe(2);
    // Arrow keys on a role menu change the role, not the row.
    const role = members[1].querySelector<HTMLElement>('[data-testid="member-role"]')!;
    role.focus();
    await fireEvent.keyDown(role, { key: 'ArrowDown' });
    expect(focused()).toBe(role);
  });

  it('? lists the shortcuts (not while typing), Esc closes it and focus goes back', async () => {
    const { app } = await demoApp();
    app.go({ name: 'threads' });
    await settle(10);
    const row = screen.getAllByTestId('thread-row')[0];
    row.focus();
    await fireEvent.keyDown(row, { key: '?' });
    await settle();
    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    for (const words of ['Ctrl', 'K', '/', 'j', 'k', 'Enter', 'Esc', '?', 'Home']) expect(dialog.textContent).toContain(words);
    expect(focused()).toBe(screen.getByTestId('shortcuts-close'));
    await fireEvent.keyDown(focused(), { key: 'Escape' });
    await settle();
    expect(screen.queryByTestId('shortcuts')).toBeNull();
    expect(focused()).toBe(row);
    // `/` searches.
    await fireEvent.keyDown(row, { key: '/' });
    await settle();
    expect(screen.getByTestId('palette')).toBeTruthy();
    await fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Escape' });
    await settle();
    // In a field, ? is a character.
    await fireEvent.click(screen.getAllByTestId('thread-row')[0]);
    await settle(10);
    const reply = screen.getByTestId('reply-body');
    reply.focus();
    await fireEvent.keyDown(reply, { key: '?' });
    await settle();
    expect(screen.queryByTestId('shortcuts')).toBeNull();
  });
});
