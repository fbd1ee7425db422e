import { describe, expect, it } from 'vitest';
import { startApp, settle } from '../testing/render';

describe('AppState', () => {
  it('starts at first run when the profile has no identity', async () => {
    const { app } = await startApp(false);
    expect(app.phase).toBe('identity');
  });

  it('asks for a community after creating an identity, and opens it once created', async () => {
    const { app } = await startApp(false);
    await app.setIdentity(await app.backend.createIdentity('Ravi', null, null));
    expect(app.phase).toBe('community');
    const id = await app.backend.createCommunity({ name: 'Bridges', domain: 'Inspection', issues: [], values: [], topics: [] });
    await app.refreshCommunities();
    await app.open(id);
    expect(app.phase).toBe('ready');
    expect(app.community?.charter.name).toBe('Bridges');
    expect(app.myRole).toBe('coordinator');
  });

  it('shows another member’s new thread and reply without any click', async () => {
    const { node, app } = await startApp();
    const community = app.currentId!;
    node.addMember(community, 'MEMBER0000OTHER', 'Jonas');
    await app.refreshCommunity();
    const b = node.backend();
    const t = await b.createThread(community, { activity: 'request', title: 'Anyone tried silver dressings?', body: 'For grade 3.', tags: ['dressings'] });
    await settle();
    expect(app.threads.map((x) => x.title)).toEqual(['Anyone tried silver dressings?']);
    expect(app.unreadThreads).toBe(1);
    node.remoteReply(t, 'MEMBER0000OTHER', 'Yes, weekly.');
    await settle();
    expect(app.threads[0].replies).toBe(1);
    expect(app.nameOf('MEMBER0000OTHER')).toBe('Jonas');
  });

  it('marks a thread read at once and stores it', async () => {
    const { node, app } = await startApp();
    const t = await node.backend().createThread(app.currentId!, { activity: 'story', title: 'A night', body: '…', tags: [] });
    await settle();
    expect(app.unreadThreads).toBe(1);
    const pending = app.markRead(t, 1);
    expect(app.unreadThreads).toBe(0);
    await pending;
    expect(node.read.get(t)).toBe(1);
  });

  it('tells how many changes have not been shared and who is connected', async () => {
    const { node, app } = await startApp();
    node.sync = {
      ...node.sync,
      peers: [{ member: 'MEMBER0000OTHER', name: 'Jonas', connected: true, last_ok: Date.now(), last: null }],
      unshared: [{ community: app.currentId!, name: 'Wound care nurses', changes: 3, others: 2 }],
    };
    node.emit('sync:changed');
    await settle();
    expect(app.unsharedHere).toBe(3);
    expect(app.connectedPeers.map((p) => p.name)).toEqual(['Jonas']);
  });

  it('does not reload the open community for changes in another one', async () => {
    const { node, app } = await startApp();
    await settle();
    node.calls = [];
    node.emit('node:thread-changed', { type: 'thread_changed', community: 'OTHER', thread: 'T1' });
    await settle();
    expect(node.calls.some((c) => c.name === 'threads')).toBe(false);
    expect(node.calls.some((c) => c.name === 'communities')).toBe(true);
  });

  it('reloads everything when events were dropped', async () => {
    const { node, app } = await startApp();
    await settle();
    node.calls = [];
    node.emit('node:resync');
    await settle();
    const names = node.calls.map((c) => c.name);
    for (const n of ['communities', 'community', 'threads', 'entries', 'syncStatus']) expect(names).toContain(n);
    expect(app.phase).toBe('ready');
  });
});
