import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import Sidebar from './Sidebar.svelte';

describe('Sidebar', () => {
  it('tells the truth about being offline and what has not been shared', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, online: false, unshared: [{ community: app.currentId!, name: 'x', changes: 3, others: 1 }] };
    await app.refreshSync();
    renderIn(app, Sidebar, { onAddCommunity: vi.fn(), onPalette: vi.fn() });
    await settle();
    expect(screen.getByTestId('online-status').textContent).toContain('Offline');
    expect(screen.getByTestId('unshared-status').textContent).toContain('3 changes not yet shared — no members reachable');
  });

  it('tells a lone founder calmly that nobody else has joined yet', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, unshared: [{ community: app.currentId!, name: 'x', changes: 1, others: 0 }] };
    await app.refreshSync();
    renderIn(app, Sidebar, { onAddCommunity: vi.fn(), onPalette: vi.fn() });
    await settle();
    const line = screen.getByTestId('unshared-status').textContent ?? '';
    expect(line).toContain('Only you here so far');
    expect(line).not.toContain('not yet shared');
  });

  it('navigates and marks the current screen', async () => {
    const { app } = await startApp();
    renderIn(app, Sidebar, { onAddCommunity: vi.fn(), onPalette: vi.fn() });
    await fireEvent.click(screen.getByTestId('nav-members'));
    expect(app.route.name).toBe('members');
    expect(screen.getByTestId('nav-members').getAttribute('aria-current')).toBe('page');
    expect(screen.getByTestId('online-status').textContent).toContain('Online');
  });
});
