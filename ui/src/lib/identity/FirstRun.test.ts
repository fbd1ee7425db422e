import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import FirstRun from './FirstRun.svelte';
import CommunitySetup from '../communities/CommunitySetup.svelte';

describe('first run', () => {
  it('creates an identity with optional region and organisation', async () => {
    const { node, app } = await startApp(false);
    renderIn(app, FirstRun);
    await fireEvent.click(screen.getByTestId('create-identity'));
    expect(screen.getByRole('alert').textContent).toContain('name');
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi Patel' } });
    await fireEvent.input(screen.getByTestId('identity-organisation'), { target: { value: 'Highways' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    expect(node.calls.find((c) => c.name === 'createIdentity')?.args).toEqual(['Ravi Patel', null, 'Highways']);
    expect(app.phase).toBe('community');
  });

  it('focuses the name at first, the first field of each tab, and keeps each tab its own error', async () => {
    const { app } = await startApp(false);
    renderIn(app, FirstRun);
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('identity-name'));
    await fireEvent.click(screen.getByTestId('create-identity'));
    expect(screen.getByRole('alert').textContent).toContain('name');
    await fireEvent.click(screen.getByRole('tab', { name: 'Restore from a key backup' }));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('restore-backup'));
    expect(screen.queryByRole('alert')).toBeNull();
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi Patel' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    expect(screen.getByRole('alert').textContent).toContain('key backup');
    await fireEvent.click(screen.getByRole('tab', { name: "I'm new here" }));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('identity-name'));
    // The new-member tab still shows its own error, not the restore tab's.
    expect(screen.getByRole('alert').textContent).toContain('name');
    expect(screen.getByRole('alert').textContent).not.toContain('key backup');
  });

  it('offers joining and starting a community on one screen, and opens the new one', async () => {
    const { app } = await startApp(false);
    await app.setIdentity(await app.backend.createIdentity('Ravi', null, null));
    renderIn(app, CommunitySetup);
    expect(screen.getByTestId('join-code')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('community-name'), { target: { value: 'Bridge inspectors' } });
    await fireEvent.input(screen.getByTestId('community-domain'), { target: { value: 'Road bridges.' } });
    await fireEvent.click(screen.getByTestId('create-community'));
    await settle();
    expect(app.phase).toBe('ready');
    expect(app.overview?.name).toBe('Bridge inspectors');
  });

  it('shows why joining failed, in words', async () => {
    const { app } = await startApp(false);
    await app.setIdentity(await app.backend.createIdentity('Ravi', null, null));
    renderIn(app, CommunitySetup);
    await fireEvent.input(screen.getByTestId('join-code'), { target: { value: 'cpinvite1abc' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('The member who invited you is not reachable');
    expect(app.busy).toBeNull();
  });
});
