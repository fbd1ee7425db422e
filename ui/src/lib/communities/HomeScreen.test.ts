import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import HomeScreen from './HomeScreen.svelte';

describe('HomeScreen', () => {
  it('lists the requests the node counts as unanswered: an asker’s own reply is no answer', async () => {
    const { node, app } = await startApp();
    const c = app.currentId!;
    node.addMember(c, 'MEMBER0000JONAS', 'Jonas Berg');
    const b = node.backend();
    const replied = await b.createThread(c, { activity: 'request', title: 'Replied', body: '?', tags: [] });
    node.remoteReply(replied, 'MEMBER0000JONAS', 'Like this.');
    const own = await b.createThread(c, { activity: 'request', title: 'Only the asker', body: '?', tags: [] });
    await b.reply(own, 'Anyone at all?', null);
    await app.refreshAll();
    renderIn(app, HomeScreen);
    await settle(10);
    const box = screen.getByRole('heading', { name: 'Waiting for an answer' }).parentElement!;
    expect(box.textContent).toContain('Only the asker');
    expect(box.textContent).not.toContain('Replied');
    expect(node.calls.some((x) => x.name === 'gaps')).toBe(true);
  });
});
