import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import MembersScreen from './MembersScreen.svelte';

describe('MembersScreen', () => {
  it('lists members with roles; a coordinator invites and sees the code and QR code', async () => {
    const { node, app } = await startApp();
    node.addMember(app.currentId!, 'MEMBER0000OTHER', 'Jonas');
    await app.refreshCommunity();
    renderIn(app, MembersScreen);
    await settle();
    expect(screen.getAllByTestId('member-row').map((r) => r.textContent)).toEqual([
      expect.stringContaining('Amira Haddad'),
      expect.stringContaining('Jonas'),
    ]);
    await fireEvent.click(screen.getByTestId('invite-open'));
    await settle();
    // A code for a member, valid a week, is there at once.
    expect(screen.getByTestId('invite-code').textContent).toBe('cpinvite1examplecode');
    expect(node.calls.find((c) => c.name === 'createInvite')?.args).toEqual([app.currentId, 'member', 7]);
    await fireEvent.change(screen.getByTestId('invite-role'), { target: { value: 'observer' } });
    await fireEvent.click(screen.getByTestId('invite-create'));
    await settle();
    expect(screen.getByTestId('invite-code').textContent).toBe('cpinvite1examplecode');
    expect(screen.getByTestId('invite-qr').querySelector('svg')).not.toBeNull();
    expect(node.calls.filter((c) => c.name === 'createInvite').at(-1)?.args).toEqual([app.currentId, 'observer', 7]);
  });

  it('shows the short code large, and lists this computer’s invitations with Revoke', async () => {
    const { node, app } = await startApp();
    renderIn(app, MembersScreen);
    await fireEvent.click(screen.getByTestId('invite-open'));
    await settle();
    expect(screen.getByTestId('invite-short-code').textContent).toBe('K7QM-3XPA-9FHD-2W00');
    // The long code stays for those who cannot reach this computer by the short one.
    expect(screen.getByTestId('invite-code').textContent).toBe('cpinvite1examplecode');
    await fireEvent.click(screen.getByTestId('invite-create'));
    await settle();
    expect(screen.getByTestId('invite-short-code').textContent).toBe('K7QM-3XPA-9FHD-2W01');
    let rows = screen.getAllByTestId('pending-invitation');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('K7QM-3XPA-9FHD-2W01'),
      expect.stringContaining('K7QM-3XPA-9FHD-2W00'),
    ]);
    expect(screen.getAllByTestId('invite-revoke')).toHaveLength(2);
    // Someone joined with the older one: it shows who, and cannot be revoked.
    Object.assign(node.invitations[1]!, { state: 'used', used_by: 'MEMBER0000OTHER', used_by_name: 'Jonas', used_at: Date.now() });
    await fireEvent.click(screen.getByTestId('invite-create'));
    await settle();
    rows = screen.getAllByTestId('pending-invitation');
    expect(rows[2]!.textContent).toContain('by Jonas');
    expect(screen.getAllByTestId('invite-revoke')).toHaveLength(2);
    // Revoking the code on show takes it off the panel.
    await fireEvent.click(screen.getAllByTestId('invite-revoke')[0]!);
    await settle();
    expect(node.calls.find((c) => c.name === 'revokeInvite')?.args).toEqual(['K7QM-3XPA-9FHD-2W02']);
    expect(screen.getAllByTestId('pending-state').map((s) => s.textContent)).toEqual(['Revoked', 'Waiting', 'Used']);
    expect(screen.queryByTestId('invite-short-code')).toBeNull();
    expect(screen.getAllByTestId('invite-revoke')).toHaveLength(1);
  });

  it('asks before removing a member', async () => {
    const { node, app } = await startApp();
    node.addMember(app.currentId!, 'MEMBER0000OTHER', 'Jonas');
    await app.refreshCommunity();
    renderIn(app, MembersScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('member-remove'));
    expect(node.calls.some((c) => c.name === 'removeMember')).toBe(false);
    await fireEvent.click(screen.getByTestId('member-remove-confirm'));
    await settle();
    expect(node.calls.some((c) => c.name === 'removeMember')).toBe(true);
    expect(screen.getAllByTestId('member-row')).toHaveLength(1);
  });

  it('offers no invite or role changes to someone who is not a coordinator', async () => {
    const { node, app } = await startApp();
    node.communities.get(app.currentId!)!.roster.members['MEMBER0000ME']!.role = 'member';
    await app.refreshAll();
    renderIn(app, MembersScreen);
    await settle();
    expect(screen.queryByTestId('invite-open')).toBeNull();
    expect(screen.queryByTestId('member-role')).toBeNull();
  });

  it('waits for the network when an invite is asked for just after start', async () => {
    const { node, app } = await startApp();
    node.failures.set('createInvite', { code: 'network', message: 'not connected to the network: see Sync for why' });
    renderIn(app, MembersScreen);
    await fireEvent.click(screen.getByTestId('invite-open'));
    await settle();
    expect(screen.getByText('Waiting for the network to make a code…')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    await settle();
    expect(screen.getByTestId('invite-code').textContent).toBe('cpinvite1examplecode');
  });

  it('shows each member’s participation level; a coordinator changes the thresholds', async () => {
    const { node, app } = await startApp();
    const c = app.currentId!;
    node.addMember(c, 'MEMBER0000OTHER', 'Jonas');
    const b = node.backend();
    for (let i = 0; i < 5; i++) await b.createThread(c, { activity: 'discussion', title: `T${i}`, body: 'x', tags: [] });
    await app.refreshCommunity();
    renderIn(app, MembersScreen);
    await settle(10);
    expect(screen.getAllByTestId('member-level').map((r) => r.textContent?.trim().split(/\s+/)[0])).toEqual(['Active', 'Inactive']);
    expect(screen.getByTestId('level-thresholds').textContent).toContain('core from 20, active from 5, peripheral from 1');
    await fireEvent.click(screen.getByTestId('levels-edit'));
    await fireEvent.input(screen.getByTestId('levels-core'), { target: { value: '4' } });
    await fireEvent.input(screen.getByTestId('levels-active'), { target: { value: '2' } });
    await fireEvent.click(screen.getByTestId('levels-save'));
    await settle(10);
    expect(node.calls.find((x) => x.name === 'setLevelThresholds')?.args[1]).toEqual({ window_days: 90, core: 4, active: 2, peripheral: 1 });
    expect(screen.getAllByTestId('member-level')[0].textContent).toContain('Core');
  });
});
