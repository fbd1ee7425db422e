import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import ThreadsScreen from './ThreadsScreen.svelte';

describe('ThreadsScreen', () => {
  it('lists threads with unread markers and filters by kind and state', async () => {
    const { node, app } = await startApp();
    const b = node.backend();
    const c = app.currentId!;
    const read = await b.createThread(c, { activity: 'story', title: 'The night the lift broke', body: '…', tags: [] });
    await b.createThread(c, { activity: 'request', title: 'Silver dressings?', body: '…', tags: ['dressings'] });
    await settle();
    await app.markRead(read, 1);
    renderIn(app, ThreadsScreen);
    await settle();
    const rows = screen.getAllByTestId('thread-row');
    expect(rows).toHaveLength(2);
    const unread = rows.filter((r) => r.classList.contains('unread')).map((r) => r.textContent);
    expect(unread).toEqual([expect.stringContaining('Silver dressings?')]);

    await fireEvent.click(screen.getByTestId('filter-request'));
    expect(screen.getAllByTestId('thread-row').map((r) => r.textContent)).toEqual([expect.stringContaining('Silver dressings?')]);

    await fireEvent.click(screen.getByTestId('filter-resolved'));
    expect(screen.queryAllByTestId('thread-row')).toHaveLength(0);
    expect(screen.getByText('No thread matches these filters.')).toBeTruthy();
  });

  it('moves between rows with the arrow keys', async () => {
    const { node, app } = await startApp();
    for (const title of ['One', 'Two', 'Three']) await node.backend().createThread(app.currentId!, { activity: 'discussion', title, body: '…', tags: [] });
    await settle();
    renderIn(app, ThreadsScreen);
    await settle();
    const rows = screen.getAllByTestId('thread-row');
    rows[0].focus();
    await fireEvent.keyDown(rows[0], { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rows[1]);
    await fireEvent.keyDown(rows[1], { key: 'End' });
    expect(document.activeElement).toBe(rows[2]);
    await fireEvent.keyDown(rows[2], { key: 'ArrowUp' });
    expect(document.activeElement).toBe(rows[1]);
  });

  it('posts a new thread from the side panel and opens it', async () => {
    const { app } = await startApp();
    app.go({ name: 'threads', compose: true });
    renderIn(app, ThreadsScreen);
    await fireEvent.change(screen.getByTestId('thread-kind'), { target: { value: 'problem' } });
    await fireEvent.input(screen.getByTestId('thread-title'), { target: { value: 'Handover keeps failing' } });
    await fireEvent.input(screen.getByTestId('thread-body'), { target: { value: 'Details…' } });
    await fireEvent.input(screen.getByTestId('thread-tags'), { target: { value: 'handover, Night' } });
    await fireEvent.click(screen.getByTestId('post-thread'));
    await settle();
    expect(app.route.name).toBe('thread');
    expect(app.threads[0].tags).toEqual(['handover', 'night']);
    expect(app.unreadThreads).toBe(0);
  });
});
