// Wildcard subscriptions (docs/channels.md) with unmodified pusher-js: `*` and `**`, by name and by
// URL address, private patterns signed by the app's auth endpoint, events of every matching
// channel once per subscription with `channel` the pattern and `concrete_channel` the channel;
// refusals (invalid patterns, presence/privileged/encrypted, bad signatures, client events on a
// pattern, the per-connection limit); unsubscribing; subscribers on different workers; the
// raptor.rb authorize hook, which sees the pattern; and occupancy, webhooks and the channels API,
// which keep meaning concrete channels.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { apiGet, inboxOf, pusherClient, serverSdk, subscribed, withWildcardFrames } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { assertApiError, postEvents, signedRequest } from './lib/http-api.mjs';
import { AUTH_ERROR, INVALID_CHANNEL, LIMIT_REACHED, assertSubscribeRefused } from './lib/refusals.mjs';
import { channelAuth } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

// What pusher-js hands channel.bind('pusher:subscription_error') for a refused subscription.
async function refusedWith(pusher, name) {
  const channel = pusher.subscribe(name);
  const { data } = await inboxOf((cb) => channel.bind('pusher:subscription_error', cb)).take(undefined, `${name} refused`);
  return data;
}

serverSuite('wildcard subscriptions', { args: ['--workers', '1'] }, (server, { stillServing }) => {
  it('pusher-js on galleries.*.comments hears every gallery\'s comments once, and nothing else', async () => {
    const { client: pusher, frames } = await withWildcardFrames(() => pusherClient(server));
    const [comments] = await subscribed(pusher, 'galleries.*.comments');
    const inbox = inboxOf((cb) => comments.bind('comment-added', cb));
    const sdk = serverSdk(server);
    await sdk.trigger('galleries.5.comments', 'comment-added', { n: 1 });
    for (const other of ['galleries.5.likes', 'galleries.5.comments.x', 'galleries.comments', 'private-galleries.5.comments'])
      await sdk.trigger(other, 'comment-added', { n: other });
    await sdk.trigger('galleries.6.comments', 'comment-added', { n: 2 });
    assert.deepEqual((await inbox.take()).data, { n: 1 });
    assert.deepEqual((await inbox.take()).data, { n: 2 });
    const seen = [await frames.take(), await frames.take()];
    assert.deepEqual(seen.map((f) => [f.channel, f.concrete_channel]),
      [['galleries.*.comments', 'galleries.5.comments'], ['galleries.*.comments', 'galleries.6.comments']]);
    assert.deepEqual(JSON.parse(seen[0].data), { n: 1 });
    assert.equal(inbox.pending().length, 0, 'nothing from channels the pattern does not match');
  });

  it('puts the pattern in channel and the channel in concrete_channel, the rest of the frame unchanged', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('galleries.*.comments');
    await serverSdk(server).trigger('galleries.5.comments', 'comment-added', { text: 'Nice shot' });
    const frame = await client.next('comment-added');
    assert.equal(frame.raw, '{"event":"comment-added","channel":"galleries.*.comments",'
      + '"concrete_channel":"galleries.5.comments","data":"{\\"text\\":\\"Nice shot\\"}"}');
  });

  it('** by URL address: frames name the address subscribed and the concrete channel\'s address', async () => {
    const { client: pusher, frames } = await withWildcardFrames(() => pusherClient(server));
    const [all] = await subscribed(pusher, '/channels/public/galleries/**');
    const inbox = inboxOf((cb) => all.bind('e', cb));
    await serverSdk(server).trigger('galleries', 'e', 'not one segment more');
    await serverSdk(server).trigger('galleries.5', 'e', 'five');
    await signedRequest(server, { method: 'POST', path: '/channels/public/galleries/5/comments', body: { name: 'e', data: 'by address' } });
    assert.equal((await inbox.take()).data, 'five');
    assert.equal((await inbox.take()).data, 'by address');
    assert.deepEqual([await frames.take(), await frames.take()].map((f) => [f.channel, f.concrete_channel]), [
      ['/channels/public/galleries/**', '/channels/public/galleries/5'],
      ['/channels/public/galleries/**', '/channels/public/galleries/5/comments'],
    ]);
    assert.equal(inbox.pending().length, 0);
  });

  it('a private pattern is signed by the app\'s auth endpoint over the pattern, and hears events and client events', async () => {
    const pusher = await pusherClient(server);
    const [watch] = await subscribed(pusher, 'private-galleries.*.comments');
    const inbox = inboxOf((cb) => watch.bind_global((event, data) => cb({ event, data })));
    const peer = await pusherClient(server);
    const [concrete] = await subscribed(peer, 'private-galleries.9.comments');
    concrete.trigger('client-typing', { who: 'peer' });
    assert.deepEqual((await inbox.take()).data, { event: 'client-typing', data: { who: 'peer' } });
    await serverSdk(server).trigger('private-galleries.9.comments', 'comment-added', { n: 1 });
    assert.deepEqual((await inbox.take()).data, { event: 'comment-added', data: { n: 1 } });
  });

  it('refuses a private pattern with a wrong signature (401) and one signed for a concrete channel', async () => {
    const tampered = await pusherClient(server, { tamper: (a) => ({ ...a, auth: `${a.auth.split(':')[0]}:${'0'.repeat(64)}` }) });
    const error = await refusedWith(tampered, 'private-galleries.*');
    assert.equal(error.status, 401);
    const client = await RawClient.connect(server);
    await assertSubscribeRefused(client, 'private-galleries.*', { auth: channelAuth(server.app, client.socketId, 'private-galleries.1') }, AUTH_ERROR);
    await assertSubscribeRefused(client, 'private-galleries.*', { auth: null }, AUTH_ERROR);
    await stillServing();
  });

  it('refuses presence, privileged and encrypted patterns with 4303', async () => {
    const pusher = await pusherClient(server, { user: { user_id: 'ada' } });
    const error = await refusedWith(pusher, 'presence-rooms.*');
    assert.equal(error.status, 400);
    assert.match(error.error, /Presence and privileged channels cannot be subscribed by wildcard pattern/);
    const client = await RawClient.connect(server);
    const data = JSON.stringify({ user_id: 'ada' });
    for (const pattern of ['presence-**', '/channels/presence/rooms/*', '/channels/privileged/rooms/**', 'presence-privileged-rooms.*']) {
      await assertSubscribeRefused(client, pattern, { auth: channelAuth(server.app, client.socketId, pattern, data), channelData: data }, INVALID_CHANNEL);
    }
    await assertSubscribeRefused(client, 'private-encrypted-*', {}, INVALID_CHANNEL);
    await stillServing();
  });

  for (const [what, pattern, rule] of [
    ['** in the middle', 'galleries.**.comments', /'\*\*' may only be the last segment/],
    ['an empty segment', 'galleries..*', /Empty segment 2/],
    ['***', 'galleries.***', /a wildcard is a whole segment/],
    ['a * inside a segment', 'galleries.1*', /a wildcard is a whole segment/],
    ['** in the middle of an address', '/channels/public/galleries/**/comments', /'\*\*' may only be the last segment/],
  ]) {
    it(`refuses ${what} with 4303 and the rule`, async () => {
      const client = await RawClient.connect(server);
      const { error } = await client.subscribeRefused(pattern, {}, INVALID_CHANNEL.code);
      assert.match(error.data.message, rule);
      await assertSubscribeRefused(client, pattern, {}, INVALID_CHANNEL);
      const pusher = await pusherClient(server);
      assert.equal((await refusedWith(pusher, pattern)).status, 400);
      await stillServing();
    });
  }

  it('delivers to each matching subscription once: overlapping patterns and a concrete channel', async () => {
    const pusher = await pusherClient(server);
    const inboxes = {};
    for (const name of ['news.uk', 'news.*', 'news.**', '*.uk']) {
      const [channel] = await subscribed(pusher, name);
      inboxes[name] = inboxOf((cb) => channel.bind('headline', cb));
    }
    await serverSdk(server).trigger('news.uk', 'headline', 'one');
    await serverSdk(server).trigger('news.uk.sport', 'headline', 'two');
    for (const name of ['news.uk', 'news.*', 'news.**', '*.uk']) assert.equal((await inboxes[name].take()).data, 'one', name);
    assert.equal((await inboxes['news.**'].take()).data, 'two');
    await serverSdk(server).trigger('news.uk', 'headline', 'three'); // after it, nothing else may have come
    for (const name of ['news.uk', 'news.*', 'news.**', '*.uk']) {
      assert.equal((await inboxes[name].take()).data, 'three', name);
      assert.equal(inboxes[name].pending().length, 0, `${name} got nothing twice`);
    }
  });

  it('stops delivering once pusher-js unsubscribes, by name or by address', async () => {
    const { client: pusher, frames } = await withWildcardFrames(() => pusherClient(server));
    await subscribed(pusher, 'scores.*');
    await subscribed(pusher, '/channels/public/scores/**');
    await serverSdk(server).trigger('scores.1', 'goal', 1);
    assert.deepEqual([(await frames.take()).channel, (await frames.take()).channel].sort(), ['/channels/public/scores/**', 'scores.*']);
    pusher.unsubscribe('scores.*');
    pusher.unsubscribe('/channels/public/scores/**');
    const [marker] = await subscribed(pusher, 'scores-marker'); // acknowledged after the unsubscribes
    const markers = inboxOf((cb) => marker.bind('done', cb));
    await serverSdk(server).trigger('scores.1', 'goal', 2);
    await serverSdk(server).trigger('scores-marker', 'done', 1);
    await markers.take();
    assert.equal(frames.pending().length, 0, 'no frame for the patterns after unsubscribing');
  });

  it('refuses client events on a pattern with 4306, and sends them to nobody', async () => {
    const pusher = await pusherClient(server);
    const [pattern] = await subscribed(pusher, 'private-chat.*');
    const other = await RawClient.connect(server);
    await other.subscribe('private-chat.*');
    const errors = inboxOf((cb) => pusher.connection.bind('error', cb));
    pattern.trigger('client-hello', { to: 'everyone' });
    const { data: error } = await errors.take(undefined, 'pusher:error');
    assert.equal(error.data.code, 4306);
    assert.match(error.data.message, /wildcard pattern/);
    await other.sync();
    assert.equal(other.frames.pending((f) => f.event === 'client-hello').length, 0);
  });

  it('excludes the socket_id an API event names from its patterns too', async () => {
    const excluded = await RawClient.connect(server);
    const included = await RawClient.connect(server);
    await excluded.subscribe('rooms.*');
    await included.subscribe('rooms.*');
    await serverSdk(server).trigger('rooms.1', 'e', 1, { socket_id: excluded.socketId });
    await included.next('e');
    await excluded.sync();
    assert.equal(excluded.frames.pending((f) => f.event === 'e').length, 0);
  });

  it('refuses the 101st pattern of a connection with 4305; channels do not count', async () => {
    const client = await RawClient.connect(server);
    for (let i = 0; i < 100; i++) client.sendSubscribe(`limit${i}.*`);
    for (let i = 0; i < 100; i++) await client.next('pusher_internal:subscription_succeeded', `limit${i}.*`);
    await assertSubscribeRefused(client, 'one.more.*', {}, LIMIT_REACHED);
    await client.subscribe('limit0.*'); // already held: acknowledged again
    await client.subscribe('a-concrete-channel');
  });

  it('keeps occupancy, counts and the channels API about concrete channels', async () => {
    const fan = await RawClient.connect(server);
    await fan.subscribe('lobby.*');
    await fan.subscribe('/channels/public/lobby/**');
    const listed = await apiGet(server, '/channels');
    assert.deepEqual(Object.keys(listed.channels).filter((c) => c.startsWith('lobby')), [], 'patterns are not channels');
    assert.deepEqual(await apiGet(server, '/channels/lobby.1', { info: 'subscription_count' }), { occupied: false, subscription_count: 0 });
    assertApiError(await signedRequest(server, { path: '/apps/app-id/channels/lobby.*' }), 400);
    assertApiError(await postEvents(server, { name: 'e', channel: 'lobby.*', data: '1' }), 400);
    assertApiError(await signedRequest(server, { method: 'POST', path: '/channels/public/lobby/*', body: { name: 'e', data: '1' } }), 400);

    const member = await RawClient.connect(server);
    await member.subscribe('lobby.1');
    assert.deepEqual(await apiGet(server, '/channels/lobby.1', { info: 'subscription_count' }), { occupied: true, subscription_count: 1 });
    assert.deepEqual(Object.keys((await apiGet(server, '/channels')).channels).filter((c) => c.startsWith('lobby')), ['lobby.1']);
  });
});

serverSuite('wildcard subscriptions across workers', { args: ['--workers', '2'] }, (server, { stillServing }) => {
  // With SO_REUSEPORT the kernel spreads these over both workers; enough that both hold some.
  const CLIENTS = 12;

  it('reaches pattern subscribers on every worker once, by name and by address, and not others', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(server)));
    const spelled = (i) => (i % 2 ? 'feeds.*.posts' : '/channels/public/feeds/*/posts');
    for (const [i, c] of clients.entries()) await c.subscribe(spelled(i));
    await serverSdk(server).trigger('feeds.3.likes', 'post', { n: 0 }); // matches nothing
    await serverSdk(server).trigger('feeds.3.posts', 'post', { n: 1 });
    for (const [i, c] of clients.entries()) {
      const frame = await c.next('post');
      assert.deepEqual(frame.payload, { n: 1 }, 'the first event to arrive is the matching one');
      assert.deepEqual([frame.channel, frame.concrete_channel],
        i % 2 ? ['feeds.*.posts', 'feeds.3.posts'] : ['/channels/public/feeds/*/posts', '/channels/public/feeds/3/posts']);
      await c.sync();
      assert.equal(c.frames.pending((f) => f.event === 'post').length, 0, 'once');
    }
  });

  it('carries client events to private pattern subscribers on the other workers', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(server)));
    const [sender, ...watchers] = clients;
    await sender.subscribe('private-desk.7');
    for (const w of watchers) await w.subscribe('private-desk.*');
    sender.trigger('private-desk.7', 'client-ring', { n: 7 });
    for (const w of watchers) {
      const frame = await w.next('client-ring');
      assert.deepEqual([frame.channel, frame.concrete_channel, frame.data], ['private-desk.*', 'private-desk.7', { n: 7 }]);
    }
    await stillServing();
  });

  it('stops reaching a worker once its last subscriber of the pattern leaves', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(server)));
    for (const c of clients) await c.subscribe('tickers.**');
    for (const c of clients.slice(1)) c.unsubscribe('tickers.**');
    for (const c of clients.slice(1)) await c.sync();
    await serverSdk(server).trigger('tickers.abc', 'tick', 1);
    await clients[0].next('tick');
    for (const c of clients.slice(1)) {
      await c.sync();
      assert.equal(c.frames.pending((f) => f.event === 'tick').length, 0);
    }
  });
});

const policy = configFile('wildcard-policy.rb', `
app "app-id", key: "app-key", secret: "app-secret" do |app|
  app.authorize do |subscription|
    next pass unless subscription.channel.include?("*")
    if subscription.channel.start_with?("private-feeds.")
      allow
    else
      deny("no wildcard on #{subscription.channel}")
    end
  end
end
`);

serverSuite('wildcard subscriptions and the authorize hook', { args: ['--config', policy] }, (server, { stillServing }) => {
  it('hands the hook the pattern as the channel: its allow admits a private pattern, its deny refuses with 403', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-feeds.*', { auth: null }); // no signature: the hook allows
    await serverSdk(server).trigger('private-feeds.1', 'post', 'hi');
    assert.equal((await client.next('post')).concrete_channel, 'private-feeds.1');
    const { error, subscriptionError } = await client.subscribeRefused('/channels/public/news/*', {}, AUTH_ERROR.code);
    assert.equal(error.data.message, 'Subscription refused by policy: no wildcard on news.*');
    assert.equal(subscriptionError.data.status, 403);
    await client.subscribe('news.uk'); // channels: the hook passes
    await stillServing();
  });
});

// A suite of its own: with a webhook receiver configured, raptor starts slower under ASan.
const receiver = await new WebhookReceiver({ id: 'app-id', key: 'app-key', secret: 'app-secret' }).start();
after(() => receiver.stop());

serverSuite('wildcard subscriptions and webhooks', { args: ['--webhook', receiver.url] }, (server) => {
  it('sends no webhook for a pattern: channel_occupied only when a concrete channel gets a subscriber', async () => {
    const fan = await RawClient.connect(server);
    await fan.subscribe('lobby.*');
    await fan.subscribe('/channels/public/lobby/**');
    const member = await RawClient.connect(server);
    await member.subscribe('lobby.1');
    // Webhooks leave in the order things happened: one for the patterns would have come first.
    await receiver.take({ name: 'channel_occupied', channel: 'lobby.1' });
    assert.deepEqual(receiver.accepted.filter((e) => e.channel.startsWith('lobby') && e.channel !== 'lobby.1'), [], 'no webhook names a pattern');
  });
});
