// The dashboard (docs/metrics.md#dashboard) in a real headless Chromium: served from the binary,
// it refuses a wrong token, loads without a script error, its charts move while a load runs with
// the figures coming over raptor's own WebSocket (#raptor-dashboard, no polling), and its debug
// console shows an event published to a channel and publishes one that a pusher-js client
// receives. #raptor-dashboard opens only to the admin token's signature, never to an app's.
// RAPTOR_DASHBOARD_SCREENSHOT=docs/dashboard.png saves the picture the docs show.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headlessChromium } from './lib/browser.mjs';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { assertApiError, request, signedRequest } from './lib/http-api.mjs';
import { Raptor } from './lib/raptor.mjs';
import { channelAuth, hmacHex } from './lib/signature.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'dashboard-test-token-0123456789';
const PAGE_LIMIT_MS = 20000;
// Chromium reports each refused fetch as a console error; the test provokes exactly those.
const REFUSAL = /Failed to load resource: the server responded with a status of 401/;
const LIVE = '#raptor-dashboard';
// The signature the dashboard's auth endpoint makes for the live channel: keyed by the admin token.
const adminAuth = (app, socketId, token = TOKEN) => `${app.key}:${hmacHex(token, `${socketId}:${LIVE}`)}`;

describe('dashboard', () => {
  const server = new Raptor({ args: ['--admin-token', TOKEN, '--workers', '2'] });
  let browser;
  let page;
  const errors = [];
  const requests = []; // every URL the page asked for, in order
  const liveFrames = []; // the frames the page's WebSockets received on #raptor-dashboard

  before(async () => {
    [browser] = await Promise.all([headlessChromium(), server.start()]);
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(PAGE_LIMIT_MS);
    page.on('console', (m) => { if (m.type() === 'error' && !REFUSAL.test(m.text())) errors.push(m.text()); });
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(payload);
      if (frame.channel === LIVE) liveFrames.push(frame);
    }));
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

  it('opens with the token, and its charts move while a load runs, fed over the WebSocket without polling', async () => {
    const asked = () => requests.filter((p) => p === '/dashboard/api/overview').length;
    const askedBefore = asked(); // the wrong token's attempt
    await page.fill('#token', TOKEN);
    await page.click('#login button');
    await page.waitForSelector('body[data-state=ready]');
    await page.waitForSelector('body[data-live=on]');
    // The page's own live socket is a connection of the first app: the one counted before the load.
    await page.waitForFunction(() => document.getElementById('connections-now').textContent === '1');
    const overviewsAtSignIn = asked() - askedBefore;
    const framesBefore = liveFrames.length;
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
      await page.waitForFunction(() => document.getElementById('connections-now').textContent === '5');
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
    assert.equal(overviewsAtSignIn, 1, 'the overview is read once, at sign-in');
    assert.equal(asked() - askedBefore, overviewsAtSignIn,
      'no polling: the figures came over the WebSocket');
    const fed = liveFrames.slice(framesBefore);
    assert.ok(fed.every((f) => f.event === 'overview'), 'overview events on #raptor-dashboard');
    assert.ok(fed.some((f) => JSON.parse(f.data).apps[0].connections.current === 5));
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

  it('#raptor-dashboard opens to the admin token\'s signature only: an app client signing with its secret is refused', async () => {
    const pusher = await pusherClient(server);
    const heard = inboxOf((cb) => pusher.connection.bind('message', cb));
    const socketId = pusher.connection.socket_id;
    // What an app's auth endpoint would answer; pusher-js itself refuses to subscribe to a # name,
    // so the subscribe goes out as a raw protocol message.
    pusher.send_event('pusher:subscribe', { channel: LIVE, auth: channelAuth(server.app, socketId, LIVE) });
    const refused = await heard.take(({ data }) => data.event === 'pusher:subscription_error', 'the refusal');
    assert.equal(refused.data.channel, LIVE);
    assert.equal(refused.data.data.type, 'AuthError');
    assert.equal(refused.data.data.status, 401);
    pusher.disconnect();

    const raw = await RawClient.connect(server);
    await raw.subscribeRefused(LIVE, { auth: null }, 4304);
    await raw.subscribeRefused(LIVE, { auth: adminAuth(server.app, '1.2') }, 4304); // another socket's
    await raw.subscribeRefused(LIVE, { auth: adminAuth(server.app, raw.socketId, 'not-the-admin-token-at-all') }, 4304);
    const other = await raw.subscribeRefused('#raptor-other', { auth: adminAuth(server.app, raw.socketId) }, 4303);
    assert.equal(other.subscriptionError.data.type, 'InvalidChannel');
    // Nobody can publish on it: not an app's server, not a client.
    assertApiError(await signedRequest(server, {
      method: 'POST', path: `/apps/${server.app.id}/events`, body: JSON.stringify({ name: 'overview', channels: [LIVE], data: '{}' }),
    }), 400);

    // The dashboard's auth endpoint signs it only for the admin token.
    const ask = (authorization) => request(server, {
      method: 'POST', path: '/dashboard/api/auth', headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ app: server.app.id, socket_id: raw.socketId, channel: LIVE }),
    });
    assert.equal((await ask('Bearer a-wrong-token-of-some-length')).status, 401);
    const granted = await ask(`Bearer ${TOKEN}`);
    assert.equal(granted.status, 200);
    assert.equal(granted.json.auth, adminAuth(server.app, raw.socketId));
    await raw.subscribe(LIVE, { auth: granted.json.auth });
    const overview = await raw.next('overview', LIVE);
    assert.ok(JSON.parse(overview.data).apps.some((a) => a.app === server.app.id));
    await raw.close();
  });

  it('had no script error on the page', () => {
    assert.deepEqual(errors, []);
  });
});
