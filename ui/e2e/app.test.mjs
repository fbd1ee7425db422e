// End-to-end test of the real built desktop app, driven through WebDriver: tauri-driver in
// front of WebKitWebDriver, under Xvfb (scripts/e2e.sh starts it). A second member is the real
// `commonplace` CLI on its own profile, syncing with the app over loopback (relays off, no
// multicast). Screenshots of the main screens go to ui/e2e/screenshots/.
//
// Environment: COMMONPLACE_APP and COMMONPLACE_CLI (paths of the built binaries).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

const here = dirname(fileURLToPath(import.meta.url));
const APP = process.env.COMMONPLACE_APP;
const CLI = process.env.COMMONPLACE_CLI;
const PORT = 4444;
const shots = join(here, 'screenshots');
const root = mkdtempSync(join(tmpdir(), 'commonplace-e2e-'));
const appProfile = join(root, 'app');
const bea = join(root, 'bea');

let driver;
let browser;

/** Runs the CLI as Bea; returns stdout. */
function cli(...args) {
  return execFileSync(CLI, ['--profile', bea, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

const $id = (id) => browser.$(`[data-testid="${id}"]`);

async function waitFor(id, timeout = 15_000) {
  const el = await $id(id);
  await el.waitForDisplayed({ timeout, timeoutMsg: `${id} did not appear within ${timeout} ms` });
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
      for (const el of await browser.$$(`[data-testid="${id}"]`)) {
        if ((await el.getText()).includes(text)) return true;
      }
      return false;
    },
    { timeout, interval: 200, timeoutMsg: `no ${id} showed "${text}" within ${timeout} ms` },
  );
}

before(async () => {
  assert.ok(APP && CLI, 'COMMONPLACE_APP and COMMONPLACE_CLI must point at the built binaries');
  mkdirSync(shots, { recursive: true });
  driver = spawn('tauri-driver', ['--port', String(PORT)], { stdio: ['ignore', 'inherit', 'inherit'] });
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
  // First run: an identity.
  await type('identity-name', 'Ana Silva');
  await type('identity-region', 'North');
  await type('identity-organisation', 'City of Riverside');
  await shot('01-first-run');
  await click('create-identity');

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
  await shot('10-sync');
  await click('nav-settings');
  await waitFor('backup-path');
  await shot('11-settings');
});
