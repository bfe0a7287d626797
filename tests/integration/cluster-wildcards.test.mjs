// Wildcard subscriptions across cluster nodes (docs/cluster.md, "Wildcard subscriptions"): three
// raptor nodes (two workers each) and one real redis-server. A pattern's subscriber on one node
// receives the events published on another to every matching channel, once and in order, with
// concrete_channel; a connection holding a channel and overlapping patterns gets one frame per
// subscription; private patterns; socket_id exclusion; PUNSUBSCRIBE when the last subscriber of a
// pattern leaves, and PSUBSCRIBE again when one comes back before it is confirmed; and patterns
// subscribed again after Redis restarts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inboxOf, pusherClient, subscribed, withWildcardFrames } from './lib/clients.mjs';
import { assertStopsCleanly, clusterState, fenceThenNothingElse, publisher, threeNodes } from './lib/cluster.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

// A pusher-js client on `node` subscribed to `pattern`: the events its channel object is handed
// (`events` only) and the wildcard frames of its socket, which name the concrete channel. One at
// a time: withWildcardFrames wraps pusher-js's socket factory while the client connects.
async function patternSubscriber(node, pattern, events = ['e']) {
  const { client: pusher, frames } = await withWildcardFrames(() => pusherClient(node));
  const [channel] = await subscribed(pusher, pattern);
  const inbox = inboxOf((cb) => channel.bind_global((event, data) => { if (events.includes(event)) cb(data, event); }));
  return { pusher, channel, inbox, frames };
}

// The frames a raw client received for events named `event` until `done(frames)` holds, then
// after a round trip: everything the server had queued for it by then.
async function framesUntil(client, event, done) {
  const got = [];
  while (!done(got)) got.push(await client.next(event));
  await client.sync();
  return [...got, ...client.frames.pending((f) => f.event === event)];
}

describe('cluster: wildcard subscriptions across nodes', () => {
  const { redis, nodes } = threeNodes();
  // Pattern subscriptions of all connections: PUBSUB NUMPAT counts distinct patterns from Redis 7
  // on (and pairs of connection and pattern before), CLIENT LIST each connection's psub.
  const numpat = async () => {
    const clients = await redis.command('CLIENT', 'LIST');
    return [...clients.matchAll(/ psub=(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
  };
  const channels = () => redis.command('PUBSUB', 'CHANNELS', 'raptor:ch:*');
  const nothingSubscribed = () => waitFor(async () => (await numpat()) === 0 && (await channels()).length === 0
    && (await redis.command('PUBSUB', 'NUMPAT')) === 0, 'no pattern or channel subscribed in Redis');

  it('pusher-js by name and by address on other nodes hears every matching channel once, in order, and nothing else', async () => {
    const byName = await patternSubscriber(nodes[1], 'galleries.*.comments');
    const byAddress = await patternSubscriber(nodes[2], '/channels/public/galleries/**');
    // Others: galleries.1.2.comments is matched by the glob standing for galleries.*.comments
    // (Redis's * spans dots), not by the pattern; ** takes all three.
    const others = ['galleries.1.likes', 'galleries.1.2.comments', 'galleries.comments'];
    const sdk = publisher(nodes[0]);
    for (let i = 0; i < 12; i++) {
      await sdk.trigger(`galleries.${i % 3}.comments`, 'e', { i });
      await sdk.trigger(others[i % 3], 'e', { other: i });
    }
    for (const stray of ['galleries', 'private-galleries.1.comments', 'news', 'gallery.1.comments'])
      await sdk.trigger(stray, 'e', { stray });
    for (let i = 0; i < 12; i++) {
      assert.deepEqual((await byName.inbox.take(undefined, `event ${i}`)).data, { i });
      const frame = await byName.frames.take();
      assert.deepEqual([frame.channel, frame.concrete_channel], ['galleries.*.comments', `galleries.${i % 3}.comments`]);
    }
    const address = (channel) => `/channels/public/${channel.replaceAll('.', '/')}`;
    for (let i = 0; i < 12; i++) {
      for (const [channel, data] of [[`galleries.${i % 3}.comments`, { i }], [others[i % 3], { other: i }]]) {
        assert.deepEqual((await byAddress.inbox.take(undefined, `${channel} ${JSON.stringify(data)}`)).data, data);
        const frame = await byAddress.frames.take();
        assert.deepEqual([frame.channel, frame.concrete_channel], ['/channels/public/galleries/**', address(channel)]);
      }
    }
    await fenceThenNothingElse(nodes[0], 'galleries.fence.comments', [byName.inbox, byAddress.inbox]);
  });

  it('a connection with a channel and overlapping patterns gets one frame per subscription, on every node', async () => {
    const subscriptions = ['galleries.5.comments', 'galleries.*.comments', 'galleries.**', '/channels/public/galleries/5/*'];
    const clients = await Promise.all(nodes.map(async (node) => {
      const client = await RawClient.connect(node);
      for (const name of subscriptions) await client.subscribe(name);
      return client;
    }));
    const sdk = publisher(nodes[0]); // the origin node's own client is served locally, not by Redis
    await sdk.trigger('galleries.5.comments', 'e', { n: 1 });
    await sdk.trigger('galleries.5.comments', 'e', { n: 2 });
    for (const [k, client] of clients.entries()) {
      // Each subscription's frames come in the publisher's order: when every n=2 frame is here, so
      // is every n=1 frame, and any duplicate would be too.
      const frames = await framesUntil(client, 'e', (got) => got.filter((f) => f.payload.n === 2).length === 4);
      const seen = frames.map((f) => `${f.payload.n} ${f.channel} ${f.concrete_channel ?? '-'}`).sort();
      assert.deepEqual(seen, [1, 2].flatMap((n) => [
        `${n} /channels/public/galleries/5/* /channels/public/galleries/5/comments`,
        `${n} galleries.** galleries.5.comments`,
        `${n} galleries.*.comments galleries.5.comments`,
        `${n} galleries.5.comments -`,
      ]), `node ${k}`);
    }
  });

  it('a private pattern hears API events and client events published on other nodes', async () => {
    const watcher = await patternSubscriber(nodes[2], 'private-users.*.inbox', ['e', 'client-typing']);
    const peer = await pusherClient(nodes[1]);
    const [inbox7] = await subscribed(peer, 'private-users.7.inbox');
    const [outbox7] = await subscribed(peer, 'private-users.7.outbox');
    outbox7.trigger('client-typing', { where: 'outbox' });
    inbox7.trigger('client-typing', { where: 'inbox' });
    const sdk = publisher(nodes[0]);
    await sdk.trigger('users.7.inbox', 'e', { type: 'public' });
    await sdk.trigger('private-users.7.inbox', 'e', { type: 'private' });
    // Two publishers (the peer and the SDK): no order between them.
    const got = [await watcher.inbox.take(), await watcher.inbox.take()].map(({ data, metadata }) => `${metadata} ${JSON.stringify(data)}`);
    assert.deepEqual(got.sort(), ['client-typing {"where":"inbox"}', 'e {"type":"private"}']);
    const frames = [await watcher.frames.take(), await watcher.frames.take()];
    assert.deepEqual(frames.map((f) => [f.channel, f.concrete_channel]), Array(2).fill(['private-users.*.inbox', 'private-users.7.inbox']));
    await fenceThenNothingElse(nodes[1], 'private-users.8.inbox', [watcher.inbox]);
  });

  it('leaves out the connection named by socket_id from its patterns, on another node', async () => {
    const [excluded, other] = await Promise.all([RawClient.connect(nodes[1]), RawClient.connect(nodes[2])]);
    await Promise.all([excluded.subscribe('rooms.*'), other.subscribe('rooms.*')]);
    const sdk = publisher(nodes[0]);
    await sdk.trigger('rooms.1', 'e', { n: 1 }, { socket_id: excluded.socketId });
    await sdk.trigger('rooms.1', 'e', { n: 2 });
    assert.equal((await other.next('e')).payload.n, 1);
    assert.equal((await other.next('e')).payload.n, 2);
    assert.equal((await excluded.next('e')).payload.n, 2, 'the next event, with nothing before it');
  });

  it('PSUBSCRIBEs while a node has subscribers of a pattern and PUNSUBSCRIBEs when the last leaves', async () => {
    await nothingSubscribed(); // the earlier tests' subscribers are gone
    const client = await RawClient.connect(nodes[1]);
    await client.subscribe('interest.*');
    assert.equal(await numpat(), 1, 'one worker of one node listens');
    await client.subscribe('interest.**');
    assert.equal(await numpat(), 2, 'one glob per pattern');
    assert.deepEqual(await channels(), [], 'no channel subscribed for a pattern');
    client.unsubscribe('interest.*');
    await waitFor(async () => (await numpat()) === 1, 'the PUNSUBSCRIBE of interest.*');
    await publisher(nodes[0]).trigger('interest.x', 'e', { n: 1 });
    const frames = await framesUntil(client, 'e', (got) => got.length === 1);
    assert.deepEqual(frames.map((f) => f.channel), ['interest.**'], 'nothing for the pattern unsubscribed');
    await client.close();
    await nothingSubscribed();
  });

  it('subscribes a pattern again that is left and taken back before Redis confirmed the PUNSUBSCRIBE', async () => {
    const client = await RawClient.connect(nodes[1]);
    await client.subscribe('again.*');
    // Redis stopped for a moment, so that the PUNSUBSCRIBE stays unconfirmed: the new PSUBSCRIBE
    // waits for its confirmation (hiredis 0.14 would drop the pattern's callback when it comes).
    redis.child.kill('SIGSTOP');
    let subscribed;
    try {
      client.unsubscribe('again.*');
      subscribed = client.subscribe('again.*');
      await client.sync(); // raptor has taken the subscribe while Redis is stopped
    } finally {
      redis.child.kill('SIGCONT');
    }
    await subscribed; // acknowledged once Redis confirmed the new PSUBSCRIBE
    await waitFor(async () => (await numpat()) === 1, 'the pattern subscribed again');
    await publisher(nodes[0]).trigger('again.1', 'e', { n: 1 });
    assert.deepEqual((await client.next('e')).payload, { n: 1 });
  });

  it('subscribes its patterns again after a Redis restart', async () => {
    const watchers = [await patternSubscriber(nodes[1], 'restart.*'), await patternSubscriber(nodes[2], 'restart.*')];
    await redis.kill();
    await Promise.all(nodes.map((n) => clusterState(n, 'down')));
    await redis.start(redis.port);
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    assert.equal(await numpat(), 2, 'one pattern on each of two nodes');
    await publisher(nodes[0]).trigger('restart.1', 'e', { n: 'after' });
    for (const { inbox } of watchers) assert.deepEqual((await inbox.take()).data, { n: 'after' });
    await fenceThenNothingElse(nodes[0], 'restart.fence', watchers.map((w) => w.inbox));
  });

  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});
