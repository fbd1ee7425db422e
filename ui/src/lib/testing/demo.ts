// Sample data for looking at the screens in a plain browser (`vite preview`, then `?demo`).
// The real app never loads this: it only runs outside the Tauri shell.
import { FakeNode } from './fake';

export async function demoNode(): Promise<FakeNode> {
  const node = new FakeNode();
  const c = node.seed('Amira Haddad');
  node.addMember(c, 'MEMBER0000JONAS', 'Jonas Berg');
  node.addMember(c, 'MEMBER0000PRIYA', 'Priya Nair');
  const com = node.communities.get(c)!;
  com.charter = {
    name: 'Wound care nurses North',
    domain: 'Community and hospital nurses who care for people with chronic wounds, sharing what works at the bedside and at home.',
    issues: ['Pressure ulcers in home care', 'Dressing shortages', 'Handover between shifts'],
    values: ['Share openly, including what went wrong', 'Evidence first, experience close behind'],
    topics: ['dressings', 'pressure ulcers', 'handover'],
  };
  com.roster.members['MEMBER0000JONAS']!.region = 'Tromsø';
  com.roster.members['MEMBER0000PRIYA']!.organisation = 'City Home Care';
  const b = node.backend();
  const t1 = await b.createThread(c, { activity: 'request', title: 'Has anyone used silver dressings weekly on grade 3 ulcers?', body: 'We are trialling silver dressings changed weekly instead of every three days. Has anyone done this for more than a month? What did you see?', tags: ['dressings', 'pressure ulcers'] });
  node.remoteReply(t1, 'MEMBER0000JONAS', 'Yes — six weeks on two patients. Healing was similar and the patients were much happier with fewer changes. Watch for maceration at the edges.');
  node.remoteReply(t1, 'MEMBER0000PRIYA', 'We stopped after two weeks because of cost, but clinically it looked fine.');
  const t2 = await b.createThread(c, { activity: 'problem', title: 'Night handover keeps missing repositioning times', body: 'The repositioning chart does not travel with the verbal handover. Three times this month the 2am turn was missed.', tags: ['handover'] });
  node.remoteReply(t2, 'MEMBER0000JONAS', 'We put the next turn time on the whiteboard by the bed. It sounds simple but it fixed it for us.');
  await b.resolve(t2, node.threads.get(t2)!.replies[0].id);
  await b.createThread(c, { activity: 'development', title: 'New national guideline on moisture-associated skin damage', body: 'Published last week. Key change: barrier products before any sign of redness.', tags: ['guidelines'] });
  await b.createThread(c, { activity: 'request', title: 'Which barrier cream do you stock?', body: 'Looking to standardise across our three teams.', tags: ['dressings'] });
  await b.createThread(c, { activity: 'story', title: 'The patient who taught me about off-loading', body: 'A story from my first year…', tags: [] });
  await b.markRead(t2, 2);
  const e = await b.createEntry(c, { kind: 'lesson', title: null, body: null, tags: [], from_thread: t2 });
  await b.editEntryText(e, [node.entryVersion.get(e)!], 'Write the next repositioning time on the whiteboard by the bed at every turn.\n\nWhy: the chart does not travel with the verbal handover; the whiteboard is seen by whoever comes in.\n\n- Use the 24-hour clock\n- Initial it');
  await b.createEntry(c, { kind: 'tool', title: 'Pressure area check before discharge', body: '1. Heels\n2. Sacrum\n3. Elbows', tags: ['pressure ulcers'], from_thread: null });
  const day = (d: number, hour: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10) + `T${String(hour).padStart(2, '0')}:00`;
  const call = await b.createEvent(c, { kind: 'call', title: 'Monthly practice call', start_local: day(-21, 15), tz: 'UTC', duration_min: 60, place: 'https://meet.example.org/wound-care', agenda: 'One case each, five minutes, then questions.', recur: 'monthly' });
  await b.rsvp(call, null, 'attended');
  await b.createEvent(c, { kind: 'workshop', title: 'Silver dressings: what we have seen', start_local: day(4, 10), tz: 'Europe/Oslo', duration_min: 120, place: 'St Mary, seminar room 3', agenda: 'Jonas shows his six-week series; we agree what to record.', recur: null });
  node.sync = {
    online: true,
    address: 'cppeer1qqexampleaddressforthedemo0000000000000000000',
    relay: { mode: 'default' },
    peers: [
      { member: 'MEMBER0000JONAS', name: 'Jonas Berg', connected: true, last_ok: Date.now() - 40_000, last: null },
      { member: 'MEMBER0000PRIYA', name: 'Priya Nair', connected: false, last_ok: Date.now() - 3 * 3600_000, last: null },
    ],
    unshared: [{ community: c, name: com.charter.name, changes: 2, others: 4 }],
  };
  return node;
}
