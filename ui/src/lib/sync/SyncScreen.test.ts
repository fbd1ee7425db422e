import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import SyncScreen from './SyncScreen.svelte';

const bea = { member: 'beabeabeabeabeabeabeabeabeabeabeabeabeabeabeabeabea', name: 'Bea Okafor', last_ok: null, last: null };

describe('Sync screen', () => {
  it('"Sync now" always ends in a result: a member who did not answer is named', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, peers: [{ ...bea, connected: false }] };
    await app.refreshSync();
    renderIn(app, SyncScreen);
    await fireEvent.click(screen.getByTestId('sync-now'));
    await settle();
    const result = screen.getByTestId('sync-result').textContent ?? '';
    expect(result).toContain('Could not sync with Bea Okafor');
    expect(result).toContain('not running');
  });

  it('says so when no member is known to sync with', async () => {
    const { app } = await startApp();
    renderIn(app, SyncScreen);
    await fireEvent.click(screen.getByTestId('sync-now'));
    await settle();
    expect(screen.getByTestId('sync-result').textContent).toContain('no one to sync with');
  });

  it('shows a member as connected only while the node says a connection is open', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, peers: [{ ...bea, connected: true, last_ok: Date.now() }] };
    await app.refreshSync();
    renderIn(app, SyncScreen);
    await settle();
    expect(screen.getByTestId('peer-row').textContent).not.toContain('not connected');
    node.sync = { ...node.sync, peers: [{ ...bea, connected: false, last_ok: Date.now() }] };
    node.emit('sync:changed');
    await settle();
    expect(screen.getByTestId('peer-row').textContent).toContain('not connected');
  });

  it('tells a lone founder that nobody has joined yet, without a warning', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, unshared: [{ community: app.currentId!, name: 'Wound care nurses', changes: 1, others: 0 }] };
    await app.refreshSync();
    renderIn(app, SyncScreen);
    await settle();
    const line = screen.getByTestId('unshared');
    expect(line.textContent).toContain('Nobody else has joined Wound care nurses yet');
    expect(line.classList.contains('warn')).toBe(false);
  });

  it('names the relays the network runs with', async () => {
    const { node, app } = await startApp();
    node.sync = { ...node.sync, relay: { mode: 'off' } };
    await app.refreshSync();
    renderIn(app, SyncScreen);
    await settle();
    expect(screen.getByTestId('relay-now').textContent).toContain('off');
  });
});
