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
});
