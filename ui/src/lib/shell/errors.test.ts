import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { BackendError } from '../backend';
import Notices from '../ui/Notices.svelte';
import { describeError, notices } from './errors.svelte';

describe('describeError', () => {
  it('shows the node’s message as a sentence, never the code', () => {
    const e = new BackendError({ code: 'network', message: 'not connected to the network: see Sync for why' });
    expect(describeError(e)).toBe('Not connected to the network: see Sync for why');
  });

  it('copes with plain errors, error-like objects and strings', () => {
    expect(describeError(new Error('disk full'))).toBe('Disk full');
    expect(describeError({ code: 'storage', message: 'locked' })).toBe('Locked');
    expect(describeError('')).toBe('Something went wrong.');
  });
});

describe('Notices', () => {
  it('shows an error as an alert that can be dismissed', async () => {
    notices.clear();
    render(Notices);
    notices.error(new BackendError({ code: 'not_allowed', message: 'only coordinators may invite' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Only coordinators may invite');
    (screen.getByRole('button', { name: 'Dismiss' }) as HTMLButtonElement).click();
    await Promise.resolve();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
