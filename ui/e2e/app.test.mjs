// End-to-end test of the real built desktop app, driven through WebDriver: tauri-driver in
// front of WebKitWebDriver, under Xvfb (scripts/e2e.sh starts it). A second member is the real
// `commonplace` CLI on its own profile, syncing with the app over loopback (relays off, no
// multicast). Screenshots of the main screens go to ui/e2e/screenshots/.
//
// Environment: COMMONPLACE_APP and COMMONPLACE_CLI (paths of the built binaries).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';
import { findOverflow } from './overflow.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.COMMONPLACE_APP;
const CLI = process.env.COMMONPLACE_CLI;
const PORT = 4444;
const shots = join(here, 'screenshots');
const root = mkdtempSync(join(tmpdir(), 'commonplace-e2e-'));
const appProfile = join(root, 'app');
const bea = join(root, 'bea');
// The app's file dialogs answer with files here (COMMONPLACE_E2E_FILE_DIR, see ui/README.md).
const files = join(root, 'files');

let driver;
let browser;

/** The focused element: its data-testid and data-key (the thread, entry or event of a row). */
const focused = () =>
  browser.execute(() => ({
    id: document.activeElement?.getAttribute('data-testid') ?? null,
    key: document.activeElement?.getAttribute('data-key') ?? null,
  }));
const waitForFocus = (want, msg) =>
  browser.waitUntil(
    async () => {
      const f = await focused();
      return Object.entries(want).every(([k, v]) => f[k] === v);
    },
    { timeout: 10_000, interval: 100, timeoutMsg: msg },
  );
/** How many rows with data-testid `id` are in the tab order (a list is one tab stop). */
const tabStops = (id) => browser.execute((id) => [...document.querySelectorAll(`[data-testid="${id}"]`)].filter((r) => r.tabIndex >= 0).length, id);

/** Runs the CLI as Bea; returns stdout. */
function cli(...args) {
  return execFileSync(CLI, ['--profile', bea, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

const $id = (id) => browser.$(`[data-testid="${id}"]`);

/** Saves what the window showed when a step failed, then fails with the same error. */
async function failed(step, e) {
  await browser.saveScreenshot(join(shots, `failed-${step}.png`)).catch(() => {});
  throw e;
}

async function waitFor(id, timeout = 15_000) {
  const el = await $id(id);
  await el.waitForDisplayed({ timeout, timeoutMsg: `${id} did not appear within ${timeout} ms` }).catch((e) => failed(id, e));
  return el;
}

async function type(id, text) {
  const el = await waitFor(id);
  await el.clearValue();
  await el.setValue(text);
}

async function click(id) {
  const el = await waitFor(id);
  await el.waitForClickable({ timeout: 10_000 });
  await el.click();
}

async function shot(name) {
  await browser.saveScreenshot(join(shots, `${name}.png`));
}

/** Waits until some element with `id` contains `text`. */
async function waitForText(id, text, timeout = 20_000) {
  await browser.waitUntil(
    async () => {
      // textContent, not getText: WebKit's innerText drops the text of line-clamped titles.
      const texts = await browser.execute(
        (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)].map((el) => el.textContent ?? ''),
        id,
      );
      if (texts.some((t) => t.replace(/\s+/g, ' ').includes(text))) return true;
      return false;
    },
    { timeout, interval: 200, timeoutMsg: `no ${id} showed "${text}" within ${timeout} ms` },
  ).catch((e) => failed(id, e));
}

before(async () => {
  assert.ok(APP && CLI, 'COMMONPLACE_APP and COMMONPLACE_CLI must point at the built binaries');
  mkdirSync(shots, { recursive: true });
  mkdirSync(files, { recursive: true });
  driver = spawn('tauri-driver', ['--port', String(PORT)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, COMMONPLACE_E2E_FILE_DIR: files },
  });
  // tauri-driver takes a moment to listen.
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/status`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await remote({
    hostname: '127.0.0.1',
    port: PORT,
    logLevel: 'warn',
    capabilities: {
      // WebKitWebDriver speaks classic WebDriver only (no BiDi session).
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': {
        application: APP,
        args: ['--profile', appProfile, '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns'],
      },
    },
  });
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  driver?.kill();
  rmSync(root, { recursive: true, force: true });
});

test('first run, a community, a thread answered and promoted, an entry edited, a second member live', async () => {
  // First run: the name field has the focus; each tab keeps its own error.
  await waitForFocus({ id: 'identity-name' }, 'the name field is not focused at first run');
  await click('create-identity'); // no name yet: the new-member tab shows why
  await browser.$('[role="alert"]').waitForDisplayed();
  await browser.$('button*=Restore from a key backup').click();
  await waitForFocus({ id: 'restore-choose' }, 'the restore tab did not focus its first field');
  assert.equal((await browser.$$('[role="alert"]')).length, 0, "the restore tab shows the other tab's error");
  await browser.$("button*=I'm new here").click();
  await waitForFocus({ id: 'identity-name' }, 'back on the first tab, the name is not focused');

  // An identity.
  await type('identity-name', 'Ana Silva');
  await type('identity-region', 'North');
  await type('identity-organisation', 'City of Riverside');
  await shot('01-first-run');
  await click('create-identity');

  // The key backup offered at once, sealed under a passphrase.
  await waitFor('backup-step');
  await type('backup-passphrase', 'lantern river stone');
  await type('backup-passphrase-confirm', 'lantern river stone');
  await click('backup-save');
  await waitForText('backup-done', 'Saved to');
  const keyFile = readdirSync(files).find((n) => n.startsWith('commonplace-key-') && n.endsWith('.txt'));
  assert.ok(keyFile, 'a key backup was written');
  assert.match(readFileSync(join(files, keyFile), 'utf8'), /^commonplace-key-backup-v2\nmember: /);
  // What a restore on a new computer would open (first run's Restore tab suggests this name).
  copyFileSync(join(files, keyFile), join(files, 'commonplace-key.txt'));
  await click('backup-continue');

  // A community.
  await type('community-name', 'Crime Prevention Network');
  await type('community-domain', 'Municipal crime prevention practice');
  await shot('02-create-community');
  await click('create-community');
  await waitFor('nav-threads');
  await shot('03-home');

  // A request for information.
  await click('nav-threads');
  await click('new-thread');
  const kind = await waitFor('thread-kind');
  await kind.selectByAttribute('value', 'request');
  await type('thread-title', 'Night-time lighting audits');
  await type('thread-body', 'Has anyone run a lighting audit with residents? How did you recruit them?');
  await type('thread-tags', 'lighting, residents');
  await shot('04-new-thread');
  await click('post-thread');
  await waitForText('thread-list', 'Night-time lighting audits');
  await waitFor('thread-view');
  await waitForText('thread-title-heading', 'Night-time lighting audits');
  // Nobody else has joined yet: a calm line, not a warning about unreachable members.
  await waitForText('unshared-status', 'Only you here so far');
  assert.ok(!(await (await $id('unshared-status')).getText()).includes('no members reachable'));

  // A reply, marked as the answer; the thread is resolved.
  await type('reply-body', 'We walked the streets with the residents association after dark, twice a year.');
  await click('post-reply');
  await waitForText('post', 'residents association after dark');
  const answerButtons = await browser.$$('[data-testid="mark-answer"]');
  assert.ok(answerButtons.length >= 1, 'a reply offers "mark as answer"');
  await answerButtons[answerButtons.length - 1].click();
  await waitForText('thread-state', 'Resolved');
  await shot('05-thread-resolved');

  // Promote into the repertoire and edit the entry.
  await click('promote');
  await waitFor('entry-view');
  await waitForText('entry-title', 'Night-time lighting audits');
  const text = await waitFor('entry-text');
  await text.click();
  await browser.keys(['End']);
  await text.addValue('\nLesson: recruit through the residents association.');
  await waitForText('entry-saved', 'Saved');
  await shot('06-entry');

  // Bea joins with an invitation from the app, over loopback.
  await click('nav-members');
  await click('invite-open');
  const codeEl = await waitFor('invite-code');
  await browser.waitUntil(async () => (await codeEl.getText()).trim().startsWith('cpinvite1'), {
    timeout: 15_000,
    timeoutMsg: 'no invitation code shown',
  });
  const code = (await codeEl.getText()).trim();
  await waitFor('invite-qr');
  await shot('07-members-invite');
  cli('init', '--name', 'Bea Okafor');
  cli('join', code, '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns');
  await waitForText('member-row', 'Bea Okafor');

  // Bea posts from the command line and syncs: the app shows it without any click.
  cli('thread', 'new', '--kind', 'story', '--title', 'How our night walks started', '--body', 'It began with one street.');
  cli('sync', '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns');
  await click('nav-threads');
  await waitForText('thread-row', 'How our night walks started', 30_000);
  await shot('08-threads-live');

  // Bea edits the same entry; Ana's open editor receives her text and keeps her own.
  const entries = JSON.parse(cli('--json', 'entry', 'list'));
  const list = Array.isArray(entries) ? entries : entries.entries;
  cli('entry', 'edit', list[0].id, '--append', '\nBea: bring torches for everyone.');
  await click('nav-repertoire');
  const rows = await browser.$$('[data-testid="entry-row"]');
  assert.ok(rows.length >= 1);
  await rows[0].click();
  await waitFor('entry-text');
  cli('sync', '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns');
  await browser.waitUntil(
    async () => {
      const v = await (await $id('entry-text')).getValue();
      return v.includes('bring torches') && v.includes('recruit through the residents association');
    },
    { timeout: 30_000, interval: 250, timeoutMsg: "Bea's edit did not arrive in the open editor with Ana's text kept" },
  );
  await shot('09-entry-merged');

  await click('nav-sync');
  await waitForText('peer-row', 'Bea Okafor');
  // Started with --relay none: the status says so (not "default public relays").
  await waitForText('relay-now', 'off');
  await shot('10-sync');

  // The command line beside the running app: it talks to the app's node over the profile's
  // control socket instead of stopping with "profile in use", and reads the live state.
  // (Writes through the socket are tested against `serve` in crates/cli/tests/control.rs; a
  // post here would change the counts the later steps check.)
  const live = JSON.parse(cliAs(appProfile, '--json', 'status'));
  assert.equal(live.online, true, `status through the app's socket: ${JSON.stringify(live)}`);
  const listed = cliAs(appProfile, '--json', 'thread', 'list');
  assert.ok(listed.includes('Night-time lighting audits'), listed);
  await click('nav-settings');
  await waitForText('backup-status', 'Backed up on');
  await shot('11-settings');
});

/** Waits until a figure card reads `text` (its value, then its label). */
async function waitForKpi(id, text, timeout = 30_000) {
  let seen = '';
  await browser
    .waitUntil(
      async () => {
        const el = await $id(id);
        if (!(await el.isExisting())) return false;
        seen = `${await (await el.$('.v')).getText()} ${await (await el.$('.l')).getText()}`.replace(/\s+/g, ' ');
        return seen.includes(text);
      },
      { timeout, interval: 250, timeoutMsg: `${id} did not read "${text}" within ${timeout} ms` },
    )
    .catch((e) => failed(id, new Error(`${e.message}; it read "${seen}"`)));
}

/** `2026-12-03T15:00`: the wall clock at `ms` in `timeZone`. */
function wallClock(ms, timeZone) {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

test('events, participation levels and the health report show what the members did', async () => {
  const sync = () => cli('sync', '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns');
  // Ana plans a workshop in three days (UTC, so the figures do not depend on the machine's zone).
  await click('nav-events');
  await click('event-new');
  const kind = await waitFor('event-kind');
  await kind.selectByAttribute('value', 'workshop');
  await type('event-title-input', 'Lighting audit workshop');
  const day = wallClock(Date.now() + 3 * 86_400_000, 'UTC').slice(0, 10);
  // Date and time inputs take what the keyboard would type; set them through the DOM instead.
  await browser.execute((d) => {
    const set = (id, v) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    };
    set('event-date', d);
    set('event-time', '10:00');
  }, day);
  const tz = await waitFor('event-tz');
  await tz.selectByAttribute('value', 'UTC');
  await type('event-duration', '120');
  await type('event-place', 'Town hall, room 2');
  await type('event-agenda', 'Walk the route, then map the dark spots.');
  await click('event-save');
  await waitForText('event-panel-title', 'Lighting audit workshop');
  await waitForText('event-when', '(2 hours)');
  await click('rsvp-going');
  await waitForText('event-answers', 'Going (1): Ana Silva');
  const notes = await waitFor('event-notes');
  await notes.setValue('Ana: bring the residents list.');
  await click('event-notes-save');
  await waitForText('event-counts', '1 going');

  // Bea answers and adds to the notes from the command line; she also held a kick-off call
  // three hours ago (in Toronto time) and attended it.
  sync();
  const events = JSON.parse(cli('--json', 'event', 'list'));
  const workshop = events.find((e) => e.title === 'Lighting audit workshop');
  assert.ok(workshop, 'the workshop reached Bea');
  assert.equal(workshop.start_local, `${day}T10:00`);
  cli('event', 'rsvp', workshop.id, 'going');
  cli('event', 'notes', workshop.id, '--append', '\nBea: bring torches.');
  const past = wallClock(Date.now() - 3 * 3_600_000, 'America/Toronto');
  const kickoff = cli('event', 'new', '--kind', 'call', '--title', 'Kick-off call', '--start', past, '--tz', 'America/Toronto', '--duration', '60m');
  cli('event', 'rsvp', kickoff, 'attended');
  sync();
  await waitForText('event-counts', '2 going', 30_000);
  await browser.waitUntil(
    async () => {
      const v = await (await $id('event-notes')).getValue();
      return v.includes('Ana: bring the residents list.') && v.includes('Bea: bring torches.');
    },
    { timeout: 30_000, interval: 250, timeoutMsg: "Bea's notes did not arrive with Ana's kept" },
  );
  await waitForText('event-answers', 'Going (2)');
  await shot('12-event');
  await click('events-past');
  await waitForText('event-row', 'Kick-off call');
  await waitForText('event-counts', '1 attended');
  await click('events-view-month');
  await waitForText('month-chip', 'Lighting audit workshop');
  await shot('13-events-month');

  // The calendar file holds both events.
  const ics = join(files, 'crime-prevention-network-events.ics');
  await click('events-export');
  await browser.waitUntil(async () => existsSync(ics), { timeout: 10_000, timeoutMsg: 'no .ics written' });
  const cal = readFileSync(ics, 'utf8');
  assert.match(cal, /^BEGIN:VCALENDAR\r\n/);
  assert.match(cal, /SUMMARY:Lighting audit workshop\r\n/);
  assert.match(cal, /SUMMARY:Kick-off call\r\n/);
  assert.match(cal, new RegExp(`DTSTART:${day.replaceAll("-", "")}T100000Z`));
  assert.equal(cal.match(/BEGIN:VEVENT/g).length, 2);

  // Participation levels: the same figures Bea's own machine computes from the same history.
  const levels = JSON.parse(cli('--json', 'members', '--levels'));
  const byName = Object.fromEntries(levels.members.map((m) => [m.member.name, m]));
  assert.equal(byName['Ana Silva'].threads, 1);
  assert.equal(byName['Ana Silva'].replies, 1);
  assert.equal(byName['Bea Okafor'].threads, 1);
  assert.equal(byName['Bea Okafor'].attended, 1);
  await click('nav-members');
  for (const name of ['Ana Silva', 'Bea Okafor']) {
    const m = byName[name];
    const label = m.level[0].toUpperCase() + m.level.slice(1);
    await browser.waitUntil(
      async () => {
        for (const row of await browser.$$('[data-testid="member-row"]')) {
          const t = await row.getText();
          if (t.includes(name)) return (await (await row.$('[data-testid="member-level"]')).getText()).replace(/\s+/g, ' ').startsWith(`${label} ${m.contributions}`);
        }
        return false;
      },
      { timeout: 20_000, interval: 250, timeoutMsg: `${name} is not shown as ${label} with ${m.contributions} contributions` },
    );
  }
  await waitForText('level-thresholds', 'core from 20, active from 5, peripheral from 1');
  await shot('14-members-levels');

  // The health report: three posts (two threads, one reply), the one request resolved, the
  // entry promoted from it, one call held with one attendance, two active members.
  const report = JSON.parse(cli('--json', 'health'));
  assert.equal(report.totals.posts, 3);
  await click('nav-health');
  await waitForKpi('kpi-posts', '3 posts (2 threads, 1 replies)');
  await waitForKpi('kpi-resolved', '100% of 1 requests resolved');
  await waitForKpi('kpi-active', '2 active members of 2');
  await waitForKpi('kpi-new', '2 new members');
  await waitForKpi('kpi-repertoire', '1 repertoire entries (+1, 1 from threads');
  await waitForKpi('kpi-events', '1 events held (1 attendances)');
  await waitForText('knowledge-map', '#lighting');
  await waitFor('chart-posts');
  await shot('15-health');
  await click('health-export-open');
  const page = join(files, `crime-prevention-network-health-${new Date().toISOString().slice(0, 10)}.html`);
  await click('health-export');
  await browser.waitUntil(async () => existsSync(page), { timeout: 10_000, timeoutMsg: 'no report written' });
  const html = readFileSync(page, 'utf8');
  assert.ok(html.includes('Crime Prevention Network') && html.includes('uPlot'), 'the report page names the community and carries its charts');

  // Profiles: Ana edits hers in Settings; Bea changes her organisation from the command line,
  // and Ana's roster shows it after a sync (a member writing her own roster entry).
  await click('nav-settings');
  await click('profile-edit');
  await type('profile-region-input', 'Riverside North');
  await click('profile-save');
  await waitForText('profile-region', 'Riverside North');
  cli('profile', '--organisation', 'Youth Services');
  sync();
  await click('nav-members');
  await waitForText('member-row', 'Youth Services', 30_000);
  await waitForText('member-row', 'Riverside North');
});

test('the status tells the truth when a member stops: not connected within seconds, and Sync now says why', async () => {
  // Bea's always-on peer: it links to Ana's app for live updates.
  const serve = spawn(CLI, ['--profile', bea, 'serve', '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await click('nav-sync');
    await browser.waitUntil(
      async () => {
        for (const row of await browser.$$('[data-testid="peer-row"]')) {
          if ((await row.getText()).includes('Bea Okafor') && (await (await row.$('[data-testid="peer-state"]')).getText()) === 'connected') return true;
        }
        return false;
      },
      { timeout: 40_000, interval: 250, timeoutMsg: "Bea's running node is not shown as connected" },
    );
    await waitForText('online-status', 'Online');
    await shot('16-sync-connected');
    // Ctrl+C on Bea's node: Ana's app stops calling her connected within seconds.
    serve.kill('SIGINT');
    const t0 = Date.now();
    await waitForText('peer-state', 'not connected', 15_000);
    const took = Date.now() - t0;
    assert.ok(took < 15_000, `it took ${took} ms to notice`);
  } finally {
    serve.kill('SIGKILL');
  }
  // "Sync now" while Bea is down: progress, then a line that names her.
  await click('sync-now');
  await waitForText('sync-result', 'Could not sync with Bea Okafor: their computer did not answer', 40_000);
  await shot('17-sync-stopped-peer');
});

/** Runs the CLI on another profile; returns stdout. */
function cliAs(profile, ...args) {
  return execFileSync(CLI, ['--profile', profile, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

/** Ana's own address, from Sync › Details. */
async function ownAddress() {
  await click('nav-sync');
  await browser.execute(() => {
    const d = document.querySelector('details.details');
    if (d) d.open = true;
  });
  const el = await waitFor('own-address');
  let addr = '';
  await browser.waitUntil(async () => (addr = (await el.getText()).trim()).startsWith('cppeer1'), {
    timeout: 15_000,
    timeoutMsg: 'no address shown under Sync › Details',
  });
  return addr;
}

test('a short invite code read over the phone lets a member in; a revoked one does not', async () => {
  const addr = await ownAddress();
  await click('nav-members');
  await click('invite-open');
  const shortEl = await waitFor('invite-short-code');
  let short = '';
  await browser.waitUntil(async () => /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test((short = (await shortEl.getText()).trim())), {
    timeout: 15_000,
    timeoutMsg: `no short code shown (saw "${short}")`,
  });
  await shot('21-invite-short');
  // Typed as heard: lower case, spaces for dashes.
  const cid = join(root, 'cid');
  cliAs(cid, 'init', '--name', 'Cid Moreau');
  cliAs(cid, 'join', short.toLowerCase().replaceAll('-', ' '), '--via', addr, '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns');
  await waitForText('member-row', 'Cid Moreau', 30_000);
  await waitForText('pending-invitation', 'Used');
  // A second code, revoked before anyone uses it: the holder is refused.
  await click('invite-create');
  const before = short;
  await browser.waitUntil(async () => ((short = (await (await $id('invite-short-code')).getText()).trim()) !== before && short.length === 19), {
    timeout: 15_000,
    timeoutMsg: 'no second short code',
  });
  const rows = await browser.$$('[data-testid="invite-revoke"]');
  assert.ok(rows.length >= 1, 'a waiting invitation offers Revoke');
  await rows[0].click();
  await waitForText('pending-invitation', 'Revoked');
  const dan = join(root, 'dan');
  cliAs(dan, 'init', '--name', 'Dan Osei');
  assert.throws(
    () => execFileSync(CLI, ['--profile', dan, 'join', short, '--via', addr, '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns'], { encoding: 'utf8', timeout: 60_000, stdio: 'pipe' }),
    (e) => /revoked/i.test(String(e.stderr)),
    'a revoked code let someone in',
  );
  await shot('22-invitations');
});

test('keyboard: a list is one tab stop; focus goes into what opens and back; ? lists the shortcuts', async () => {
  await click('nav-threads');
  await waitFor('thread-row');
  assert.equal(await tabStops('thread-row'), 1, 'the thread list is more than one tab stop');
  await browser.execute(() => document.querySelector('[data-testid="thread-row"]').focus());
  const first = await focused();
  await browser.keys(['j']);
  const second = await focused();
  assert.equal(second.id, 'thread-row');
  assert.notEqual(second.key, first.key, 'j did not move to the next thread');
  await browser.keys(['k']);
  assert.equal((await focused()).key, first.key, 'k did not move back');
  await browser.keys(['ArrowDown']);
  assert.equal((await focused()).key, second.key, 'ArrowDown did not move down');
  await browser.keys(['End']);
  await browser.keys(['Home']);
  assert.equal((await focused()).key, first.key, 'Home did not go to the first thread');
  await browser.keys(['j']);
  await browser.keys(['Enter']);
  await waitForFocus({ id: 'thread-title-heading' }, 'opening a thread did not move focus to its title');
  await click('reply-body');
  await browser.keys(['D', 'r', 'a', 'f', 't']);
  await browser.keys(['Escape']);
  await waitForFocus({ id: 'thread-row', key: second.key }, 'Esc from the reply box did not return to the thread row');
  assert.equal(await (await $id('reply-body')).getValue(), 'Draft', 'Esc lost the draft');
  await browser.keys(['Escape']); // closes the thread; focus stays on its row
  await (await $id('thread-view')).waitForExist({ reverse: true, timeout: 10_000 });
  await waitForFocus({ id: 'thread-row', key: second.key }, 'closing the thread did not leave focus on its row');
  await browser.keys(['?']);
  const dialog = await waitFor('shortcuts');
  for (const k of ['Ctrl', 'K', '/', 'j', 'k', 'Enter', 'Esc', '?']) assert.ok((await dialog.getText()).includes(k), `the shortcuts do not mention ${k}`);
  await shot('18-shortcuts');
  await browser.keys(['Escape']);
  await dialog.waitForExist({ reverse: true, timeout: 5_000 });
  await waitForFocus({ id: 'thread-row', key: second.key }, 'closing the shortcuts did not give focus back');

  // The repertoire and events lists: one tab stop; Enter opens (focus on the title), Esc
  // closes (focus back on the row).
  for (const [nav, row, title, what] of [
    ['nav-repertoire', 'entry-row', 'entry-title', 'entry'],
    ['nav-events', 'event-row', 'event-panel-title', 'event'],
  ]) {
    await click(nav);
    await waitFor(row);
    assert.equal(await tabStops(row), 1, `the ${what} list is more than one tab stop`);
    await browser.execute((row) => document.querySelector(`[data-testid="${row}"]`).focus(), row);
    const opened = await focused();
    await browser.keys(['Enter']);
    await waitForFocus({ id: title }, `opening an ${what} did not move focus to its title`);
    await browser.keys(['Escape']);
    await waitForFocus({ id: row, key: opened.key }, `closing the ${what} did not return to its row`);
  }

  await click('nav-members');
  await waitFor('member-row');
  assert.equal(await tabStops('member-row'), 1, 'the members table is more than one tab stop');
});

test('events: monthly on the second Thursday, six times, offered from the date and said in the panel', async () => {
  await click('nav-events');
  await click('event-new');
  await type('event-title-input', 'Case review');
  let t = Date.now() + 7 * 86_400_000;
  for (;;) {
    const d = new Date(t);
    if (d.getUTCDay() === 4 && d.getUTCDate() > 7 && d.getUTCDate() <= 14) break;
    t += 86_400_000;
  }
  const day = wallClock(t, 'UTC').slice(0, 10);
  await browser.execute((d) => {
    const el = document.querySelector('[data-testid="event-date"]');
    el.value = d;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, day);
  await (await waitFor('event-tz')).selectByAttribute('value', 'UTC');
  const repeat = await waitFor('event-repeat');
  await browser.waitUntil(async () => (await repeat.getText()).includes('Monthly on the second Thursday'), {
    timeout: 5_000,
    timeoutMsg: 'the form does not offer "Monthly on the second Thursday"',
  });
  await repeat.selectByAttribute('value', 'monthly-nth');
  await (await waitFor('event-ends')).selectByAttribute('value', 'count');
  await type('event-count', '6');
  await waitForText('event-repeat-words', 'Every month on the second Thursday, 6 times');
  await click('event-save');
  await waitForText('event-recur', 'Every month on the second Thursday, 6 times');
  await shot('19-event-monthly');
});

test('layout: nothing overflows at 1024×700 or 1280×800; titles clamp, rows show authors, the switcher has its arrow', async () => {
  for (const [w, h] of [
    [1024, 700],
    [1280, 800],
  ]) {
    await browser.setWindowSize(w, h).catch(() => {});
    for (const s of ['home', 'threads', 'repertoire', 'events', 'members', 'health', 'sync', 'settings']) {
      await click(`nav-${s}`);
      if (s === 'threads') await click('thread-row');
      await browser.pause(400);
      const over = await browser.execute(findOverflow);
      if (over.length) await shot(`failed-overflow-${s}-${w}`);
      assert.deepEqual(over, [], `${s} overflows at ${w}×${h}: ${JSON.stringify(over, null, 1)}`);
    }
    if (w === 1024) await shot('20-threads-1024');
  }
  await click('nav-threads');
  await waitFor('thread-row');
  const rows = await browser.execute(() =>
    [...document.querySelectorAll('[data-testid="thread-row"]')].map((r) => {
      const t = r.querySelector('[data-testid="thread-row-title"]');
      return {
        title: r.getAttribute('title'),
        text: t.textContent,
        lines: t.getBoundingClientRect().height / parseFloat(getComputedStyle(t).lineHeight),
        author: r.querySelector('[data-testid="thread-row-author"]')?.textContent ?? '',
      };
    }),
  );
  for (const r of rows) {
    assert.equal(r.title, r.text);
    assert.ok(r.lines <= 2.1, `"${r.text}" takes ${r.lines} lines`);
    assert.ok(r.author.trim().length > 0, `"${r.text}" shows no author`);
  }
  const sw = await browser.execute(() => ({
    arrow: getComputedStyle(document.querySelector('.switcher .current')).backgroundImage,
    title: document.querySelector('[data-testid="community-switcher"]').getAttribute('title'),
  }));
  assert.match(sw.arrow, /svg/, 'the community switcher lost its arrow');
  assert.ok(sw.title.length > 0);
});

test('a key restored on a fresh profile gets its community back from another member, with progress shown', async () => {
  // Bea's computer is gone; she kept a backup of her key.
  const pass = 'harbour lamp seventeen';
  execFileSync(CLI, ['--profile', bea, 'backup', '--out', join(files, 'commonplace-key.txt')], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, COMMONPLACE_PASSPHRASE: pass },
  });
  // Ana's computer now runs as an always-on peer (the app closes; the CLI serves its profile).
  await browser.deleteSession();
  // The app may take a moment to exit and free the profile: try again until it has.
  let serve;
  let address;
  for (let attempt = 0; attempt < 40 && !address; attempt++) {
    serve = spawn(CLI, ['--profile', appProfile, '--json', 'serve', '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    address = await new Promise((resolve) => {
      let out = '';
      const t = setTimeout(() => resolve(null), 30_000);
      serve.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.includes('"address"'));
        if (line) {
          clearTimeout(t);
          resolve(JSON.parse(line).address);
        }
      });
      serve.on('exit', () => {
        clearTimeout(t);
        resolve(null);
      });
    });
    if (!address) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(address, "Ana's profile could not be served");
  try {
    // Bea's new computer: the app on a fresh profile.
    const fresh = join(root, 'bea-new');
    browser = await remote({
      hostname: '127.0.0.1',
      port: PORT,
      logLevel: 'warn',
      capabilities: {
        'wdio:enforceWebDriverClassic': true,
        'tauri:options': { application: APP, args: ['--profile', fresh, '--bind', '127.0.0.1:0', '--relay', 'none', '--no-mdns'] },
      },
    });
    await browser.$("button*=Restore from a key backup").click();
    await click('restore-choose');
    await waitFor('restore-member');
    await type('restore-passphrase', pass);
    await type('identity-name', 'Bea Okafor');
    await click('create-identity');
    // The setup screen offers getting the communities back (not only "join or start").
    const section = await waitFor('recover-section');
    assert.equal(await section.getAttribute('open'), 'true', 'after a restore, getting communities back is open');
    await type('recover-address', address);
    await shot('23-restore-recover');
    await click('recover-submit');
    await waitFor('nav-threads', 60_000);
    await click('nav-threads');
    await waitForText('thread-row', 'Night-time lighting audits', 30_000);
    await waitForText('thread-row', 'How our night walks started');
    await shot('24-restored');
  } finally {
    serve.kill('SIGINT');
  }
});
