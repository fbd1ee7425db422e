import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import EntryView from './EntryView.svelte';

describe('EntryView', () => {
  it('shows the entry as a document with its author and where it came from', async () => {
    const { node, app } = await startApp();
    const t = await node.backend().createThread(app.currentId!, { activity: 'problem', title: 'Handover', body: 'It fails at night.', tags: [] });
    const id = await node.backend().createEntry(app.currentId!, { kind: 'lesson', title: null, body: null, tags: [], from_thread: t });
    await settle();
    renderIn(app, EntryView, { id });
    await settle();
    expect(screen.getByTestId('entry-title').textContent).toBe('Handover');
    expect((screen.getByTestId('entry-text') as HTMLTextAreaElement).value).toBe('It fails at night.');
    expect(screen.getByTestId('entry-view').textContent).toContain('Amira Haddad');
    expect(screen.getByTestId('entry-view').textContent).toContain('verified');
    expect(screen.getByTestId('entry-source').textContent).toBe('Handover');
    expect(screen.getByTestId('entry-saved').textContent).toBe('Saved');
  });

  it('keeps the caret in place when another member’s text arrives before it', async () => {
    const { node, app } = await startApp();
    const id = await node.backend().createEntry(app.currentId!, { kind: 'method', title: 'Steps', body: 'First step. Second step.', tags: [], from_thread: null });
    renderIn(app, EntryView, { id });
    await settle();
    const area = screen.getByTestId('entry-text') as HTMLTextAreaElement;
    area.focus();
    const caret = area.value.indexOf('Second');
    area.setSelectionRange(caret, caret + 'Second'.length);
    node.remoteEdit(id, (t) => `Before you start: wash hands. ${t}`);
    await settle();
    expect(area.value).toBe('Before you start: wash hands. First step. Second step.');
    expect(area.value.slice(area.selectionStart, area.selectionEnd)).toBe('Second');
  });

  it('saves typing and says so', async () => {
    const { node, app } = await startApp();
    const id = await node.backend().createEntry(app.currentId!, { kind: 'tool', title: 'Checklist', body: '', tags: [], from_thread: null });
    renderIn(app, EntryView, { id });
    await settle();
    const area = screen.getByTestId('entry-text') as HTMLTextAreaElement;
    await fireEvent.input(area, { target: { value: '- check the dressing' } });
    expect(screen.getByTestId('entry-saved').textContent).toBe('Editing…');
    await fireEvent.blur(area);
    await settle();
    expect(node.entries.get(id)!.body).toBe('- check the dressing');
    expect(screen.getByTestId('entry-saved').textContent).toBe('Saved');
  });
});
