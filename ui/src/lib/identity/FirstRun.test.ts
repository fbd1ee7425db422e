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
    // The backup is offered at once, and may wait.
    expect(screen.getByTestId('backup-step')).toBeTruthy();
    expect(app.phase).toBe('identity');
    await fireEvent.click(screen.getByTestId('backup-skip'));
    await settle();
    expect(app.phase).toBe('community');
    expect(app.identity?.backed_up_at).toBeNull();
    expect(node.calls.some((c) => c.name === 'backupKey')).toBe(false);
  });

  it('backs the new key up under a passphrase, explaining a short or mistyped one first', async () => {
    const { node, app } = await startApp(false);
    renderIn(app, FirstRun);
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi Patel' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    const pass = screen.getByTestId('backup-passphrase');
    const again = screen.getByTestId('backup-passphrase-confirm');
    expect(pass.getAttribute('type')).toBe('password');
    await fireEvent.input(pass, { target: { value: 'short' } });
    await fireEvent.input(again, { target: { value: 'short' } });
    await fireEvent.click(screen.getByTestId('backup-save'));
    await settle();
    expect(screen.getByTestId('backup-error').textContent).toContain('at least 8 characters');
    await fireEvent.input(pass, { target: { value: 'river stone lantern' } });
    await fireEvent.click(screen.getByTestId('backup-save'));
    await settle();
    expect(screen.getByTestId('backup-error').textContent).toContain('not the same');
    expect(node.calls.some((c) => c.name === 'chooseFile')).toBe(false);
    await fireEvent.input(again, { target: { value: 'river stone lantern' } });
    await fireEvent.click(screen.getByTestId('backup-save'));
    await settle();
    expect(node.calls.find((c) => c.name === 'chooseFile')?.args).toEqual(['key_backup', 'commonplace-key-member00.txt', true]);
    expect(node.calls.find((c) => c.name === 'backupKey')?.args).toEqual(['/tmp/chosen/commonplace-key-member00.txt', 'river stone lantern']);
    expect(screen.getByTestId('backup-done').textContent).toContain('/tmp/chosen/commonplace-key-member00.txt');
    expect(screen.queryByTestId('backup-skip')).toBeNull();
    expect(screen.queryByTestId('backup-passphrase')).toBeNull();
    await fireEvent.click(screen.getByTestId('backup-continue'));
    await settle();
    expect(app.phase).toBe('community');
    expect(app.identity?.backed_up_at).toBeTypeOf('number');
  });

  it('writes nothing when the save dialog is cancelled', async () => {
    const { node, app } = await startApp(false);
    renderIn(app, FirstRun);
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    node.cancelChooser = true;
    await fireEvent.input(screen.getByTestId('backup-passphrase'), { target: { value: 'river stone lantern' } });
    await fireEvent.input(screen.getByTestId('backup-passphrase-confirm'), { target: { value: 'river stone lantern' } });
    await fireEvent.click(screen.getByTestId('backup-save'));
    await settle();
    expect(node.calls.some((c) => c.name === 'backupKey')).toBe(false);
    expect(screen.queryByTestId('backup-error')).toBeNull();
    expect(screen.queryByTestId('backup-done')).toBeNull();
  });

  it('restores from a chosen backup file, asking for its passphrase', async () => {
    const { node, app } = await startApp(false);
    node.backups.set('/tmp/chosen/commonplace-key.txt', { member: 'MEMBER0000ME', passphrase: 'river stone lantern' });
    renderIn(app, FirstRun);
    await fireEvent.click(screen.getByRole('tab', { name: /Restore/ }));
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    expect(screen.getByRole('alert').textContent).toContain('Choose the key backup file');
    await fireEvent.click(screen.getByTestId('restore-choose'));
    await settle();
    expect(node.calls.find((c) => c.name === 'chooseFile')?.args).toEqual(['key_restore', 'commonplace-key.txt', false]);
    expect(screen.getByTestId('restore-file').textContent).toBe('/tmp/chosen/commonplace-key.txt');
    expect(screen.getByTestId('restore-member').textContent).toContain('MEMBER0000ME');
    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'not it at all' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('Wrong passphrase or damaged backup');
    expect(app.phase).toBe('identity');
    await fireEvent.input(screen.getByTestId('restore-passphrase'), { target: { value: 'river stone lantern' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    expect(app.phase).toBe('community');
    expect(app.identity?.backed_up_at).toBeTypeOf('number');
  });

  it('restores an old plaintext key file without a passphrase, recommending a new backup', async () => {
    const { node, app } = await startApp(false);
    node.backups.set('/tmp/chosen/commonplace-key.txt', { member: 'MEMBER0000ME', passphrase: null });
    renderIn(app, FirstRun);
    await fireEvent.click(screen.getByRole('tab', { name: /Restore/ }));
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi' } });
    await fireEvent.click(screen.getByTestId('restore-choose'));
    await settle();
    expect(screen.getByTestId('restore-plaintext-note').textContent).toContain('make a new one in Settings');
    expect(screen.queryByTestId('restore-passphrase')).toBeNull();
    await fireEvent.click(screen.getByTestId('create-identity'));
    await settle();
    expect(app.phase).toBe('community');
    expect(app.identity?.backed_up_at).toBeNull();
  });

  it('says in words when the chosen file is not a backup', async () => {
    const { app } = await startApp(false);
    renderIn(app, FirstRun);
    await fireEvent.click(screen.getByRole('tab', { name: /Restore/ }));
    await fireEvent.click(screen.getByTestId('restore-choose'));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('not a Commonplace key backup');
    expect(screen.queryByTestId('restore-file')).toBeNull();
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
    expect(document.activeElement).toBe(screen.getByTestId('restore-choose'));
    expect(screen.queryByRole('alert')).toBeNull();
    await fireEvent.input(screen.getByTestId('identity-name'), { target: { value: 'Ravi Patel' } });
    await fireEvent.click(screen.getByTestId('create-identity'));
    expect(screen.getByRole('alert').textContent).toContain('key backup file');
    await fireEvent.click(screen.getByRole('tab', { name: "I'm new here" }));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('identity-name'));
    // The new-member tab still shows its own error, not the restore tab's.
    expect(screen.getByRole('alert').textContent).toContain('name');
    expect(screen.getByRole('alert').textContent).not.toContain('key backup file');
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

  it('after a restore, offers getting the communities back and says why it did not work', async () => {
    const { app } = await startApp(false);
    await app.setIdentity(await app.backend.createIdentity('Ravi', null, null));
    app.restored = true;
    renderIn(app, CommunitySetup);
    await settle();
    const section = screen.getByTestId('recover-section') as HTMLDetailsElement;
    expect(section.open).toBe(true);
    await fireEvent.input(screen.getByTestId('recover-address'), { target: { value: 'cppeer1someone' } });
    await fireEvent.click(screen.getByTestId('recover-submit'));
    await settle();
    expect(screen.getByTestId('recover-error').textContent).toContain('holds no community you are a member of');
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
