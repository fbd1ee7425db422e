import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/svelte';
import { renderIn, settle, startApp } from '../testing/render';
import EventsScreen from './EventsScreen.svelte';

const DAY = 86_400_000;

function local(ms: number): [string, string] {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return [`${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`, `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`];
}

describe('EventsScreen', () => {
  it('teaches what events are for when there are none', async () => {
    const { app } = await startApp();
    app.go({ name: 'events' });
    renderIn(app, EventsScreen);
    await settle();
    expect(screen.getByText('No events yet')).toBeTruthy();
  });

  it('offers the monthly patterns of the chosen date, with an end, and says them as the panel will', async () => {
    const { node, app } = await startApp();
    app.go({ name: 'events', compose: true });
    renderIn(app, EventsScreen);
    await settle();
    await fireEvent.input(screen.getByTestId('event-title-input'), { target: { value: 'Case review' } });
    // Thursday 28 January 2027: the fourth Thursday and the last.
    await fireEvent.input(screen.getByTestId('event-date'), { target: { value: '2027-01-28' } });
    await fireEvent.change(screen.getByTestId('event-tz'), { target: { value: 'Europe/Oslo' } });
    await settle();
    const labels = [...(screen.getByTestId('event-repeat') as HTMLSelectElement).options].map((o) => o.textContent);
    expect(labels).toEqual(['Does not repeat', 'Every week on Thursday', 'Every 2 weeks on Thursday', 'Monthly on day 28', 'Monthly on the fourth Thursday', 'Monthly on the last Thursday', 'Every year on 28 January', 'Custom rule (iCalendar RRULE)']);
    await fireEvent.change(screen.getByTestId('event-repeat'), { target: { value: 'monthly-last' } });
    await fireEvent.change(screen.getByTestId('event-ends'), { target: { value: 'until' } });
    await settle();
    await fireEvent.input(screen.getByTestId('event-until'), { target: { value: '2027-06-30' } });
    await settle();
    expect(screen.getByTestId('event-repeat-words').textContent).toBe('Every month on the last Thursday until 30 June 2027');
    await fireEvent.click(screen.getByTestId('event-save'));
    await settle(10);
    const created = node.calls.find((c) => c.name === 'createEvent')!.args[1] as Record<string, unknown>;
    expect(created.recur).toBe('FREQ=MONTHLY;BYDAY=-1TH;UNTIL=20270630T215959Z');
    expect(screen.getByTestId('event-recur').textContent).toContain('Every month on the last Thursday until 30 June 2027');
    // Editing shows the pattern chosen, not a custom rule.
    await fireEvent.click(screen.getByTestId('event-edit'));
    await settle();
    expect((screen.getByTestId('event-repeat') as HTMLSelectElement).value).toBe('monthly-last');
    expect((screen.getByTestId('event-until') as HTMLInputElement).value).toBe('2027-06-30');
    // A date that is not in the last week keeps "on a weekday" with the weekday it is.
    await fireEvent.input(screen.getByTestId('event-date'), { target: { value: '2027-02-11' } });
    await settle();
    expect((screen.getByTestId('event-repeat') as HTMLSelectElement).value).toBe('monthly-nth');
    expect(screen.getByTestId('event-repeat-words').textContent).toBe('Every month on the second Thursday until 30 June 2027');
  });

  it('plans a weekly event; it lists, answers and keeps notes', async () => {
    const { node, app } = await startApp();
    app.go({ name: 'events', compose: true });
    renderIn(app, EventsScreen);
    await settle();
    const [date, time] = local(Date.now() + 2 * DAY);
    await fireEvent.change(screen.getByTestId('event-kind'), { target: { value: 'call' } });
    await fireEvent.input(screen.getByTestId('event-title-input'), { target: { value: 'Practice call' } });
    await fireEvent.input(screen.getByTestId('event-date'), { target: { value: date } });
    await fireEvent.input(screen.getByTestId('event-time'), { target: { value: time } });
    await fireEvent.change(screen.getByTestId('event-tz'), { target: { value: 'UTC' } });
    await fireEvent.change(screen.getByTestId('event-repeat'), { target: { value: 'weekly' } });
    await fireEvent.click(screen.getByTestId('event-save'));
    await settle(10);
    const created = node.calls.find((c) => c.name === 'createEvent')!.args[1] as Record<string, unknown>;
    expect(created).toMatchObject({ kind: 'call', title: 'Practice call', start_local: `${date}T${time}`, tz: 'UTC', duration_min: 60, recur: 'FREQ=WEEKLY' });
    // Weekly for six months: the list holds every occurrence, the panel shows the first.
    const rows = screen.getAllByTestId('event-row');
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(screen.getByTestId('event-panel-title').textContent).toBe('Practice call');
    await fireEvent.click(screen.getByTestId('rsvp-going'));
    await settle(10);
    expect(node.calls.find((c) => c.name === 'rsvp')!.args.slice(2)).toEqual(['going']);
    expect(screen.getByTestId('event-answers').textContent).toContain('Going (1): Amira Haddad');
    expect(screen.getAllByTestId('event-counts')[0].textContent).toContain('1 going');
    await fireEvent.input(screen.getByTestId('event-notes'), { target: { value: 'Bring one case each.' } });
    await fireEvent.click(screen.getByTestId('event-notes-save'));
    await settle(10);
    expect([...node.events.values()][0].notes).toBe('Bring one case each.');
  });

  it('shows the month with the event on its day', async () => {
    const { node, app } = await startApp();
    const b = node.backend();
    const [date] = local(Date.now() + DAY);
    await b.createEvent(app.currentId!, { kind: 'workshop', title: 'Wound photo workshop', start_local: `${date}T10:00`, tz: 'UTC', duration_min: 120, place: 'Room 2', agenda: '', recur: null });
    await app.refreshEvents();
    app.go({ name: 'events' });
    renderIn(app, EventsScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('events-view-month'));
    await settle(10);
    const chips = screen.getAllByTestId('month-chip');
    // Tomorrow may fall in next month's grid only when today is the month's last day.
    if (new Date(Date.now() + DAY).getMonth() === new Date().getMonth()) expect(chips.map((c) => c.textContent)).toEqual([expect.stringContaining('Wound photo workshop')]);
  });

  it('counts what is coming up the same way in the list and the month view', async () => {
    const { app } = await startApp();
    const b = app.backend;
    // One event this week and one in three months: the month grid holds only the first.
    for (const [title, days] of [
      ['Case review', 1],
      ['Regional conference', 90],
    ] as const) {
      const [date] = local(Date.now() + days * DAY);
      await b.createEvent(app.currentId!, { kind: 'meeting', title, start_local: `${date}T10:00`, tz: 'UTC', duration_min: 60, place: '', agenda: '', recur: null });
    }
    await app.refreshEvents();
    app.go({ name: 'events' });
    renderIn(app, EventsScreen);
    await settle(10);
    const count = () => screen.getByTestId('events-coming-up').textContent;
    expect(count()).toBe('2 coming up in the next six months');
    await fireEvent.click(screen.getByTestId('events-view-month'));
    await settle(10);
    expect(count()).toBe('2 coming up in the next six months');
    expect(screen.getAllByTestId('month-chip').length).toBeLessThanOrEqual(1);
  });

  it('refuses an event without a title, saying why', async () => {
    const { app } = await startApp();
    app.go({ name: 'events', compose: true });
    renderIn(app, EventsScreen);
    await settle();
    await fireEvent.click(screen.getByTestId('event-save'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('Give the event a title.');
  });
});
