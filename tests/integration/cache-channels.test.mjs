// Cache channels with pusher-js and the pusher SDK, on four workers: the last API event is
// replayed to new subscribers right after subscription_succeeded, else pusher:cache_miss;
// GET /channels/{name}?info=cache; and the TTL.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, inboxOf, pusherClient, serverSdk } from './lib/clients.mjs';
import { assertApiError, signedRequest } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

// Subscribes a fresh raw client; resolves the frame that follows subscription_succeeded.
async function firstAfterSubscribe(server, channel, options) {
  const client = await RawClient.connect(server);
  client.sendSubscribe(channel, options);
  const frames = [await client.next(() => true), await client.next(() => true)];
  assert.equal(frames[0].event, 'pusher_internal:subscription_succeeded');
  assert.equal(frames[0].channel, channel);
  return frames[1];
}

serverSuite('cache channels', { args: ['--workers', '4'] }, (server, { stillServing }) => {
  it('replays the last API event to pusher-js subscribers on every cache prefix', async () => {
    const sdk = serverSdk(server);
    for (const channel of ['cache-news', 'private-cache-news', 'private-encrypted-cache-news', 'presence-cache-news']) {
      await sdk.trigger(channel, 'update', { n: 1 });
      await sdk.trigger(channel, 'update', { n: 2 });
      const pusher = await pusherClient(server, { user: { user_id: 'u', user_info: {} } });
      const ch = pusher.subscribe(channel);
      const updates = inboxOf((cb) => ch.bind('update', cb));
      assert.deepEqual((await updates.take(undefined, `replay on ${channel}`)).data, { n: 2 });
    }
  });

  it('sends the cached event right after subscription_succeeded, to subscribers on any worker', async () => {
    await serverSdk(server).trigger('cache-order', 'state', { on: true });
    const frames = await Promise.all(Array.from({ length: 8 }, () => firstAfterSubscribe(server, 'cache-order')));
    for (const f of frames) assert.deepEqual([f.event, f.channel, f.payload], ['state', 'cache-order', { on: true }]);
  });

  it('sends pusher:cache_miss when nothing is cached, which pusher-js hands to the channel', async () => {
    const miss = await firstAfterSubscribe(server, 'cache-empty');
    assert.deepEqual({ event: miss.event, channel: miss.channel }, { event: 'pusher:cache_miss', channel: 'cache-empty' });
    const pusher = await pusherClient(server);
    const ch = pusher.subscribe('cache-empty-js');
    await inboxOf((cb) => ch.bind('pusher:cache_miss', cb)).take(undefined, 'pusher:cache_miss');
  });

  it('does not cache client events', async () => {
    const sender = await RawClient.connect(server);
    await sender.subscribe('private-cache-chat');
    await sender.next('pusher:cache_miss');
    sender.trigger('private-cache-chat', 'client-typing', { who: 'me' });
    await sender.sync();
    const later = await firstAfterSubscribe(server, 'private-cache-chat');
    assert.equal(later.event, 'pusher:cache_miss');
  });

  it('answers info=cache with the cached data and TTL, null without one', async () => {
    assert.deepEqual(await apiGet(server, '/channels/cache-info', { info: 'cache' }), { occupied: false, cache: null });
    await serverSdk(server).trigger('cache-info', 'e', { v: 7 });
    const info = await apiGet(server, '/channels/cache-info', { info: 'cache' });
    assert.deepEqual(info.cache.data, JSON.stringify({ v: 7 }));
    assert.ok(info.cache.ttl > 1790 && info.cache.ttl <= 1800, `ttl ${info.cache.ttl} of the default 1800 s`);
  });

  it('refuses info=cache on a channel that is not a cache channel (400), and keeps serving others', async () => {
    assertApiError(await signedRequest(server, { path: '/apps/app-id/channels/news', params: { info: 'cache' } }), 400);
    await stillServing();
  });

  it('sends no subscription_count events unless the app opts in', async () => {
    const [a, b] = await Promise.all([RawClient.connect(server), RawClient.connect(server)]);
    await a.subscribe('counted-not');
    await b.subscribe('counted-not');
    await Promise.all([a.sync(), b.sync()]);
    assert.deepEqual([...a.frames.pending(), ...b.frames.pending()].filter((f) => f.event.includes('subscription_count')), []);
  });
});

serverSuite('cache channels with --cache-ttl 1', { args: ['--cache-ttl', '1'] }, (server) => {
  it('forgets the cached event after the TTL', async () => {
    await serverSdk(server).trigger('cache-short', 'e', { v: 1 });
    assert.equal((await firstAfterSubscribe(server, 'cache-short')).event, 'e');
    await waitFor(async () => (await apiGet(server, '/channels/cache-short', { info: 'cache' })).cache === null,
      'the cached event to expire');
    assert.equal((await firstAfterSubscribe(server, 'cache-short')).event, 'pusher:cache_miss');
  });
});
