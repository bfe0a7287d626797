// Readiness (docs/cluster.md#readiness): a cluster node takes traffic only once its cluster link
// is whole. Until then /health answers 503 with the reason (/health/live 200), the HTTP API 503
// with Retry-After, and WebSocket clients are held: connection_established, and what they sent,
// come when the node is ready. A node whose Redis stays unreachable serves alone after the
// start-up wait. Three nodes started together, with clients arriving as soon as /health says
// 200, get the cluster's semantics from the first connection: a roster with the member who joined
// on another node just before, no member_added for oneself, one channel_occupied. And a client's
// subscription_succeeded comes only once Redis has confirmed its worker's SUBSCRIBE, so a first
// event published at once on another node is not lost, even on a slow link to Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import {
  RECONNECT_MS, applyMemberEvents, assertStopsCleanly, clusterNode, clusterState, fence, health, rawMember, webhooksSettled,
} from './lib/cluster.mjs';
import { DelayProxy } from './lib/delay-proxy.mjs';
import { request, signedRequest } from './lib/http-api.mjs';
import { configFile } from './lib/config-files.mjs';
import { freePort, Raptor, runRaptor } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

describe('cluster readiness: a node whose Redis comes up after it', () => {
  const redis = new RedisServer();
  let node;
  before(async () => {
    redis.port = await freePort();
    node = clusterNode(redis, 'node-early');
    await node.start({ ready: false });
  });
  after(async () => {
    await node.closeClients();
    await node.stop().catch(() => {});
    await redis.stop();
  });

  it('answers 503 with the reason, holds WebSocket clients and refuses the API until its cluster link is ready', async () => {
    // A client arriving now: it sends a subscribe before it was told anything (pusher-js would wait).
    const client = await RawClient.open(node, `/app/${node.app.key}${PUSHER_QUERY}`);
    client.send({ event: 'pusher:subscribe', data: { channel: 'early' } });

    const starting = await request(node, { path: '/health' });
    assert.equal(starting.status, 503);
    assert.equal(starting.json.status, 'starting');
    assert.match(starting.json.reason, /^waiting for Redis/);
    const live = await request(node, { path: '/health/live' });
    assert.deepEqual([live.status, live.json], [200, { status: 'live' }]);
    const api = await signedRequest(node, { path: `/apps/${node.app.id}/channels` });
    assert.equal(api.status, 503);
    assert.match(api.json.error, /^This node is starting \(waiting for Redis/);
    assert.equal(api.headers['retry-after'], '1');
    assert.deepEqual(client.frames.pending(), [], 'no connection_established before the node is ready');

    await redis.start(redis.port);
    await waitFor(async () => (await request(node, { path: '/health' })).status === 200, 'the node to be ready', RECONNECT_MS);
    assert.deepEqual((await request(node, { path: '/health' })).json, { status: 'ok' });
    const established = await client.next('pusher:connection_established');
    await client.next('pusher_internal:subscription_succeeded', 'early');
    assert.equal((await health(node)).cluster.redis, 'up');
    await serverSdk(node).trigger('early', 'e', { n: 1 });
    assert.deepEqual((await client.next('e', 'early')).payload, { n: 1 });
    assert.ok(established.payload.socket_id);
    await node.logged(/info cluster: ready: every worker connected to Redis, the lease held; taking traffic/);
  });
});

describe('cluster readiness: Redis unreachable at start-up', () => {
  let node;
  before(async () => {
    node = clusterNode({ url: `redis://127.0.0.1:${await freePort()}` }, 'node-alone', ['--workers', '1']);
    await node.start(); // 200 only after the start-up wait
  });
  after(() => node.stop().catch(() => {}));

  it('serves as a node alone once the start-up wait is over, and says so', async () => {
    await node.logged(/warn cluster: not connected to Redis 10 s after start-up \(waiting for Redis: [^)]*\); taking traffic as a node alone/);
    assert.equal((await health(node)).cluster.redis, 'down');
    const client = await RawClient.connect(node);
    await client.subscribe('alone');
    await assertStopsCleanly([node]);
  });
});

describe('cluster readiness: the start-up wait is a setting', () => {
  const nowhere = async () => `redis://127.0.0.1:${await freePort()}`;
  const nodes = [];
  after(() => Promise.all(nodes.map((n) => n.stop().catch(() => {}))));

  it('is taken from --startup-wait and from raptor.rb\'s `redis ..., startup_wait:`', async () => {
    const file = configFile('startup-wait.rb', `redis "${await nowhere()}", node_id: "ruby", startup_wait: 2\n`);
    nodes.push(clusterNode({ url: await nowhere() }, 'flag', ['--workers', '1', '--startup-wait', '1']));
    nodes.push(new Raptor({ args: ['--config', file, '--workers', '1'] }));
    await Promise.all(nodes.map((n) => n.start()));
    await nodes[0].logged(/warn cluster: not connected to Redis 1 s after start-up/);
    await nodes[1].logged(/warn cluster: not connected to Redis 2 s after start-up/);
    const client = await RawClient.connect(nodes[0]);
    await client.subscribe('alone');
    await assertStopsCleanly(nodes);
  });

  for (const [what, args, env] of [
    ['--startup-wait 3601', ['--startup-wait', '3601'], {}],
    ['--startup-wait 10s', ['--startup-wait', '10s'], {}],
    ['RAPTOR_STARTUP_WAIT=-1', [], { RAPTOR_STARTUP_WAIT: '-1' }],
  ]) {
    it(`exits 2 with the reason for ${what}`, async () => {
      const { code, stderr } = await runRaptor(['--redis', 'redis://127.0.0.1:1', ...args], env);
      assert.equal(code, 2);
      assert.match(stderr, /start-up wait is a whole number of seconds from 0 to 3600/);
    });
  }

  it('raptor.rb: `redis ..., startup_wait:` is checked at its line', async () => {
    let r = await runRaptor(['check', configFile('startup-high.rb', 'redis "redis://127.0.0.1", startup_wait: 4000\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /:1: redis: the start-up wait is a whole number of seconds from 0 to 3600/);
    r = await runRaptor(['check', configFile('startup-text.rb', '\nredis "redis://127.0.0.1", startup_wait: "5"\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /:2: redis: startup_wait must be an Integer \(seconds\), not "5"/);
  });

  it('is described by raptor --help', async () => {
    const { stdout } = await runRaptor(['--help']);
    assert.match(stdout, /--startup-wait/);
  });
});

describe('cluster readiness: three nodes, clients from their first second', () => {
  const APP = { id: 'first-second', key: 'first-second-key', secret: 'first-second-secret' };
  const redis = new RedisServer();
  const receiver = new WebhookReceiver(APP);
  let nodes = [];
  before(async () => {
    await Promise.all([redis.start(), receiver.start()]);
    nodes = ['node-a', 'node-b', 'node-c'].map((id) => {
      const n = clusterNode(redis, id, ['--webhook', receiver.url]);
      Object.assign(n, { apps: [APP], app: APP });
      return n;
    });
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.closeClients()));
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await receiver.stop();
    await redis.stop();
  });

  it('gives every client the cluster\'s roster, member events and webhooks from the first connection', async () => {
    const [a, b, c] = nodes;
    // Clients come as soon as each node's /health says 200, as a load balancer sends them.
    const channel = 'presence-first-second';
    const members = await Promise.all([a, b, c].map(async (n, i) => {
      await n.start();
      const occupants = await Promise.all([0, 1].map(async () => {
        const client = await RawClient.connect(n, { app: APP });
        await client.subscribe('first-occupied');
        return client;
      }));
      return { occupants, member: i === 0 ? await rawMember(n, channel, { user_id: 'ann' }) : null };
    }));
    const ann = members[0].member;
    const bob = await rawMember(b, channel, { user_id: 'bob' });
    // The three faults of issue 17, each checked, all reported.
    const problems = [];
    if (!bob.presence.ids.includes('ann')) problems.push(`bob's roster lacks ann, who joined on node-a before: ${bob.presence.ids}`);

    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await fence(c, channel, [ann, bob], 'fence');
    const toSelf = ann.frames.pending((f) => f.event === 'pusher_internal:member_added' && f.payload.user_id === 'ann');
    if (toSelf.length) problems.push(`ann heard member_added for herself ${toSelf.length} time(s)`);
    for (const w of [ann, bob]) {
      try {
        applyMemberEvents(w, new Set(w.presence.ids));
      } catch (err) {
        problems.push(err.message);
      }
    }

    await receiver.take({ name: 'channel_occupied', channel: 'first-occupied' }, 20000);
    await webhooksSettled(redis, nodes);
    const occupied = receiver.history('first-occupied').length;
    if (occupied !== 1) problems.push(`channel_occupied sent ${occupied} times for one channel`);
    const presenceHooks = receiver.history(channel).sort();
    const once = ['channel_occupied', 'member_added:ann', 'member_added:bob', 'member_added:fence'];
    if (presenceHooks.join() !== once.join()) problems.push(`presence webhooks ${presenceHooks}, not each once`);
    assert.deepEqual(problems, []);
    await assertStopsCleanly(nodes);
  });
});

describe('cluster readiness: subscription_succeeded after Redis confirmed the SUBSCRIBE', () => {
  const redis = new RedisServer();
  let proxy;
  let slow;
  let direct;
  before(async () => {
    await redis.start();
    proxy = await new DelayProxy({ port: redis.port }, 300).start();
    slow = clusterNode(proxy, 'node-slow-link');
    direct = clusterNode(redis, 'node-direct');
    await Promise.all([slow.start(), direct.start()]);
    await Promise.all([slow, direct].map((n) => clusterState(n, 'up')));
  });
  after(async () => {
    await Promise.all([slow, direct].map((n) => n.closeClients()));
    await assertStopsCleanly([slow, direct]);
    await proxy.stop();
    await redis.stop();
  });

  it('delivers the event published on another node as soon as the client is subscribed (300 ms from node to Redis)', async () => {
    const client = await RawClient.connect(slow);
    for (const channel of ['first-0', 'private-first-1', 'first-2']) {
      await client.subscribe(channel);
      await serverSdk(direct).trigger(channel, 'e', { channel });
      assert.deepEqual((await client.next('e', channel)).payload, { channel });
    }
  });

  it('does the same for a wildcard pattern: subscription_succeeded once Redis confirmed the PSUBSCRIBE', async () => {
    const client = await RawClient.connect(slow);
    for (const [pattern, channel] of [['firstp-0.*', 'firstp-0.a'], ['private-firstp-1.*', 'private-firstp-1.b']]) {
      await client.subscribe(pattern);
      await serverSdk(direct).trigger(channel, 'e', { channel });
      const event = await client.next('e', pattern);
      assert.deepEqual([event.payload, event.concrete_channel], [{ channel }, channel]);
    }
  });
});
