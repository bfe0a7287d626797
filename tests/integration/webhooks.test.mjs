// Webhooks as Pusher sends them, received by a real HTTP server that validates every POST with
// the `pusher` SDK's webhook validator: channel_occupied/vacated (app-wide, across workers),
// member_added/removed, the 3 s delay that hides page reloads, client_event, de-duplicated
// cache_miss, subscription_count, per-receiver filters and headers, batching, /health counters.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { apiGet, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { healthDetails } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'hooks-app', key: 'hooks-key', secret: 'hooks-secret-9f2c' };
const DEPARTURE_MS = 9000; // vacated/member_removed come ~3 s after the leave; room for a busy machine
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const receiver = await new WebhookReceiver(APP).start();
// A second receiver: only subscription counts of channels named counted-*, with its own header.
const counts = await new WebhookReceiver(APP).start();
after(() => Promise.all([receiver.stop(), counts.stop()]));

const options = {
  apps: [APP],
  args: ['--workers', '2', '--webhook', receiver.url,
    '--webhook', `${counts.url};events=subscription_count;prefix=counted-;header=X-Receiver:counts`],
};

serverSuite('webhooks', options, (server, { stillServing }) => {
  it('channel_occupied on the first subscription, channel_vacated ~3 s after the last leaves', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(server)));
    for (const c of clients) await c.subscribe('lobby');
    const occupied = await receiver.take({ name: 'channel_occupied', channel: 'lobby' });
    assert.deepEqual(occupied, { name: 'channel_occupied', channel: 'lobby' });
    await clients[0].close();
    await clients[1].close();
    clients[2].unsubscribe('lobby');
    const left = Date.now();
    await receiver.take({ name: 'channel_vacated', channel: 'lobby' }, DEPARTURE_MS);
    assert.ok(Date.now() - left >= 2900, 'vacated is held back about 3 s');
    assert.deepEqual(receiver.history('lobby'), ['channel_occupied', 'channel_vacated']);
    assert.deepEqual(receiver.invalid(), []);
  });

  it('a page reload within 3 s sends neither vacated+occupied nor member_removed+member_added', async () => {
    const channel = 'presence-reload';
    const user = { user_id: 'reloader', user_info: { name: 'R' } };
    const first = await pusherClient(server, { user });
    await subscribed(first, channel);
    await receiver.take({ name: 'member_added', channel, user_id: 'reloader' });
    first.disconnect(); // the page unloads…
    await waitFor(async () => !(await apiGet(server, `/channels/${channel}`)).occupied, 'the channel to be empty');
    const second = await pusherClient(server, { user }); // …and comes back within 3 s
    await subscribed(second, channel);
    await sleep(4000); // past the 3 s in which the leave could still be sent
    second.disconnect(); // now it leaves for good
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    assert.deepEqual(receiver.history(channel),
      ['channel_occupied', 'member_added:reloader', 'member_removed:reloader', 'channel_vacated']);
  });

  it('member_added for a user\'s first connection, member_removed after the last', async () => {
    const channel = 'presence-members';
    const ann1 = await RawClient.connect(server);
    const ann2 = await RawClient.connect(server);
    const bob = await RawClient.connect(server);
    const as = (user_id) => ({ channelData: JSON.stringify({ user_id }) });
    await ann1.subscribe(channel, as('ann'));
    await ann2.subscribe(channel, as('ann'));
    await bob.subscribe(channel, as('bob'));
    await receiver.take({ name: 'member_added', channel, user_id: 'bob' });
    await ann1.close(); // ann is still there through ann2
    await bob.close();
    await receiver.take({ name: 'member_removed', channel, user_id: 'bob' }, DEPARTURE_MS);
    await ann2.close();
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    assert.deepEqual(receiver.history(channel),
      ['channel_occupied', 'member_added:ann', 'member_added:bob', 'member_removed:bob', 'member_removed:ann',
        'channel_vacated']);
  });

  it('client_event from pusher-js: event, data as a string, socket_id, and user_id on presence', async () => {
    const sender = await pusherClient(server, { user: { user_id: 'talker' } });
    const [presence] = await subscribed(sender, 'presence-talk');
    const [priv] = await subscribed(sender, 'private-talk');
    assert.ok(presence.trigger('client-said', { text: 'hi', n: 1 }));
    assert.ok(priv.trigger('client-said', 'plain'));
    const onPresence = await receiver.take({ name: 'client_event', channel: 'presence-talk' });
    assert.deepEqual(onPresence, {
      name: 'client_event', channel: 'presence-talk', event: 'client-said',
      data: JSON.stringify({ text: 'hi', n: 1 }), socket_id: sender.connection.socket_id, user_id: 'talker',
    });
    const onPrivate = await receiver.take({ name: 'client_event', channel: 'private-talk' });
    assert.deepEqual(onPrivate, {
      name: 'client_event', channel: 'private-talk', event: 'client-said', data: 'plain',
      socket_id: sender.connection.socket_id,
    });
  });

  it('cache_miss once for subscribers arriving together, none after a hit', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(server)));
    await Promise.all(clients.map((c) => c.subscribe('cache-scores')));
    await Promise.all(clients.map((c) => c.next('pusher:cache_miss', 'cache-scores')));
    await serverSdk(server).trigger('cache-scores', 'score', { home: 1 });
    const late = await RawClient.connect(server);
    await late.subscribe('cache-scores');
    await late.next('score', 'cache-scores');
    await late.subscribe('cache-marker'); // its occupied follows everything above, in order
    await receiver.take({ name: 'channel_occupied', channel: 'cache-marker' });
    assert.deepEqual(receiver.history('cache-scores'), ['channel_occupied', 'cache_miss']);
  });

  it('a receiver gets only the types and channels it asked for, with its own headers', async () => {
    const [a, b] = await Promise.all([RawClient.connect(server), RawClient.connect(server)]);
    await a.subscribe('counted-room');
    await b.subscribe('counted-room');
    await a.subscribe('uncounted-room');
    const one = await counts.take({ name: 'subscription_count', channel: 'counted-room', subscription_count: 1 });
    const two = await counts.take({ name: 'subscription_count', channel: 'counted-room', subscription_count: 2 });
    assert.ok(one && two);
    await receiver.take({ name: 'channel_occupied', channel: 'uncounted-room' });
    assert.ok(counts.accepted.every((e) => e.name === 'subscription_count' && e.channel.startsWith('counted-')),
      JSON.stringify(counts.accepted));
    assert.ok(receiver.accepted.every((e) => e.name !== 'subscription_count'), 'not asked for by the first');
    for (const d of counts.deliveries) {
      assert.equal(d.headers['x-receiver'], 'counts');
      assert.equal(d.headers['content-type'], 'application/json');
      assert.equal(d.headers['x-pusher-key'], APP.key);
    }
    assert.deepEqual(counts.invalid(), []);
  });

  it('batches events that happen together into one POST, time_ms the batch\'s creation', async () => {
    const client = await RawClient.connect(server);
    const names = Array.from({ length: 10 }, (_, i) => `batch-${i}`);
    const before = Date.now();
    for (const name of names) client.sendSubscribe(name); // one burst
    for (const name of names) await receiver.take({ name: 'channel_occupied', channel: name });
    const carrying = receiver.deliveries.filter((d) => d.events.some((e) => e.channel?.startsWith('batch-')));
    assert.ok(carrying.length < names.length, `${carrying.length} POSTs for ${names.length} events`);
    for (const d of carrying) assert.ok(d.time_ms >= before - 1000 && d.time_ms <= Date.now() + 1000, `time_ms ${d.time_ms}`);
  });

  it('GET /health counts queued, sent, retried, dropped and pending webhook events', async () => {
    const c = await RawClient.connect(server);
    await c.subscribe('health-check');
    await receiver.take({ name: 'channel_occupied', channel: 'health-check' });
    const health = await waitFor(async () => {
      const json = await healthDetails(server);
      return json.webhooks?.pending === 0 && json; // the vacated of earlier tests may still wait
    }, 'no pending webhooks');
    assert.equal(health.status, 'ok');
    for (const key of ['queued', 'sent', 'retried', 'dropped', 'pending']) assert.equal(typeof health.webhooks[key], 'number');
    assert.ok(health.webhooks.sent >= 1);
    assert.equal(health.webhooks.dropped, 0);
    assert.equal(health.webhooks.retried, 0);
    await stillServing();
  });
});


// Certificates for 127.0.0.1 that no system CA signed; raptor is told to trust the first only.
const trusted = selfSignedCertificate();
const untrusted = selfSignedCertificate();
const secure = await new WebhookReceiver(APP, { tls: trusted }).start();
const impostor = await new WebhookReceiver(APP, { tls: untrusted }).start();
after(() => Promise.all([secure.stop(), impostor.stop()]));

serverSuite('webhooks over https', {
  apps: [APP],
  args: ['--webhook', secure.url, '--webhook', impostor.url, '--webhook-retry-base-ms', '100'],
  env: { SSL_CERT_FILE: trusted.certFile }, // OpenSSL's default CA file: only the first receiver's certificate
}, (server, { stillServing }) => {
  it('delivers to a receiver whose certificate verifies, and never to one whose does not', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('secure-room');
    await secure.take({ name: 'channel_occupied', channel: 'secure-room' });
    assert.deepEqual(secure.invalid(), []);
    await waitFor(() => /webhook 2 \(https:\/\/127\.0\.0\.1:\d+\) of app hooks-app: TLS certificate refused: self-signed certificate at attempt 2/.test(server.stderr),
      'the second receiver to fail verification twice');
    assert.deepEqual(impostor.deliveries, []);
    await stillServing();
  });
});

// The TLS client loads the system's CA certificates, which is slow (seconds under ASan), so raptor
// sets it up at start only when an https:// receiver is configured, else at the first https POST:
// here one that a reload adds.
const httpsLater = (url) => configFile('https-later.rb', `listen "127.0.0.1"
app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}"${url ? ` do |app|\n  app.webhook "${url}"\nend` : ''}
`);
serverSuite('an https receiver added by a reload', {
  apps: [APP], configVia: 'defaults', args: ['--config', httpsLater(null)],
  env: { SSL_CERT_FILE: trusted.certFile },
}, (server, { stillServing }) => {
  it('is set up at its first POST and receives verified webhooks', async () => {
    httpsLater(secure.url);
    assert.match(await server.reload(), /reload: done .*changed hooks-app \(webhooks\)/);
    const client = await RawClient.connect(server);
    await client.subscribe('late-secure-room');
    await secure.take({ name: 'channel_occupied', channel: 'late-secure-room' });
    assert.deepEqual(secure.invalid(), []);
    await stillServing();
  });
});
