import { afterEach, describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import type { Identity } from '../bindings';
import { renderIn, settle, startApp } from '../testing/render';
import HomeScreen from '../communities/HomeScreen.svelte';
import { SNOOZE_MS, needsBackup, passphraseProblem, showReminder, snooze, snoozedAt } from './backup';

const me = (backed_up_at: number | null): Identity => ({ member: 'M1', name: 'A', region: null, organisation: null, profile: '/p', backed_up_at });

afterEach(() => localStorage.clear());

describe('backup rules', () => {
  it('explains a passphrase that is too short, too long or mistyped', () => {
    expect(passphraseProblem('', '')).toContain('at least 8 characters');
    expect(passphraseProblem('   abcd    ', '   abcd    ')).toContain('at least 8');
    expect(passphraseProblem('eight ch', 'eight ch')).toBeNull();
    expect(passphraseProblem('river stone', 'river stones')).toContain('not the same');
    expect(passphraseProblem('x'.repeat(1025), 'x'.repeat(1025))).toContain('longer than');
    // Characters, not bytes: eight accented letters are enough.
    expect(passphraseProblem('éééééééé', 'éééééééé')).toBeNull();
  });

  it('reminds until there is a backup, and a snooze lasts a week', () => {
    const now = 1_000_000_000_000;
    expect(needsBackup(null)).toBe(false);
    expect(needsBackup(me(null))).toBe(true);
    expect(showReminder(me(now - 1), null, now)).toBe(false);
    expect(showReminder(me(null), null, now)).toBe(true);
    expect(showReminder(me(null), now - 1000, now)).toBe(false);
    expect(showReminder(me(null), now - SNOOZE_MS, now)).toBe(true);
    // A clock set back does not hide it for good.
    expect(showReminder(me(null), now + 5000, now)).toBe(true);
  });

  it('keeps the snooze per member', () => {
    snooze('M1', 42);
    expect(snoozedAt('M1')).toBe(42);
    expect(snoozedAt('M2')).toBeNull();
  });
});

describe('the reminder on Home', () => {
  it('shows until dismissed, leads to Settings, and goes once backed up', async () => {
    const { app } = await startApp();
    renderIn(app, HomeScreen);
    await settle();
    expect(screen.getByTestId('backup-reminder').textContent).toContain('not backed up yet');
    await fireEvent.click(screen.getByTestId('backup-reminder-open'));
    expect(app.route.name).toBe('settings');
    await fireEvent.click(screen.getByTestId('backup-reminder-dismiss'));
    await settle();
    expect(screen.queryByTestId('backup-reminder')).toBeNull();
    expect(snoozedAt('MEMBER0000ME')).toBeTypeOf('number');
  });

  it('is not shown once the key is backed up', async () => {
    const { app } = await startApp();
    app.identity = await app.backend.backupKey('/tmp/k.txt', 'river stone lantern');
    renderIn(app, HomeScreen);
    await settle();
    expect(screen.queryByTestId('backup-reminder')).toBeNull();
  });
});
