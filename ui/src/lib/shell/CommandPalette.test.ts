import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import CommandPalette from './CommandPalette.svelte';

describe('CommandPalette', () => {
  it('narrows down as one types and runs the chosen item with Enter', async () => {
    const run = vi.fn();
    const onClose = vi.fn();
    render(CommandPalette, {
      props: {
        items: [
          { id: 'a', label: 'Threads', group: 'Go to', run: vi.fn() },
          { id: 'b', label: 'Night shift checklist', group: 'Thread', run },
        ],
        onClose,
      },
    });
    const input = screen.getByLabelText('Search');
    await fireEvent.input(input, { target: { value: 'night' } });
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual([expect.stringContaining('Night shift checklist')]);
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(onClose).toHaveBeenCalled();
    expect(run).toHaveBeenCalled();
  });

  it('closes with Escape', async () => {
    const onClose = vi.fn();
    render(CommandPalette, { props: { items: [], onClose } });
    await fireEvent.keyDown(screen.getByLabelText('Search'), { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
  });
});
