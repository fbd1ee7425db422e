import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import HealthScreen from './HealthScreen.svelte';

describe('HealthScreen', () => {
  it('shows the figures of the period, the charts’ numbers, levels and gaps', async () => {
    const { node, app } = await startApp();
    const c = app.currentId!;
    node.addMember(c, 'MEMBER0000JONAS', 'Jonas Berg');
    const b = node.backend();
    const t1 = await b.createThread(c, { activity: 'request', title: 'Silver dressings weekly?', body: 'Anyone?', tags: ['dressings'] });
    node.remoteReply(t1, 'MEMBER0000JONAS', 'Yes, six weeks.');
    await b.resolve(t1, node.threads.get(t1)!.replies[0].id);
    await b.createThread(c, { activity: 'request', title: 'Barrier cream?', body: 'Which?', tags: ['skin'] });
    await b.createThread(c, { activity: 'story', title: 'A night shift', body: '…', tags: [] });
    renderIn(app, HealthScreen);
    await settle(10);
    expect(screen.getByTestId('kpi-posts').textContent).toContain('4');
    expect(screen.getByTestId('kpi-posts').textContent).toContain('3 threads, 1 replies');
    expect(screen.getByTestId('kpi-resolved').textContent).toContain('50%');
    expect(screen.getByTestId('kpi-resolved').textContent).toContain('of 2 requests');
    expect(screen.getByTestId('kpi-active').textContent).toContain('2');
    // The chart's figures are there as a table too: this week's row holds every post.
    const rows = [...screen.getByTestId('chart-posts-table').querySelectorAll('tbody tr')];
    const last = rows.at(-1)!.textContent!;
    expect(last).toContain('3');
    expect(last).toContain('1');
    expect(screen.getByTestId('health-levels').textContent).toContain('Peripheral');
    expect(screen.getByTestId('gaps-topics').textContent).toContain('#skin');
    expect(screen.getAllByTestId('topic-row').map((r) => r.querySelector('th')!.textContent)).toContain('#dressings');
    expect(screen.getByTestId('experts').textContent).toContain('Jonas Berg');
  });

  it('counts open and unanswered requests as the node does, and does not call them no gaps', async () => {
    const { node, app } = await startApp();
    const c = app.currentId!;
    node.addMember(c, 'MEMBER0000JONAS', 'Jonas Berg');
    const b = node.backend();
    const replied = await b.createThread(c, { activity: 'request', title: 'Replied', body: '?', tags: [] });
    node.remoteReply(replied, 'MEMBER0000JONAS', 'Like this.');
    const own = await b.createThread(c, { activity: 'request', title: 'Only the asker', body: '?', tags: [] });
    await b.reply(own, 'Anyone at all?', null);
    await b.createThread(c, { activity: 'request', title: 'Nothing yet', body: '?', tags: [] });
    renderIn(app, HealthScreen);
    await settle(10);
    // All asked today: none is a gap yet, and the screen says how many are open all the same.
    expect(screen.getByTestId('gaps-requests').textContent).toBe('3 of 3 requests open: 2 with no reply yet, 0 of them for more than a week.');
    expect(screen.getByTestId('gaps-none').textContent).toContain('no open request has gone a week without a reply');
    expect(screen.queryByTestId('gaps-unanswered')).toBeNull();
  });
});
