// Webhook delivery in a cluster (docs/cluster.md#webhook-delivery): events a node emits pass
// through the Redis stream {prefix}webhooks, read by every node in one consumer group, so that
// they are delivered once across the cluster, by whichever node read them, and still delivered
// when the emitting node is killed with its receiver unreachable. Without Redis each node delivers
// its own. Real redis-server, real raptor nodes, a real HTTP receiver counting duplicates; the
// events are cache_miss and client_event, which only the node of the subscriber or sender emits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pusherClient, subscribed } from './lib/clients.mjs';
import { assertStopsCleanly, clusterNode, clusterState, health, RECONNECT_MS } from './lib/cluster.mjs';
import { freePort } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
const STREAM = 'raptor:webhooks';
const FAST_RETRIES = ['--webhook-retry-base-ms', '100', '--webhook-retry-max-ms', '500'];
const CLAIM_MS = 3000;
// A killed node's entries are claimed CLAIM_MS after its last renewal, at the next claim round
// (every CLAIM_MS / 3); the bound asserted is generous for a loaded machine.
const TAKEOVER_BOUND_MS = 60000;
const names = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

function webhookArgs(receiver) {
  return ['--webhook', `${receiver.url};events=cache_miss,client_event`, ...FAST_RETRIES,
    '--webhook-claim-ms', String(CLAIM_MS)];
}

// One cache_miss per channel: a subscriber of a cache channel with nothing cached, on `node`.
async function cacheMisses(node, channels) {
  const client = await RawClient.connect(node);
  for (const channel of channels) client.sendSubscribe(channel);
  for (const channel of channels) await client.next('pusher:cache_miss', channel);
  return client;
}

// Every channel's cache_miss was delivered (waited for), each exactly once.
async function deliveredOnce(receiver, channels, ms) {
  for (const channel of channels) await receiver.take({ name: 'cache_miss', channel }, ms);
  onlyOnce(receiver, channels);
}

function onlyOnce(receiver, channels) {
  const got = receiver.accepted.filter((e) => channels.includes(e.channel)).map((e) => e.channel).sort();
  assert.deepEqual(got, [...channels].sort(), 'each event once');
  assert.deepEqual(receiver.invalid(), []);
}

async function streamFigures(nodes) {
  const all = await Promise.all(nodes.map(async (n) => (await health(n)).webhooks.stream));
  const sum = (k) => all.reduce((s, f) => s + f[k], 0);
  return { all, appended: sum('appended'), read: sum('read'), claimed: sum('claimed'), acked: sum('acked'), local: sum('local') };
}

async function pendingInRedis(redis) {
  const [count] = await redis.command('XPENDING', STREAM, 'raptor');
  return count;
}

// One node with a receiver on a fresh redis-server, for the tests of the enclosing describe():
// `setup.node` once its stream is up; all stopped at the end.
function oneNode(nodeId, { args = [], redisArgs = [] } = {}) {
  const setup = { redis: new RedisServer(), receiver: new WebhookReceiver(APP) };
  before(async () => {
    await setup.redis.start(undefined, redisArgs);
    await setup.receiver.start();
    setup.node = clusterNode(setup.redis, nodeId, [...webhookArgs(setup.receiver), ...args]);
    await setup.node.start();
    await streamState(setup.node, 'up');
  });
  after(async () => {
    await setup.node?.stop().catch(() => {});
    await setup.receiver.stop();
    await setup.redis.stop();
  });
  return setup;
}

function streamState(node, state, ms = RECONNECT_MS) {
  return waitFor(async () => (await health(node)).webhooks.stream?.state === state,
    `${node.nodeId}'s webhook stream to be ${state}`, ms);
}

describe('cluster webhooks: three nodes, one receiver', () => {
  const redis = new RedisServer();
  const receiver = new WebhookReceiver(APP);
  const nodes = [];
  before(async () => {
    await redis.start();
    await receiver.start();
    nodes.push(...['node-a', 'node-b', 'node-c'].map((id) => clusterNode(redis, id, webhookArgs(receiver))));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await Promise.all(nodes.map((n) => streamState(n, 'up')));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await receiver.stop();
    await redis.stop();
  });

  it('delivers what node A emits once across the cluster, through the stream', async () => {
    const [a] = nodes;
    const channels = names('cache-once', 30);
    await cacheMisses(a, channels);
    // client events, emitted once, by the sender's node
    const sender = await pusherClient(a);
    const [priv] = await subscribed(sender, 'private-chat');
    for (let n = 0; n < 5; n++) assert.ok(priv.trigger('client-said', { n }));
    await deliveredOnce(receiver, channels);
    for (let n = 0; n < 5; n++) {
      await receiver.take({ name: 'client_event', channel: 'private-chat', data: JSON.stringify({ n }) });
    }
    // Every entry acknowledged: a second delivery would have come before its acknowledgement.
    await waitFor(async () => (await streamFigures(nodes)).acked === 35 && (await pendingInRedis(redis)) === 0,
      'every entry to be acknowledged', 20000);
    onlyOnce(receiver, channels);
    assert.equal(receiver.accepted.filter((e) => e.name === 'client_event').length, 5);
    const f = await streamFigures(nodes);
    assert.deepEqual(f.all.map((s) => s.appended), [35, 0, 0], 'appended by the emitting node only');
    assert.equal(f.read + f.claimed, 35, 'each entry read once');
    assert.equal(f.local, 0);
    const [group] = await redis.command('XINFO', 'GROUPS', STREAM);
    assert.equal(group[1], 'raptor');
  });

  it('stops cleanly', async () => {
    await Promise.all(nodes.map((n) => n.closeClients()));
    await assertStopsCleanly(nodes);
  });
});

describe('cluster webhooks: node A killed while its receiver is down', () => {
  const redis = new RedisServer();
  let receiver;
  let a;
  let b;
  before(async () => {
    await redis.start();
    receiver = await WebhookReceiver.reserve(APP);
    a = clusterNode(redis, 'node-a', webhookArgs(receiver));
    await a.start();
    await streamState(a, 'up');
  });
  after(async () => {
    await a.stop().catch(() => {});
    await b?.stop().catch(() => {});
    await receiver.stop();
    await redis.stop();
  });

  it('another node claims its pending entries and delivers them once the receiver is back', async () => {
    const channels = names('cache-crash', 12);
    await cacheMisses(a, channels);
    await waitFor(async () => {
      const [count, , , consumers] = await redis.command('XPENDING', STREAM, 'raptor');
      return count === 12 && consumers?.[0]?.[0] === 'node-a';
    }, 'node A to hold all 12 entries, pending');
    await a.logged(/Unable to connect at attempt \d+; \d+ events retried/);
    a.kill('SIGKILL');
    await a.exited;
    b = clusterNode(redis, 'node-b', webhookArgs(receiver));
    await b.start();
    await receiver.start();
    await deliveredOnce(receiver, channels, TAKEOVER_BOUND_MS);
    await waitFor(async () => (await pendingInRedis(redis)) === 0, 'node B to acknowledge them', 20000);
    const f = (await health(b)).webhooks.stream;
    assert.equal(f.claimed, 12);
    assert.equal(f.acked, 12);
    onlyOnce(receiver, channels);
    await assertStopsCleanly([b]);
  });
});

describe('cluster webhooks: Redis unreachable, then back', () => {
  const setup = oneNode('node-alone');

  it('delivers the node\'s own webhooks while Redis is down, and streams again once it is back', async () => {
    const { redis, receiver, node } = setup;
    const port = redis.port;
    await redis.kill();
    await streamState(node, 'down');
    const during = names('cache-down', 5);
    await cacheMisses(node, during);
    await deliveredOnce(receiver, during);
    let h = (await health(node)).webhooks;
    assert.equal(h.stream.local, 5);
    assert.equal(h.stream.appended, 0);
    await node.logged(/webhooks: lost the Redis stream raptor:webhooks \(.*\); this node delivers its own webhooks until it is back/);

    await redis.start(port);
    await streamState(node, 'up');
    const later = names('cache-back', 5);
    await cacheMisses(node, later);
    await deliveredOnce(receiver, later);
    h = (await health(node)).webhooks;
    assert.equal(h.stream.appended, 5);
    assert.equal(h.stream.local, 5);
    assert.equal(await redis.command('XLEN', STREAM), 5, 'Redis came back empty: only the later events');
    await waitFor(async () => (await pendingInRedis(redis)) === 0, 'the later events to be acknowledged');
    await assertStopsCleanly([node]);
  });
});

describe('cluster webhooks: Redis stalled (SIGSTOP), then resumed', () => {
  const setup = oneNode('node-stalled');

  it('drops the stream\'s connections at the stall deadline, delivers its own webhooks meanwhile, streams again after SIGCONT', async () => {
    const { redis, receiver, node } = setup;
    const during = names('cache-stalled', 3);
    redis.child.kill('SIGSTOP');
    try {
      // The connections stay open: only the PING (5 s) or XREADGROUP (BLOCK + 5 s) deadline,
      // whichever its tick checks first, notices the stall.
      await streamState(node, 'down', 30000);
      await node.logged(/webhooks: lost the Redis stream raptor:webhooks \(no answer to (PING|XREADGROUP) for \d+ s\)/);
      await cacheMisses(node, during);
      await deliveredOnce(receiver, during);
    } finally {
      redis.child.kill('SIGCONT');
    }
    // Its attempts during the stall timed out and backed off; Redis answers the next one.
    await streamState(node, 'up', 2 * RECONNECT_MS);
    const later = names('cache-resumed', 3);
    await cacheMisses(node, later);
    await deliveredOnce(receiver, later);
    const h = (await health(node)).webhooks.stream;
    assert.ok(h.local >= 3, `the stalled period's events delivered by the node itself (local ${h.local})`);
    assert.ok(h.appended >= 3, `the later events through the stream (appended ${h.appended})`);
    await waitFor(async () => (await pendingInRedis(redis)) === 0, 'the later events to be acknowledged');
    await assertStopsCleanly([node]);
  });
});

describe('cluster webhooks: Redis unreachable at start-up', () => {
  const redis = new RedisServer();
  const receiver = new WebhookReceiver(APP);
  let node;
  before(async () => {
    await receiver.start();
    redis.port = await freePort();
    node = clusterNode(redis, 'node-early', webhookArgs(receiver));
    await node.start();
  });
  after(async () => {
    await node.stop().catch(() => {});
    await receiver.stop();
    await redis.stop();
  });

  it('delivers its own webhooks, then goes over to the stream once Redis is up', async () => {
    await node.logged(/webhooks: cannot reach the Redis stream raptor:webhooks \(.*\); this node delivers its own webhooks until it can/);
    await cacheMisses(node, ['cache-early']);
    await deliveredOnce(receiver, ['cache-early']);
    await redis.start(redis.port);
    // Its connection attempts have backed off to 8 s apart by now.
    await streamState(node, 'up', 2 * RECONNECT_MS);
    await clusterState(node, 'up');
    await cacheMisses(node, ['cache-later']);
    await deliveredOnce(receiver, ['cache-later']);
    const h = (await health(node)).webhooks.stream;
    assert.deepEqual([h.local, h.appended], [1, 1]);
    await assertStopsCleanly([node]);
  });
});

describe('cluster webhooks: the stream is trimmed', () => {
  const setup = oneNode('node-trim', { args: ['--webhook-stream-max-entries', '100'], redisArgs: ['--stream-node-max-entries', '10'] });

  it('keeps about --webhook-stream-max-entries entries, and delivers everything', async () => {
    const { redis, receiver, node } = setup;
    // In rounds of 50: the cap must stay above what waits to be read (see docs/cluster.md).
    const channels = names('cache-trim', 300);
    for (let i = 0; i < channels.length; i += 50) {
      await cacheMisses(node, channels.slice(i, i + 50));
      await deliveredOnce(receiver, channels.slice(i, i + 50));
    }
    onlyOnce(receiver, channels);
    const length = await redis.command('XLEN', STREAM);
    assert.ok(length >= 100 && length < 150, `XLEN ${length}`);
    assert.equal((await health(node)).webhooks.stream.appended, 300);
    await assertStopsCleanly([node]);
  });
});

describe('cluster webhooks: entries this node cannot deliver', () => {
  const setup = oneNode('node-strict');

  it('logs, acknowledges and counts as dropped an unknown app\'s entry and a malformed one', async () => {
    const { redis, receiver, node } = setup;
    const at = String(Date.now());
    await redis.command('XADD', STREAM, '*', 'v', '1', 'app', 'nobody-here', 'type', 'cache_miss', 'channel', 'cache-x',
      'event', '{"name":"cache_miss","channel":"cache-x"}', 'at', at, 'node', 'node-elsewhere');
    await redis.command('XADD', STREAM, '*', 'v', '9', 'app', 'app-id');
    await node.logged(/webhooks: the Redis stream holds cache_miss events of app nobody-here \(from node node-elsewhere\) that no receiver here wants; dropped/);
    await node.logged(/webhooks: entry \d+-\d+ of the Redis stream raptor:webhooks is no webhook event \(entry format version 9 is not known here\); dropped/);
    await waitFor(async () => (await health(node)).webhooks.stream.acked === 2, 'both entries to be acknowledged');
    assert.equal(await pendingInRedis(redis), 0);
    const h = (await health(node)).webhooks;
    assert.equal(h.dropped, 2);
    assert.equal(h.stream.read, 1, 'the malformed entry is not counted as a webhook read');
    // and the node still delivers its own
    await cacheMisses(node, ['cache-strict']);
    await deliveredOnce(receiver, ['cache-strict']);
    await assertStopsCleanly([node]);
  });
});

describe('cluster webhooks: bad settings', () => {
  it('refuses a bad --webhook-stream-max-entries or --webhook-claim-ms', async () => {
    const { runRaptor } = await import('./lib/raptor.mjs');
    for (const [flag, value] of [['--webhook-stream-max-entries', '99'], ['--webhook-stream-max-entries', 'lots'],
      ['--webhook-claim-ms', '999'], ['--webhook-claim-ms', '3600001']]) {
      const r = await runRaptor([flag, value]);
      assert.equal(r.code, 2, `${flag} ${value}`);
      assert.match(r.stderr, new RegExp(`invalid value '${value}' for ${flag}`));
    }
  });
});
