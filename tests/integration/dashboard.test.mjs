// The dashboard (docs/metrics.md#dashboard) in a real headless Chromium: served from the binary,
// it refuses a wrong token, loads without a script error, its charts move while a load runs, and
// its debug console shows an event published to a channel and publishes one that a pusher-js
// client receives. RAPTOR_DASHBOARD_SCREENSHOT=docs/dashboard.png saves the picture the docs show.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headlessChromium } from './lib/browser.mjs';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { request } from './lib/http-api.mjs';
import { Raptor } from './lib/raptor.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'dashboard-test-token-0123456789';
const PAGE_LIMIT_MS = 20000;
// Chromium reports each refused fetch as a console error; the test provokes exactly those.
const REFUSAL = /Failed to load resource: the server responded with a status of 401/;

describe('dashboard', () => {
  const server = new Raptor({ args: ['--admin-token', TOKEN, '--workers', '2'] });
  let browser;
  let page;
  const errors = [];

  before(async () => {
    [browser] = await Promise.all([headlessChromium(), server.start()]);
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(PAGE_LIMIT_MS);
    page.on('console', (m) => { if (m.type() === 'error' && !REFUSAL.test(m.text())) errors.push(m.text()); });
    page.on('pageerror', (err) => errors.push(err.message));
  });
  after(async () => {
    await browser?.close();
    await server.stop();
  });

  it('serves its page and files from the binary, with a policy that allows no other origin', async () => {
    const res = await request(server, { path: '/dashboard' });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.match(res.headers['content-security-policy'], /default-src 'self'/);
    assert.doesNotMatch(res.text, /https?:\/\//);
    const script = await request(server, { path: '/dashboard/dashboard.js' });
    assert.match(script.headers['content-type'], /^text\/javascript/);
    assert.equal((await request(server, { path: '/dashboard/nope.js' })).status, 404);
    assert.equal((await request(server, { path: '/dashboard/api/overview' })).status, 401);
  });

  it('refuses a wrong token', async () => {
    await page.goto(server.url('/dashboard'));
    await page.fill('#token', 'a-wrong-token-of-some-length');
    await page.click('#login button');
    await page.waitForSelector('body[data-state=refused]');
    assert.match(await page.textContent('#login-error'), /Refused: Wrong admin token/);
    assert.equal(await page.isVisible('#main'), false);
  });

  it('opens with the token, and its charts move while a load runs', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#login button');
    await page.waitForSelector('body[data-state=ready]');
    const clients = [];
    for (let i = 0; i < 4; i++) {
      clients.push(await RawClient.connect(server));
      await clients[i].subscribe('load');
    }
    const sdk = serverSdk(server);
    let publishing = true;
    const load = (async () => {
      for (let i = 0; publishing; i++) {
        await sdk.trigger('load', 'tick', { i });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await page.waitForFunction(() => document.getElementById('connections-now').textContent === '4');
      await page.waitForFunction(() => (document.getElementById('chart-messages').dataset.points || '')
        .split(',').some((v) => Number(v) > 0));
      await page.waitForFunction(() => [...document.querySelectorAll('#top-channels li')].some((li) => li.textContent.includes('load')));
      if (process.env.RAPTOR_DASHBOARD_SCREENSHOT) {
        await page.waitForTimeout(4000); // a few seconds of chart
        await page.screenshot({ path: process.env.RAPTOR_DASHBOARD_SCREENSHOT, fullPage: true });
      }
    } finally {
      publishing = false;
      await load;
    }
    assert.match(await page.textContent('#health'), /^ok$/);
  });

  it('debug console: shows an event published on the channel it watches, and publishes one a pusher-js client receives', async () => {
    await page.fill('#console-channel', 'debug-room');
    await page.click('#console-watch button');
    await page.waitForSelector('body[data-console=watching]');
    await serverSdk(server).trigger('debug-room', 'seen-by-console', { hello: 'dashboard' });
    await page.waitForFunction(() => [...document.querySelectorAll('#console-log li')]
      .some((li) => li.textContent.includes('debug-room seen-by-console {"hello":"dashboard"}')));

    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'debug-room');
    const received = inboxOf((cb) => channel.bind('from-dashboard', cb));
    await page.fill('#publish-channel', 'debug-room');
    await page.fill('#publish-event', 'from-dashboard');
    await page.fill('#publish-data', '{"sent":"by the console"}');
    await page.click('#console-publish button');
    const { data } = await received.take(undefined, 'the console\'s event at pusher-js');
    assert.deepEqual(data, { sent: 'by the console' });
    pusher.disconnect();
  });

  it('had no script error on the page', () => {
    assert.deepEqual(errors, []);
  });
});
