import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import ThreadView from './ThreadView.svelte';
import { notices } from '../shell/errors.svelte';

async function open() {
  const { node, app } = await startApp();
  node.addMember(app.currentId!, 'MEMBER0000OTHER', 'Jonas');
  await app.refreshCommunity();
  const id = await node.backend().createThread(app.currentId!, { activity: 'request', title: 'Silver dressings?', body: 'Has anyone used them weekly?', tags: ['dressings'] });
  node.remoteReply(id, 'MEMBER0000OTHER', 'Yes, every week for a month.');
  await settle();
  renderIn(app, ThreadView, { id });
  await settle();
  return { node, app, id };
}

describe('ThreadView', () => {
  it('shows the opening post and replies with who signed them, and marks them read', async () => {
    const { node, id } = await open();
    expect(screen.getByTestId('thread-title-heading').textContent).toBe('Silver dressings?');
    const posts = screen.getAllByTestId('post');
    expect(posts).toHaveLength(2);
    expect(posts[1].textContent).toContain('Jonas');
    expect(posts[1].textContent).toContain('verified');
    expect(node.read.get(id)).toBe(2);
  });

  it('posts a reply that appears at once', async () => {
    await open();
    await fireEvent.input(screen.getByTestId('reply-body'), { target: { value: 'Thanks, trying it.' } });
    await fireEvent.click(screen.getByTestId('post-reply'));
    await settle();
    expect(screen.getAllByTestId('post').map((p) => p.textContent).join()).toContain('Thanks, trying it.');
    expect((screen.getByTestId('reply-body') as HTMLTextAreaElement).value).toBe('');
  });

  it('shows a reply from another member without any click', async () => {
    const { node, id } = await open();
    node.remoteReply(id, 'MEMBER0000OTHER', 'Also: check for allergies.');
    await settle();
    expect(screen.getAllByTestId('post')).toHaveLength(3);
  });

  it('resolves with an answer pinned under the question, and reopens', async () => {
    await open();
    expect(screen.getByTestId('thread-state').textContent).toBe('Open');
    await fireEvent.click(screen.getByTestId('mark-answer'));
    await settle();
    expect(screen.getByTestId('thread-state').textContent).toBe('Resolved');
    expect(screen.getByTestId('answer').textContent).toContain('Yes, every week for a month.');
    await fireEvent.click(screen.getByTestId('reopen'));
    await settle();
    expect(screen.getByTestId('thread-state').textContent).toBe('Open');
    expect(screen.queryByTestId('answer')).toBeNull();
  });

  it('counts "this helped" and promotes the thread into the repertoire', async () => {
    const { app, node } = await open();
    // Only Jonas's reply has the button: the opening post is mine.
    const helped = screen.getAllByTestId('helped');
    expect(helped).toHaveLength(1);
    await fireEvent.click(helped[0]);
    await settle();
    expect(screen.getAllByTestId('helped')[0].textContent).toContain('1');
    expect((screen.getByTestId('promote-kind') as HTMLSelectElement).value).toBe('lesson');
    await fireEvent.click(screen.getByTestId('promote'));
    await settle();
    expect(app.route.name).toBe('entry');
    const entry = [...node.entries.values()][0];
    expect(entry.kind).toBe('lesson');
    expect(entry.title).toBe('Silver dressings?');
  });

  it('toggles "this helped" on others’ posts and offers nothing to mark on one’s own', async () => {
    const { node, id } = await open();
    const reply = node.threads.get(id)!.replies[0];
    // Jonas found my question helpful: I see the count, with no button to press.
    node.threads.get(id)!.opening.helped_by.push('MEMBER0000OTHER');
    node.remoteReply(id, 'MEMBER0000OTHER', 'And a follow-up.');
    await settle();
    const posts = screen.getAllByTestId('post');
    expect(posts[0].querySelector('[data-testid="helped"]')).toBeNull();
    expect(posts[0].querySelector('[data-testid="helped-count"]')!.textContent).toContain('Helped 1');
    // On Jonas's reply: mark, then take it back.
    const button = () => screen.getAllByTestId('post')[1].querySelector('[data-testid="helped"]') as HTMLButtonElement;
    await fireEvent.click(button());
    await settle();
    expect(button().getAttribute('aria-pressed')).toBe('true');
    expect(reply.helped_by).toEqual(['MEMBER0000ME']);
    await fireEvent.click(button());
    await settle();
    expect(button().getAttribute('aria-pressed')).toBe('false');
    expect(reply.helped_by).toEqual([]);
    expect(node.calls.map((c) => c.name)).toContain('unmarkHelped');
  });

  it('opens the entry a thread was promoted to before, with a notice, instead of a copy', async () => {
    const { app, node, id } = await open();
    // Another member promoted it; this window's list of entries has not caught up.
    const earlier = await node.backend().createEntry(app.currentId!, { kind: 'lesson', title: null, body: null, tags: [], from_thread: id });
    await fireEvent.click(screen.getByTestId('promote'));
    await settle();
    expect(app.route).toEqual({ name: 'entry', id: earlier });
    expect(node.entries.size).toBe(1);
    expect(notices.list.map((n) => n.text)).toContain('Already in the repertoire');
  });

  it('offers resolving only to the thread’s author and coordinators', async () => {
    const { node, app } = await startApp();
    node.communities.get(app.currentId!)!.roster.members['MEMBER0000ME']!.role = 'member';
    node.addMember(app.currentId!, 'MEMBER0000OTHER', 'Jonas');
    await app.refreshAll();
    const id = await node.backend().createThread(app.currentId!, { activity: 'problem', title: 'Theirs', body: '…', tags: [] });
    node.threads.get(id)!.opening.author = 'MEMBER0000OTHER';
    node.remoteReply(id, 'MEMBER0000OTHER', 'More.');
    renderIn(app, ThreadView, { id });
    await settle();
    expect(screen.queryByTestId('resolve')).toBeNull();
    expect(screen.queryByTestId('mark-answer')).toBeNull();
    expect(screen.getByTestId('reply-body')).toBeTruthy();
    expect(screen.getByTestId('promote')).toBeTruthy();
  });

  it('replies to a particular post and says so', async () => {
    const { node, id } = await open();
    await fireEvent.click(screen.getAllByTestId('reply-to')[0]);
    expect(screen.getByRole('status').textContent).toContain('Replying to Jonas');
    await fireEvent.input(screen.getByTestId('reply-body'), { target: { value: 'How often did you check?' } });
    await fireEvent.click(screen.getByTestId('post-reply'));
    await settle();
    const replyTo = node.threads.get(id)!.replies[0].id;
    expect(node.calls.find((c) => c.name === 'reply')?.args).toEqual([id, 'How often did you check?', replyTo]);
    expect(screen.getAllByTestId('post')[2].textContent).toContain('in reply to Jonas');
  });
});
