import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import SettingsScreen from './SettingsScreen.svelte';

describe('SettingsScreen', () => {
  it('edits the profile; the roster follows', async () => {
    const { node, app } = await startApp();
    renderIn(app, SettingsScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('profile-edit'));
    await fireEvent.input(screen.getByTestId('profile-name-input'), { target: { value: 'Amira H.' } });
    await fireEvent.input(screen.getByTestId('profile-region-input'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('profile-save'));
    await settle(10);
    expect(node.calls.find((c) => c.name === 'updateProfile')?.args).toEqual(['Amira H.', null, 'St Mary']);
    expect(screen.getByTestId('profile-name').textContent).toBe('Amira H.');
    expect(app.community?.roster.members['MEMBER0000ME']?.name).toBe('Amira H.');
  });

  it('refuses an empty name, saying why', async () => {
    const { node, app } = await startApp();
    renderIn(app, SettingsScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('profile-edit'));
    await fireEvent.input(screen.getByTestId('profile-name-input'), { target: { value: '  ' } });
    await fireEvent.click(screen.getByTestId('profile-save'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('Your name cannot be empty.');
    expect(node.calls.some((c) => c.name === 'updateProfile')).toBe(false);
  });

  it('shows whether the key is backed up and makes a backup', async () => {
    const { node, app } = await startApp();
    renderIn(app, SettingsScreen);
    await settle();
    expect(screen.getByTestId('backup-status').textContent).toContain('Not backed up yet');
    await fireEvent.input(screen.getByTestId('backup-passphrase'), { target: { value: 'river stone lantern' } });
    await fireEvent.input(screen.getByTestId('backup-passphrase-confirm'), { target: { value: 'river stone lantern' } });
    await fireEvent.click(screen.getByTestId('backup-save'));
    await settle();
    expect(node.backups.get('/tmp/chosen/commonplace-key-member00.txt')?.passphrase).toBe('river stone lantern');
    expect(screen.getByTestId('backup-status').textContent).toContain('Backed up on');
    expect(screen.getByTestId('backup-done').textContent).toContain('not next to the file');
    expect((screen.getByTestId('backup-passphrase') as HTMLInputElement).value).toBe('');
    expect(screen.queryByTestId('backup-skip')).toBeNull();
  });
});
