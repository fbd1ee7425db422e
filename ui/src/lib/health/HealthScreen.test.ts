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
});
