import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeNode } from '../testing/fake';
import { EntryEditor } from './editor.svelte';

async function setup(latency = 0) {
  const node = new FakeNode();
  const community = node.seed();
  const b = node.backend();
  const id = await b.createEntry(community, { kind: 'method', title: 'Handover', body: 'Start.', tags: [], from_thread: null });
  node.calls = [];
  const editor = new EntryEditor(id, { api: node.api() });
  await editor.load();
  editor.listen();
  await Promise.resolve();
  node.latency = latency;
  return { node, editor, id };
}

const edits = (node: FakeNode) => node.calls.filter((c) => c.name === 'editEntryText');

describe('EntryEditor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads the text and shows it as saved', async () => {
    const { editor } = await setup();
    expect(editor.text).toBe('Start.');
    expect(editor.saveState).toBe('saved');
  });

  it('sends one save after a pause in typing, with the version it last saw', async () => {
    const { node, editor } = await setup();
    const version = node.entryVersion.get(editor.id);
    editor.input('Start. A');
    await vi.advanceTimersByTimeAsync(200);
    editor.input('Start. AB');
    await vi.advanceTimersByTimeAsync(200);
    editor.input('Start. ABC');
    expect(editor.saveState).toBe('pending');
    await vi.advanceTimersByTimeAsync(399);
    expect(edits(node)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.runAllTimersAsync();
    expect(edits(node)).toHaveLength(1);
    expect(edits(node)[0].args).toEqual([editor.id, [version], 'Start. ABC']);
    expect(editor.saveState).toBe('saved');
    expect(node.entries.get(editor.id)!.body).toBe('Start. ABC');
  });

  it('keeps one save in flight and sends the newest text after it, on the new version', async () => {
    const { node, editor } = await setup(300);
    editor.input('Start. one');
    await vi.advanceTimersByTimeAsync(400); // first save goes out, takes 300 ms
    expect(edits(node)).toHaveLength(1);
    editor.input('Start. one two');
    await vi.advanceTimersByTimeAsync(200);
    editor.input('Start. one two three');
    await vi.advanceTimersByTimeAsync(250); // debounce elapsed while the first is still in flight
    expect(edits(node)).toHaveLength(1);
    await vi.runAllTimersAsync();
    expect(edits(node)).toHaveLength(2);
    const [, version, text] = edits(node)[1].args as [string, string[], string];
    expect(text).toBe('Start. one two three');
    expect(version).not.toEqual(edits(node)[0].args[1]);
    expect(editor.saveState).toBe('saved');
    expect(node.entries.get(editor.id)!.body).toBe('Start. one two three');
  });

  it('replaces the text when another member edits and nothing is pending here', async () => {
    const { node, editor } = await setup();
    const replaced = vi.fn();
    editor.onReplace = replaced;
    node.remoteEdit(editor.id, (t) => `Intro. ${t}`);
    await vi.runAllTimersAsync();
    expect(editor.text).toBe('Intro. Start.');
    expect(replaced).toHaveBeenCalledWith('Start.', 'Intro. Start.');
    expect(editor.saveState).toBe('saved');
  });

  it('loses nothing when both edit at once: the save brings their text back merged', async () => {
    const { node, editor } = await setup(50);
    editor.input('Start. Mine.');
    // Their edit arrives while ours waits for the pause: it must not overwrite what we typed.
    node.remoteEdit(editor.id, (t) => `Theirs. ${t}`);
    await vi.advanceTimersByTimeAsync(10);
    expect(editor.text).toBe('Start. Mine.');
    await vi.runAllTimersAsync();
    expect(editor.text).toBe('Theirs. Start. Mine.');
    expect(node.entries.get(editor.id)!.body).toBe('Theirs. Start. Mine.');
    expect(editor.saveState).toBe('saved');
  });

  it('replays what was typed during a save on top of the merged answer', async () => {
    const { node, editor } = await setup(300);
    editor.input('Start. A');
    await vi.advanceTimersByTimeAsync(400); // in flight
    node.remoteEdit(editor.id, (t) => `X ${t}`); // lands before our save is applied
    editor.input('Start. AB'); // typed during the save
    await vi.runAllTimersAsync();
    expect(editor.text).toBe('X Start. AB');
    expect(node.entries.get(editor.id)!.body).toBe('X Start. AB');
  });

  it('shows a refused save as an error in words and keeps the text', async () => {
    const { node, editor } = await setup();
    node.failures.set('editEntryText', { code: 'not_allowed', message: 'observers cannot edit the repertoire' });
    editor.input('Start. Typed.');
    await vi.advanceTimersByTimeAsync(400);
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.error).toBe('Observers cannot edit the repertoire');
    expect(editor.text).toBe('Start. Typed.');
    // It tries once more on its own, and then it is stored.
    await vi.runAllTimersAsync();
    expect(node.entries.get(editor.id)!.body).toBe('Start. Typed.');
    expect(editor.saveState).toBe('saved');
  });

  it('takes a save refused as a stale version (by its code) back on the current text', async () => {
    const { node, editor } = await setup();
    node.failures.set('editEntryText', {
      code: 'stale_version',
      message: 'the text changed since it was opened here; it has been reloaded, please apply your edit again',
    });
    editor.input('Start. Typed.');
    await vi.advanceTimersByTimeAsync(400);
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.saveState).toBe('error');
    expect(editor.text).toBe('Start. Typed.');
    await vi.runAllTimersAsync();
    expect(node.entries.get(editor.id)!.body).toBe('Start. Typed.');
    expect(editor.saveState).toBe('saved');
  });
});
