// Occupancy and webhooks decided once by the cluster (docs/cluster.md#occupancy-and-webhooks):
// three raptor nodes (two workers each) sharing one real redis-server and one real webhook
// receiver, which counts what it gets. channel_occupied / channel_vacated and member_added /
// member_removed arrive once per transition of the whole cluster, however the subscribers are
// spread; a move to another node within the departure delay sends nothing; a vacate decided by a
// node killed with SIGKILL is still sent, once, by another, and so are the member_removed and
// channel_vacated of what a killed node still held (its clean-up records them, a sweeper sends them); max_presence_members holds across the
// nodes (refused with 4305, as on one node); Redis holds nothing once everyone has left. Across
// a Redis outage each node reports its own, and Redis gets the sums afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pusherClient, subscribed } from './lib/clients.mjs';
import { assertStopsCleanly, clusterState, health, threeNodes, webhooksSettled } from './lib/cluster.mjs';
import { configFile } from './lib/config-files.mjs';
import { Raptor, freePort } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'hooked', key: 'hooked-key', secret: 'hooked-secret-4b1d' };
const LIMIT = 3; // the app's max_presence_members
const DEPARTURE_MS = 20000; // vacated/member_removed come ~3 s after the leave; room for a busy machine

const receiver = await new WebhookReceiver(APP).start();
after(() => receiver.stop());
const config = configFile('cluster-webhooks.rb', `app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}", max_presence_members: ${LIMIT} do |a|
  a.webhook "${receiver.url}"
end
`);

function node(redis, nodeId) {
  const n = new Raptor({ apps: [APP], configVia: 'defaults',
                         args: ['--config', config, '--redis', redis.url, '--node-id', nodeId, '--workers', '2'] });
  n.nodeId = nodeId;
  return n;
}

const member = (user) => ({ channelData: JSON.stringify({ user_id: user, user_info: { name: user } }) });

async function rawOn(n, channel, options) {
  const client = await RawClient.connect(n, { app: APP });
  await client.subscribe(channel, options);
  return client;
}

// The receiver's events of `channel`, counted: {"channel_occupied": 1, "member_added:u": 1, ...}.
function counted(channel) {
  const out = {};
  for (const e of receiver.history(channel)) out[e] = (out[e] ?? 0) + 1;
  return out;
}

async function nothingHeld(redis) {
  assert.deepEqual(await redis.command('KEYS', 'raptor:occupancy:*'), [], 'no occupancy key');
  assert.deepEqual(await redis.command('SMEMBERS', `raptor:channels:${APP.id}`), [], 'no occupied channel');
  assert.deepEqual(await redis.command('KEYS', 'raptor:node:*:held'), [], 'no node holds anything');
  assert.deepEqual(await redis.command('KEYS', 'raptor:presence:*'), [], 'no presence key');
}

describe('cluster webhooks: three nodes, one Redis, one receiver', () => {
  const { redis, nodes } = threeNodes(node);

  it('sends channel_occupied and channel_vacated once per channel, subscribers coming and going on every node at once', async () => {
    const channels = ['busy-0', 'busy-1', 'private-busy-2', 'busy-3'];
    const clients = (await Promise.all(nodes.flatMap((n) => [0, 1].map(async () => {
      const client = await RawClient.connect(n, { app: APP });
      await Promise.all(channels.map((ch) => client.subscribe(ch)));
      return client;
    }))));
    for (const ch of channels) await receiver.take({ name: 'channel_occupied', channel: ch });
    // What the HTTP API and subscription_count read: every node's count, and the occupied channels.
    const fields = await redis.command('HGETALL', 'raptor:occupancy:hooked:busy-0');
    assert.deepEqual(fields.length, 6);
    const counts = Object.fromEntries([0, 2, 4].map((i) => [fields[i], fields[i + 1]]));
    assert.deepEqual(counts, { 'node-a': '2', 'node-b': '2', 'node-c': '2' });
    assert.deepEqual((await redis.command('SMEMBERS', `raptor:channels:${APP.id}`)).sort(), [...channels].sort());
    for (const n of ['node-a', 'node-b', 'node-c'])
      assert.equal(await redis.command('SCARD', `raptor:node:${n}:held`), channels.length, `${n} holds its four channels`);

    await Promise.all(clients.map((c) => c.close()));
    for (const ch of channels) await receiver.take({ name: 'channel_vacated', channel: ch }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    for (const ch of channels) assert.deepEqual(counted(ch), { channel_occupied: 1, channel_vacated: 1 }, ch);
    await nothingHeld(redis);
  });

  it('sends nothing for a subscriber moving to another node within the delay (a page reload)', async () => {
    const channel = 'moving';
    const before = await pusherClient(nodes[0], { app: APP });
    await subscribed(before, channel);
    await receiver.take({ name: 'channel_occupied', channel });
    before.disconnect();
    await waitFor(async () => (await redis.command('ZSCORE', 'raptor:departures', `v\n${APP.id}\n${channel}`)) !== null,
      'the vacate held in Redis');
    const afterMove = await pusherClient(nodes[1], { app: APP });
    await subscribed(afterMove, channel);
    // The occupancy script runs beside subscription_succeeded, not before it: wait for it. (Were
    // the departure swept instead, the history below would show the extra vacated and occupied.)
    await waitFor(async () => (await redis.command('ZCARD', 'raptor:departures')) === 0, 'the arrival to take the departure back');
    afterMove.disconnect(); // now for good: the one vacated, after the delay
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(receiver.history(channel), ['channel_occupied', 'channel_vacated']);
  });

  it('sends member_added and member_removed once for a user on two nodes', async () => {
    const channel = 'presence-two-nodes';
    const onA = await rawOn(nodes[0], channel, member('ann'));
    const onB = await rawOn(nodes[1], channel, member('ann'));
    const other = await rawOn(nodes[2], channel, member('bob'));
    await receiver.take({ name: 'member_added', channel, user_id: 'ann' });
    await receiver.take({ name: 'member_added', channel, user_id: 'bob' });
    await onA.close(); // ann is still on node b
    await other.close();
    await receiver.take({ name: 'member_removed', channel, user_id: 'bob' }, DEPARTURE_MS);
    await onB.close();
    await receiver.take({ name: 'member_removed', channel, user_id: 'ann' }, DEPARTURE_MS);
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(counted(channel), {
      channel_occupied: 1, 'member_added:ann': 1, 'member_added:bob': 1,
      'member_removed:bob': 1, 'member_removed:ann': 1, channel_vacated: 1,
    });
    await nothingHeld(redis);
  });

  it('sends no member webhook for a user rejoining on another node within the delay', async () => {
    const channel = 'presence-rejoin';
    const keeper = await rawOn(nodes[2], channel, member('keeper')); // the channel stays occupied
    const first = await rawOn(nodes[0], channel, member('ann'));
    await receiver.take({ name: 'member_added', channel, user_id: 'ann' });
    await first.close();
    await waitFor(async () => (await redis.command('ZCARD', 'raptor:departures')) === 1, 'ann\'s departure held in Redis');
    const again = await rawOn(nodes[1], channel, member('ann'));
    assert.equal(await redis.command('ZCARD', 'raptor:departures'), 0, 'the rejoin took the departure back');
    await again.close();
    await keeper.close();
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(counted(channel), {
      channel_occupied: 1, 'member_added:keeper': 1, 'member_added:ann': 1,
      'member_removed:ann': 1, 'member_removed:keeper': 1, channel_vacated: 1,
    });
  });

  it('sends a vacate decided by a node killed with SIGKILL before its delay ended, once, from another node', async () => {
    const doomed = node(redis, 'node-doomed');
    await doomed.start();
    try {
      await clusterState(doomed, 'up');
      const channel = 'doomed-channel';
      const client = await rawOn(doomed, channel);
      await receiver.take({ name: 'channel_occupied', channel });
      await client.close();
      await waitFor(async () => (await redis.command('ZSCORE', 'raptor:departures', `v\n${APP.id}\n${channel}`)) !== null,
        'the vacate held in Redis');
      doomed.kill('SIGKILL');
      await doomed.exited;
      await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
      await webhooksSettled(redis, nodes);
      assert.deepEqual(counted(channel), { channel_occupied: 1, channel_vacated: 1 });
    } finally {
      await doomed.stop().catch(() => {});
    }
  });

  it('sends member_removed and channel_vacated of a node killed with SIGKILL while it held them, once, after its clean-up', async () => {
    const doomed = node(redis, 'node-doomed');
    await doomed.start();
    try {
      await clusterState(doomed, 'up');
      const lone = 'doomed-lone'; // subscribed on the doomed node only: vacated when it dies
      const channel = 'presence-doomed'; // 'gone' only on the doomed node, 'stays' on node a
      const clients = [await rawOn(doomed, lone), await rawOn(doomed, channel, member('gone')),
        await rawOn(doomed, channel, member('gone')), await rawOn(nodes[0], channel, member('stays'))];
      await receiver.take({ name: 'channel_occupied', channel: lone });
      await receiver.take({ name: 'member_added', channel, user_id: 'gone' });
      await receiver.take({ name: 'member_added', channel, user_id: 'stays' });
      assert.deepEqual((await redis.command('SMEMBERS', 'raptor:node:node-doomed:held')).sort(),
        [`raptor:occupancy:${APP.id}:${channel}`, `raptor:occupancy:${APP.id}:${lone}`,
          `raptor:presence:${APP.id}:${channel}`].sort());
      const killed = Date.now();
      doomed.kill('SIGKILL');
      await doomed.exited;
      // Its lease lapses (5 s), a survivor cleans it up and records the departures, and a sweeper
      // sends them 3 s later: well within this bound on a busy machine.
      await receiver.take({ name: 'member_removed', channel, user_id: 'gone' }, 60000);
      await receiver.take({ name: 'channel_vacated', channel: lone }, 60000);
      console.log(`# kill -9 to its member_removed and channel_vacated webhooks: ${Date.now() - killed} ms`);
      await webhooksSettled(redis, nodes);
      assert.deepEqual(counted(lone), { channel_occupied: 1, channel_vacated: 1 });
      assert.deepEqual(counted(channel), { channel_occupied: 1, 'member_added:gone': 1, 'member_added:stays': 1,
        'member_removed:gone': 1 });
      assert.deepEqual(await redis.command('HGETALL', `raptor:occupancy:${APP.id}:${channel}`), ['node-a', '1']);
      assert.deepEqual(await redis.command('KEYS', 'raptor:*node-doomed*'), [], 'nothing of the dead node left');
      await clients[3].close();
      await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    } finally {
      await doomed.stop().catch(() => {});
    }
  });

  it('holds max_presence_members across the nodes: 4305 for one user too many, as on one node, and nothing counted for it', async () => {
    const channel = 'presence-full';
    const members = [
      await rawOn(nodes[0], channel, member('u1')),
      await rawOn(nodes[1], channel, member('u2')),
      await rawOn(nodes[2], channel, member('u3')),
    ];
    // Node a holds one member: only the cluster knows the channel is full.
    const refused = await RawClient.connect(nodes[0], { app: APP });
    const { error, subscriptionError } = await refused.subscribeRefused(channel, member('u4'), 4305);
    assert.match(error.data.message, /full \(3 members\)/);
    assert.equal(subscriptionError.data.status, 403);
    // A member already in the channel may join from another node.
    members.push(await rawOn(nodes[1], channel, member('u1')));
    const p = `raptor:presence:${APP.id}:${channel}`;
    assert.deepEqual((await redis.command('HKEYS', p)).sort(), ['u1', 'u2', 'u3']);
    assert.equal(await redis.command('HGET', `${p}:node:node-a`, 'u4'), null);
    for (const n of ['node-a', 'node-b', 'node-c'])
      assert.equal(await redis.command('SISMEMBER', `raptor:node:${n}:held`, p), 1, `${n} holds the presence key`);
    const fields = await redis.command('HGETALL', `raptor:occupancy:${APP.id}:${channel}`);
    const total = [1, 3, 5].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    assert.equal(total, 4, 'the refused subscription is not counted');
    // The refused connection may still join once there is room.
    await members.shift().close(); // u1 on node a; u1 stays on node b
    await members[0].close(); // u2: room for one
    await waitFor(async () => (await redis.command('HLEN', p)) === 2, 'u2 gone from the roster');
    await refused.subscribe(channel, member('u4'));
    await refused.close();
    for (const m of members) await m.close();
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    assert.equal(counted(channel)['member_added:u4'], 1);
    assert.equal(counted(channel)['member_added:u1'], 1);
    await nothingHeld(redis);
  });

  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});

describe('cluster webhooks across a Redis outage', () => {
  const { redis, nodes } = threeNodes(node);

  it('reports per node while Redis does not answer, then gives Redis the sums without deciding anything twice', async () => {
    const kept = 'outage-kept'; // occupied before the outage, vacated during it
    const born = 'outage-born'; // occupied during the outage, vacated after it
    const joined = 'presence-outage'; // a member joining during the outage, leaving after it
    const before = await rawOn(nodes[0], kept);
    await receiver.take({ name: 'channel_occupied', channel: kept });
    let during;
    let zed;
    redis.child.kill('SIGSTOP');
    try {
      await clusterState(nodes[0], 'down');
      during = await rawOn(nodes[0], born);
      await receiver.take({ name: 'channel_occupied', channel: born }); // node a's own
      zed = await rawOn(nodes[0], joined, member('zed'));
      await receiver.take({ name: 'member_added', channel: joined, user_id: 'zed' }); // node a's own
      await before.close();
      await receiver.take({ name: 'channel_vacated', channel: kept }, DEPARTURE_MS); // node a's own, after its delay
    } finally {
      redis.child.kill('SIGCONT');
    }
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await waitFor(async () => (await redis.command('EXISTS', `raptor:occupancy:${APP.id}:${kept}`)) === 0 &&
      (await redis.command('HGET', `raptor:occupancy:${APP.id}:${born}`, 'node-a')) === '1', 'the outage\'s changes in Redis');
    // The member joined during the outage is counted in Redis by the re-assert, which decides no
    // webhook for it (node a reported it): its leave is then decided in Redis.
    await waitFor(async () => (await redis.command('HGET', `raptor:presence:${APP.id}:${joined}:node:node-a`, 'zed')) === '1',
      'the outage\'s member counted in Redis');
    assert.deepEqual((await redis.command('SMEMBERS', `raptor:channels:${APP.id}`)).sort(), [born, joined].sort());
    await during.close(); // decided in Redis again
    await zed.close();
    await receiver.take({ name: 'channel_vacated', channel: born }, DEPARTURE_MS);
    await receiver.take({ name: 'member_removed', channel: joined, user_id: 'zed' }, DEPARTURE_MS);
    await receiver.take({ name: 'channel_vacated', channel: joined }, DEPARTURE_MS);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(counted(kept), { channel_occupied: 1, channel_vacated: 1 });
    assert.deepEqual(counted(born), { channel_occupied: 1, channel_vacated: 1 });
    assert.deepEqual(counted(joined), { channel_occupied: 1, 'member_added:zed': 1, 'member_removed:zed': 1,
      channel_vacated: 1 });
    await nothingHeld(redis);
  });
});

describe('cluster webhooks while Redis is unreachable', () => {
  const nodes = [];
  const redis = new RedisServer();
  before(async () => {
    redis.port = await freePort(); // nothing listens there
    nodes.push(node(redis, 'alone'));
    await nodes[0].start();
  });
  after(() => nodes[0].stop());

  it('sends the node\'s own channel and member webhooks, as a single node does', async () => {
    const channel = 'presence-alone';
    const client = await rawOn(nodes[0], channel, member('ann'));
    await receiver.take({ name: 'channel_occupied', channel });
    await receiver.take({ name: 'member_added', channel, user_id: 'ann' });
    await client.close();
    await receiver.take({ name: 'member_removed', channel, user_id: 'ann' }, DEPARTURE_MS);
    await receiver.take({ name: 'channel_vacated', channel }, DEPARTURE_MS);
    assert.equal((await health(nodes[0])).cluster.redis, 'down');
  });
});
