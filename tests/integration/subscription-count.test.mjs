// subscription_count with --subscription-count on four workers: pusher-js gets
// pusher:subscription_count and channel.subscriptionCount as the count changes; the info
// attributes through the SDK; and the deprecated POST /apps/{id}/channels/{name}/events.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { assertApiError, signedRequest } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const countOf = (inbox, what) => inbox.take(undefined, what).then(({ data }) => data.subscription_count);

serverSuite('subscription count', { args: ['--workers', '4', '--subscription-count'] }, (server, { stillServing }) => {
  it('tells pusher-js subscribers the count whenever it changes', async () => {
    const first = await pusherClient(server);
    const channel = first.subscribe('room');
    const counts = inboxOf((cb) => channel.bind('pusher:subscription_count', cb));
    assert.equal(await countOf(counts, 'count 1'), 1);
    const others = await Promise.all([pusherClient(server), pusherClient(server)]);
    for (const p of others) await subscribed(p, 'room');
    assert.equal(await countOf(counts, 'count 2'), 2);
    assert.equal(await countOf(counts, 'count 3'), 3);
    assert.equal(channel.subscriptionCount, 3);
    others[0].unsubscribe('room');
    assert.equal(await countOf(counts, 'count 2 again'), 2);
    assert.deepEqual(await apiGet(server, '/channels/room', { info: 'subscription_count' }), { occupied: true, subscription_count: 2 });
    const listed = await apiGet(server, '/channels', { filter_by_prefix: 'ro', info: 'subscription_count' });
    assert.deepEqual(listed, { channels: { room: { subscription_count: 2 } } });
  });

  it('sends no count on presence channels', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('presence-room', { channelData: JSON.stringify({ user_id: 'u' }) });
    await client.sync();
    assert.deepEqual(client.frames.pending((f) => f.event === 'pusher_internal:subscription_count'), []);
  });

  it('publishes through the deprecated POST /apps/{id}/channels/{name}/events (202)', async () => {
    const [a, b] = await Promise.all([RawClient.connect(server), RawClient.connect(server)]);
    await a.subscribe('legacy');
    await b.subscribe('legacy');
    const res = await signedRequest(server, {
      method: 'POST', path: '/apps/app-id/channels/legacy/events',
      params: { name: 'old-style', socket_id: b.socketId }, body: '{"v":1}',
    });
    assert.equal(res.status, 202);
    const got = await a.next('old-style', 'legacy');
    assert.deepEqual([got.data, got.payload], ['{"v":1}', { v: 1 }]);
    await b.sync();
    assert.deepEqual(b.frames.pending((f) => f.event === 'old-style'), [], 'socket_id excluded');
  });

  const badLegacy = [
    ['no name', { params: {}, body: 'x' }, 400],
    ['an invalid socket_id', { params: { name: 'e', socket_id: 'nope' }, body: 'x' }, 400],
    ['data over 10 KiB', { params: { name: 'e' }, body: 'x'.repeat(10241) }, 413],
  ];
  for (const [what, request, status] of badLegacy) {
    it(`refuses the deprecated endpoint with ${what} (${status}), and keeps serving others`, async () => {
      const res = await signedRequest(server, { method: 'POST', path: '/apps/app-id/channels/legacy/events', ...request });
      assertApiError(res, status);
      await stillServing();
    });
  }

  it('still sends the count to bystanders after bad requests', async () => {
    const client = await RawClient.connect(server);
    client.sendSubscribe('after-bad');
    assert.equal((await client.next('pusher_internal:subscription_count', 'after-bad')).data.subscription_count, 1);
    await serverSdk(server).trigger('after-bad', 'e', {});
    await client.next('e', 'after-bad');
  });
});
