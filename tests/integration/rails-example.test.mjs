// docs/rails.md's worked application, examples/rails/, run as the doc says: its commands are read
// from the doc (with the test's ports for 6001 and 3000): raptor with examples/gallery.rb and a
// webhook to Rails, `rails server` in production mode on Debian's Rails, two headless Chromium
// browsers signed in as the gallery's owner (Ann) and a visitor (Bob), and the doc's publish.rb
// command. What a Rails team gets: the visitors list follows both pages, a comment posted in one
// appears in the other (published by Rails through the HTTP API), the owner is told of it as a
// user event and nudges visitors on the privileged channel, and Rails receives signed webhooks.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { headlessChromium } from './lib/browser.mjs';
import { Raptor, freePort, inherited } from './lib/raptor.mjs';
import { hmacHex } from './lib/signature.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/rails.md'), 'utf8');
const GALLERY = { id: 'gallery', key: 'gallery-key', secret: randomBytes(32).toString('hex') };
// Guards against what never happens, not measures: a busy CI machine runs four test files at once.
const BOOT_LIMIT_MS = 45000; // Rails answering its first request
const PAGE_LIMIT_MS = 20000; // a page loading, a click, pusher-js connecting
const SHOW_LIMIT_MS = 10000; // a page showing what the server sent
const DEPARTURE_MS = 3000 + SHOW_LIMIT_MS; // member_removed waits raptor's 3 s departure delay first

// The doc's shell blocks, continuation lines joined, without comments and blank lines.
const shellBlocks = [...doc.matchAll(/```sh\n([^]*?)```/g)].map(([, text]) => text.replace(/\\\n\s*/g, ' ')
  .split('\n').map((line) => line.replace(/(^|\s+)#.*$/, '').trim()).filter(Boolean));
const blockWith = (pattern) => {
  const found = shellBlocks.find((lines) => lines.some((line) => pattern.test(line)));
  assert.ok(found, `docs/rails.md has a sh block with a line matching ${pattern}`);
  return found;
};

// "From zero": the secret, raptor in the background, Rails in the background.
const [secretLine, raptorLine, railsLine, ...rest] = blockWith(/^scripts\/start /);
assert.equal(secretLine, 'export RAPTOR_GALLERY_SECRET=$(openssl rand -hex 32)');
const raptorArgs = raptorLine.match(/^scripts\/start (.+) &$/)?.[1].split(/\s+/);
assert.ok(raptorArgs, `raptor runs in the background: ${raptorLine}`);
assert.match(railsLine, /^\(cd examples\/rails && .*rails server .*\) &$/);
assert.deepEqual(rest, []);
const publishLine = blockWith(/ruby examples\/publish\.rb/).find((line) => /ruby examples\/publish\.rb/.test(line));
const aptPackages = blockWith(/^apt-get install /)[0].split(/\s+/).slice(2).filter((word) => !word.startsWith('-'));

const withPorts = (text, { raptor, rails }) => text.replaceAll('6001', String(raptor)).replaceAll('3000', String(rails));

// The doc's `rails server` line, run by bash from the checkout in a process group of its own
// (bash, the subshell and Rails), so that stopping it reaches Rails whatever bash did.
class RailsServer {
  constructor(line, env) {
    this.pidDir = mkdtempSync(join(tmpdir(), 'raptor-rails-'));
    this.output = '';
    this.child = spawn('bash', ['-c', line.replace(/ &$/, '')], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inherited(), ...env, PIDFILE: join(this.pidDir, 'server.pid') },
    });
    for (const stream of [this.child.stdout, this.child.stderr]) stream.on('data', (d) => { this.output += d; });
    this.exited = once(this.child, 'close');
  }

  async ready(url) {
    let exited = false;
    this.exited.then(() => { exited = true; });
    await waitFor(async () => {
      if (exited) throw new Error(`rails server exited during start-up:\n${this.output.slice(-3000)}`);
      return fetch(url).then((res) => res.ok, () => false);
    }, `rails server to answer ${url}`, BOOT_LIMIT_MS);
  }

  async stop() {
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await withTimeout(this.exited, 'rails server to exit after SIGTERM', 15000).catch(() => process.kill(-this.child.pid, 'SIGKILL'));
    rmSync(this.pidDir, { recursive: true, force: true });
  }

  tail() { return `\n--- rails (tail) ---\n${this.output.slice(-3000)}`; }
}

describe('examples/rails: docs/rails.md\'s Rails app with raptor and two browsers', () => {
  let raptor;
  let rails;
  let railsUrl;
  let browsers = [];
  let ann; // the gallery's owner
  let bob; // a visitor

  before(async () => {
    const railsPort = await freePort();
    railsUrl = `http://127.0.0.1:${railsPort}`;
    // The doc's flags, and --port (the Raptor class adds it), which wins over the file's listen.
    const args = raptorArgs.map((arg) => (arg.startsWith('examples/') ? join(ROOT, arg) : withPorts(arg, { rails: railsPort })));
    raptor = new Raptor({ apps: [GALLERY], configVia: 'defaults', args, env: { RAPTOR_GALLERY_SECRET: GALLERY.secret } });
    const launched = Promise.all([headlessChromium(), headlessChromium()]).then((pair) => { browsers = pair; });
    launched.catch(() => {}); // awaited below; a failure then fails the hook
    await raptor.start();
    rails = new RailsServer(withPorts(railsLine, { raptor: raptor.port, rails: railsPort }), {
      RAPTOR_GALLERY_SECRET: GALLERY.secret, RAPTOR_URL: `http://127.0.0.1:${raptor.port}`,
    });
    await Promise.all([rails.ready(`${railsUrl}/sign_in`), launched]);
  });

  after(async () => {
    await Promise.allSettled(browsers.map((browser) => browser.close()));
    await rails?.stop();
    await raptor?.stop().catch(() => {});
  });

  // Signs in on the sign-in page as `name`, which leads to gallery 123, connected to raptor. The
  // page's script errors go to the test's output (not the refusals the test provokes).
  async function visit(browser, name) {
    const page = await browser.newPage();
    page.setDefaultTimeout(PAGE_LIMIT_MS);
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) console.log(`${name}'s page: ${message.text()}`);
    });
    page.on('pageerror', (err) => console.log(`${name}'s page: ${err.message}`));
    await page.goto(`${railsUrl}/`);
    await page.click(`text=Sign in as ${name}`);
    await page.waitForSelector('#gallery[data-state=connected]');
    return page;
  }

  const texts = (page, selector) => page.locator(selector).allTextContents();
  async function shows(page, selector, wanted, what) {
    await waitFor(async () => JSON.stringify(await texts(page, selector)) === JSON.stringify(wanted), what, SHOW_LIMIT_MS)
      .catch(async (err) => { throw new Error(`${err.message}: shows ${JSON.stringify(await texts(page, selector))}${rails.tail()}`); });
  }
  const activity = async () => (await ann.request.get(`${railsUrl}/galleries/123/activity`)).json();
  const reported = (events, name, channel, userId) =>
    events.some((e) => e.name === name && e.channel === channel && (userId === undefined || e.user_id === userId));

  it('installs what the doc says to install (scripts/setup --tests installs it too)', () => {
    assert.deepEqual(aptPackages, ['ruby-rails', 'puma']);
    const setup = readFileSync(join(ROOT, 'scripts/setup'), 'utf8');
    for (const name of [...aptPackages, 'chromium']) assert.match(setup, new RegExp(`[ (]${name}[ )]`), `scripts/setup installs ${name}`);
  });

  it('shows both visitors on both pages, and updates them', async () => {
    [ann, bob] = await Promise.all([visit(browsers[0], 'Ann'), visit(browsers[1], 'Bob')]);
    await shows(ann, '#visitors li', ['Ann', 'Bob'], 'Ann\'s page to list Ann and Bob');
    await shows(bob, '#visitors li', ['Ann', 'Bob'], 'Bob\'s page to list Ann and Bob');
  });

  it('shows a comment posted in one browser in the other, and tells the owner', async () => {
    await bob.fill('#comment-form input[name=text]', 'Lovely light');
    await bob.click('#comment-form button');
    await shows(ann, '#comments li', ['Bob: Lovely light'], 'the comment on Ann\'s page');
    await shows(bob, '#comments li', ['Bob: Lovely light'], 'the comment on Bob\'s page');
    await shows(ann, '#notices li', ['Bob commented on Lighthouses of Brittany'], 'the user event to Ann');
    assert.deepEqual(await texts(bob, '#notices li'), []);
  });

  it('lets the owner nudge the visitors on the privileged channel', async () => {
    assert.equal(await bob.locator('#nudge').count(), 0, 'no nudge button for a visitor');
    await ann.click('#nudge');
    await shows(bob, '#nudges', ['The new photos are up'], 'the nudge on Bob\'s page');
  });

  it('delivers a comment published with the doc\'s publish.rb command', async () => {
    const { stdout } = await promisify(execFile)('bash', ['-c', publishLine], {
      cwd: ROOT, env: { ...inherited(), RAPTOR_GALLERY_SECRET: GALLERY.secret, RAPTOR_PORT: String(raptor.port) },
    });
    assert.equal(stdout, '200 {}\n');
    const both = ['Bob: Lovely light', 'Ops: Nice shot'];
    await shows(ann, '#comments li', both, 'the published comment on Ann\'s page');
    await shows(bob, '#comments li', both, 'the published comment on Bob\'s page');
  });

  it('refuses to sign a hostile socket_id or another app\'s channel', async () => {
    const post = (path, form) => bob.evaluate(async ([to, fields]) => {
      const token = document.querySelector('meta[name=csrf-token]').content;
      const res = await fetch(to, { method: 'POST', headers: { 'X-CSRF-Token': token }, body: new URLSearchParams(fields) });
      return [res.status, await res.text()];
    }, [path, form]);
    const apiHead = 'POST\n/apps/gallery/events\nauth_key=gallery-key&auth_timestamp=1&auth_version=1.0&body_md5=0&z=';
    assert.deepEqual(await post('/pusher/auth', { socket_id: apiHead, channel_name: 'private-galleries.123.comments' }),
      [400, 'socket_id must look like 123.456']);
    assert.deepEqual(await post('/pusher/user-auth', { socket_id: '1.2\n' }), [400, 'socket_id must look like 123.456']);
    assert.equal((await post('/pusher/auth', { socket_id: '1.2', channel_name: 'private-admin' }))[0], 403);
  });

  it('receives raptor\'s webhooks with valid signatures and refuses a forged one', async () => {
    const wanted = [
      ['channel_occupied', 'private-galleries.123.comments'], ['channel_occupied', 'presence-gallery.123'],
      ['channel_occupied', 'presence-privileged-gallery.123'], ['member_added', 'presence-gallery.123', '1'],
      ['member_added', 'presence-gallery.123', '2'], ['member_added', 'presence-privileged-gallery.123', '2'],
    ];
    await waitFor(async () => {
      const { events } = await activity();
      return wanted.every((w) => reported(events, ...w));
    }, 'Rails to record the webhooks', SHOW_LIMIT_MS).catch(async (err) => {
      throw new Error(`${err.message}: ${JSON.stringify(await activity())}${rails.tail()}`);
    });

    // Posted like raptor's, but signed with another secret: 401, nothing recorded.
    const body = JSON.stringify({ time_ms: Date.now(), events: [{ name: 'member_added', channel: 'presence-gallery.123', user_id: 'mallory' }] });
    const forged = await fetch(`${railsUrl}/pusher/webhooks`, {
      method: 'POST', body,
      headers: { 'Content-Type': 'application/json', 'X-Pusher-Key': GALLERY.key, 'X-Pusher-Signature': hmacHex('not-the-secret', body) },
    });
    assert.equal(forged.status, 401);
    assert.ok(!reported((await activity()).events, 'member_added', 'presence-gallery.123', 'mallory'));
  });

  it('updates the owner\'s page when the visitor leaves, and Rails hears member_removed', async () => {
    await bob.close();
    await shows(ann, '#visitors li', ['Ann'], 'Ann\'s page to list Ann alone');
    await waitFor(async () => reported((await activity()).events, 'member_removed', 'presence-gallery.123', '2'),
      'Rails to record member_removed for Bob', DEPARTURE_MS);
    assert.doesNotMatch(raptor.stderr, /answered HTTP|events dropped/, 'raptor had every webhook batch accepted');
  });
});
