// Webhook receivers that misbehave, and what must hold anyway: every event delivered exactly once
// after 500s, while the receiver is down, after garbage answers and after a timeout; 4xx dropped
// without retries; retries that run out and a queue that overflows are counted and logged; and
// clients never wait for a webhook. Back-off is shortened with the documented flags so that
// these run in seconds; "exactly once" is checked by content (each event names its own channel).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { healthDetails } from './lib/http-api.mjs';
import { freePort } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'faults-app', key: 'faults-key', secret: 'faults-secret-51d0' };
const FAST_RETRIES = ['--webhook-retry-base-ms', '100', '--webhook-retry-max-ms', '500'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const names = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const stoppers = [];
after(() => Promise.all(stoppers.map((stop) => stop())));

// Subscribes one client to each channel, in one burst.
async function occupy(server, channels) {
  const client = await RawClient.connect(server);
  for (const channel of channels) client.sendSubscribe(channel);
  await client.sync();
  return client;
}

// Every channel's channel_occupied was delivered, and exactly once.
async function deliveredOnce(receiver, channels, ms) {
  for (const channel of channels) await receiver.take({ name: 'channel_occupied', channel }, ms);
  const occupied = receiver.accepted.filter((e) => e.name === 'channel_occupied' && channels.includes(e.channel));
  assert.deepEqual(occupied.map((e) => e.channel).sort(), [...channels].sort());
  assert.deepEqual(receiver.invalid(), []);
}

async function health(server) {
  return (await healthDetails(server)).webhooks;
}

function suite(title, receiver, args, define) {
  serverSuite(title, { apps: [APP], args: ['--webhook', receiver.url, ...args] }, define);
}

// ---------------------------------------------------------------- 500, then well again
const flaky = await new WebhookReceiver(APP, { answer: (d, n) => (n <= 3 ? 500 : 200) }).start();
stoppers.push(() => flaky.stop());
suite('webhooks: a receiver that answers 500 three times, then 200', flaky, FAST_RETRIES, (server, { stillServing }) => {
  it('retries the same signed body until it is taken; every event arrives exactly once', async () => {
    const channels = names('flaky', 20);
    await occupy(server, channels);
    await deliveredOnce(flaky, channels);
    const [first, second, third, fourth] = flaky.deliveries;
    assert.deepEqual([first, second, third, fourth].map((d) => d.status), [500, 500, 500, 200]);
    for (const d of [second, third, fourth]) assert.equal(d.body, first.body, 'the retry is the same POST');
    const h = await health(server);
    assert.equal(h.retried, 3);
    assert.equal(h.dropped, 0);
    await server.logged(/HTTP 500 at attempt 1; \d+ events retried in 100 ms/);
    await server.logged(/delivered again, at attempt 4/);  // when raptor reads the 200, after the receiver saw the POST
    await stillServing();
  });
});

// ---------------------------------------------------------------- down for a while
const late = await WebhookReceiver.reserve(APP);
stoppers.push(() => late.stop());
suite('webhooks: a receiver that is down for ten seconds', late, FAST_RETRIES, (server, { stillServing }) => {
  it('keeps every event and delivers each once, in order, when the receiver comes up', async () => {
    const early = names('early', 10);
    await occupy(server, early);
    await sleep(5000);
    const later = names('later', 5); // queued behind the failing batch
    await occupy(server, later);
    await sleep(5000);
    assert.deepEqual(late.deliveries, [], 'nothing could be delivered yet');
    await server.logged(/webhook 1 \(http:\/\/127\.0\.0\.1:\d+\) of app faults-app: Unable to connect at attempt \d+; \d+ events retried/);
    await late.start();
    await deliveredOnce(late, [...early, ...later]);
    const order = late.accepted.map((e) => e.channel).filter((c) => /^(early|later)-/.test(c));
    assert.deepEqual(order, [...early, ...later]);
    const h = await health(server);
    assert.ok(h.retried > 3, `retried ${h.retried}`);
    assert.equal(h.dropped, 0);
    await stillServing();
  });
});

// ---------------------------------------------------------------- slow, then silent
let release;
const released = new Promise((resolve) => { release = resolve; });
const slow = await new WebhookReceiver(APP, { answer: async (d, n) => (n === 1 ? released.then(() => 200) : 200) }).start();
stoppers.push(async () => { release(); await slow.stop(); });
suite('webhooks: a receiver that does not answer', slow, [...FAST_RETRIES, '--webhook-timeout-ms', '1500'], (server, { stillServing }) => {
  it('does not hold up clients; the POST times out and is sent again', async () => {
    const watcher = await RawClient.connect(server);
    await watcher.subscribe('slow-news');
    await waitFor(() => slow.deliveries.length === 1, 'the first POST to reach the receiver');
    // The receiver sits on that POST; events flow to clients meanwhile.
    const sdk = serverSdk(server);
    for (let n = 0; n < 20; n++) await sdk.trigger('slow-news', 'tick', { n });
    for (let n = 0; n < 20; n++) await watcher.next((f) => f.event === 'tick' && f.payload?.n === n);
    await stillServing();
    assert.equal(slow.deliveries.length, 1, 'the first POST is still unanswered');
    // After 1.5 s Raptor gives up on it and sends it again; that one is answered.
    await slow.take({ name: 'channel_occupied', channel: 'slow-news' });
    assert.equal(slow.deliveries[1].body, slow.deliveries[0].body);
    await server.logged(/no complete answer within 1500 ms at attempt 1/);
    release();
    await waitFor(() => slow.deliveries[0].status === 'abandoned', 'the late answer to be discarded');
    assert.equal(slow.accepted.filter((e) => e.channel === 'slow-news').length, 1);
  });
});

// ---------------------------------------------------------------- garbage answers
// A TCP front that answers the first two connections with garbage, then passes through to a
// real receiver.
const behind = await new WebhookReceiver(APP).start();
let connections = 0;
const front = net.createServer((socket) => {
  socket.on('error', () => {});
  if (++connections <= 2) {
    socket.once('data', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
    return;
  }
  const upstream = net.connect(behind.port, '127.0.0.1');
  upstream.on('error', () => socket.destroy());
  socket.pipe(upstream).pipe(socket);
});
front.listen(await freePort(), '127.0.0.1');
await once(front, 'listening');
stoppers.push(async () => { front.close(); await behind.stop(); });
const garbled = { url: `http://127.0.0.1:${front.address().port}/webhooks` };
suite('webhooks: a receiver that answers garbage', garbled, FAST_RETRIES, (server, { stillServing }) => {
  it('counts garbage as a failure, retries, and delivers once', async () => {
    const channels = names('garbled', 3);
    await occupy(server, channels);
    await deliveredOnce(behind, channels);
    assert.equal(connections, 3);
    const h = await health(server);
    assert.equal(h.retried, 2);
    assert.equal(h.dropped, 0);
    await stillServing();
  });
});

// ---------------------------------------------------------------- 4xx
const refusing = await new WebhookReceiver(APP, { answer: (d, n) => (n === 1 ? 400 : 200) }).start();
stoppers.push(() => refusing.stop());
suite('webhooks: a receiver that answers 400', refusing, FAST_RETRIES, (server, { stillServing }) => {
  it('drops that batch without retrying, logs it, and goes on with the next', async () => {
    await occupy(server, ['refused-1']);
    await waitFor(() => refusing.deliveries[0]?.status === 400, 'the 400 answer');
    const refused = refusing.deliveries[0].events.length; // with the bystander's channel_occupied
    await occupy(server, ['accepted-1']);
    await refusing.take({ name: 'channel_occupied', channel: 'accepted-1' });
    assert.equal(refusing.deliveries.length, 2);
    assert.deepEqual(refusing.history('refused-1'), []);
    await server.logged(new RegExp(`answered HTTP 400; ${refused} events dropped \\(only 5xx, 429 and no answer are retried\\)`));
    const h = await health(server);
    assert.equal(h.dropped, refused);
    assert.equal(h.retried, 0);
    await stillServing();
  });
});

// ---------------------------------------------------------------- limits: retry period, queue bound
let failing = true;
const failingReceiver = await new WebhookReceiver(APP, { answer: () => (failing ? 503 : 200) }).start();
stoppers.push(() => failingReceiver.stop());
const limits = [...FAST_RETRIES, '--webhook-retry-for', '2', '--webhook-queue-limit', '5'];
suite('webhooks: retries that run out and a queue that overflows', failingReceiver, limits, (server, { stillServing }) => {
  it('drops what does not fit and what waited too long, counts and logs both, then delivers again', async () => {
    await occupy(server, names('over', 8)); // with the bystander's channel_occupied: 5 fit, 4 do not
    await waitFor(async () => (await health(server)).dropped === 9, 'all 9 to be dropped', 10000);
    await server.logged(/5 events waiting, the limit: dropping the cheapest events until it drains/);
    await server.logged(/HTTP 503 at attempt \d+; 5 events dropped after [23] s of retries/);
    failing = false;
    await occupy(server, ['after-limits']);
    await failingReceiver.take({ name: 'channel_occupied', channel: 'after-limits' });
    await server.logged(/taking events again; 4 were dropped while it was full/);
    assert.equal(failingReceiver.accepted.filter((e) => e.channel.startsWith('over-')).length, 0);
    await stillServing();
  });
});
