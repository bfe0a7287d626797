// Node leases (docs/cluster.md#node-leases) on three raptor nodes (two workers each) sharing one
// real redis-server, with pusher-js presence members: a node killed with kill -9 is cleaned up by
// exactly one of the others (its members removed once, its keys gone, departures recorded); a
// Redis restarted empty gets every node's members back without anyone resubscribing; a node
// stalled (SIGSTOP) beyond its lease is cleaned up and, resumed, re-asserts its members once.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { presenceMember } from './lib/clients.mjs';
import { assertStopsCleanly, clusterNode, clusterState, health } from './lib/cluster.mjs';
import { configFile } from './lib/config-files.mjs';
import { DEFAULT_APP, Raptor, runRaptor } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';

const BOUND_MS = 20000; // generous: the default lease is 5 s, clean-up follows within about 2 s more

// A fresh redis-server and three nodes (node-a, node-b, node-c), all connected; `makeNode(redis,
// id)` makes each.
async function cluster(makeNode = clusterNode) {
  const redis = new RedisServer();
  await redis.start();
  const nodes = ['node-a', 'node-b', 'node-c'].map((id) => makeNode(redis, id));
  await Promise.all(nodes.map((n) => n.start()));
  await Promise.all(nodes.map((n) => clusterState(n, 'up')));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.closeClients().catch(() => {})));
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await redis.stop();
  };
  return { redis, nodes, stop };
}

// Runs `test` on a fresh cluster, stopped afterwards whatever happens.
async function withCluster(test, makeNode) {
  const c = await cluster(makeNode);
  try {
    await test(c);
  } finally {
    await c.stop();
  }
}

const presenceKey = (node, channel) => `raptor:presence:${node.app.id}:${channel}`;
const sorted = (list) => [...list].sort();

// Members that see `ids` (and only them) in their pusher-js roster.
function rostersAre(members, ids, what) {
  return waitFor(() => members.every((m) => {
    const seen = [];
    m.members.each((x) => seen.push(x.id));
    return JSON.stringify(sorted(seen)) === JSON.stringify(sorted(ids));
  }), what, BOUND_MS);
}

// Takes what the watchers' inboxes hold: later checks look at what arrives after this.
async function drained(watchers) {
  for (const w of watchers) {
    for (const inbox of [w.added, w.removed]) while (inbox.pending().length) await inbox.take();
  }
}

// A fence member joins on `node`; once every watcher has heard of it, any duplicate member event
// sent before it has arrived too (Redis publishes member events in one order to every node).
async function fence(node, channel, watchers, id = 'fence') {
  await presenceMember(node, channel, { user_id: id });
  for (const w of watchers) await w.added.take((m) => m.data.id === id, `member_added ${id}`);
  for (const w of watchers) {
    assert.deepEqual(w.added.pending(), [], 'no other member_added');
    assert.deepEqual(w.removed.pending(), [], 'no other member_removed');
  }
}

describe('node leases: a node killed with kill -9', () => {
  let c;
  after(() => c?.stop());

  it('is cleaned up by one other node: its members removed once, within the bound, its keys gone', async () => {
    c = await cluster();
    const { redis, nodes: [a, b, dead] } = c;
    const channel = 'presence-kill';
    const lone = 'presence-kill-lone';
    const watchA = await presenceMember(a, channel, { user_id: 'watch-a' });
    const watchB = await presenceMember(b, channel, { user_id: 'watch-b' });
    await presenceMember(dead, channel, { user_id: 'solo', user_info: { n: 1 } });
    await presenceMember(dead, channel, { user_id: 'solo', user_info: { n: 1 } }); // two connections
    await presenceMember(dead, channel, { user_id: 'both' });
    await presenceMember(a, channel, { user_id: 'both' }); // also on a surviving node
    await presenceMember(dead, lone, { user_id: 'other' });
    await rostersAre([watchA, watchB], ['watch-a', 'watch-b', 'solo', 'both'], 'every member known');
    await drained([watchA, watchB]);
    const p = presenceKey(a, channel);
    const q = presenceKey(a, lone);
    const occupancy = (ch) => `raptor:occupancy:${a.app.id}:${ch}`;
    assert.deepEqual(sorted(await redis.command('SMEMBERS', 'raptor:node:node-c:held')),
      sorted([p, q, occupancy(channel), occupancy(lone)]));
    assert.deepEqual(sorted(await redis.command('ZRANGE', 'raptor:nodes', 0, -1)), ['node-a', 'node-b', 'node-c']);

    const killed = Date.now();
    dead.kill('SIGKILL');
    await dead.exited;
    await watchA.removed.take((m) => m.data.id === 'solo', 'member_removed solo on node a', BOUND_MS);
    const took = Date.now() - killed;
    await watchB.removed.take((m) => m.data.id === 'solo', 'member_removed solo on node b', BOUND_MS);
    console.log(`# kill -9 to member_removed on another node: ${took} ms (node timeout 5 s)`);
    await fence(b, channel, [watchA, watchB]);
    await rostersAre([watchA, watchB], ['watch-a', 'watch-b', 'both', 'fence'], 'the rosters without solo');

    // Nothing of node-c is left in Redis; "both" still counts node a.
    await waitFor(async () => (await redis.command('KEYS', '*node-c*')).length === 0, 'node-c\'s keys to go', BOUND_MS);
    assert.equal(await redis.command('ZSCORE', 'raptor:nodes', 'node-c'), null);
    assert.equal(await redis.command('ZSCORE', 'raptor:cleaning', 'node-c'), null);
    assert.deepEqual(sorted(await redis.command('HKEYS', p)), ['both', 'fence', 'watch-a', 'watch-b']);
    assert.equal(await redis.command('HGET', p, 'both'), '1');
    assert.equal(await redis.command('HEXISTS', `${p}:info`, 'solo'), 0);
    assert.equal(await redis.command('EXISTS', q, `${q}:info`, `${q}:version`), 0, 'the lone channel is gone');
    const app = a.app.id;
    assert.deepEqual(await redis.command('HKEYS', occupancy(channel)), ['node-a', 'node-b']);
    assert.equal(await redis.command('EXISTS', occupancy(lone)), 0);
    assert.deepEqual(await redis.command('SMEMBERS', `raptor:channels:${app}`), [channel]);
    // Its departures are recorded for the sweeper, which takes them once due (cluster-webhooks
    // has the webhooks they become).
    const departures = [`m\n${app}\n${channel}\nsolo`, `m\n${app}\n${lone}\nother`, `v\n${app}\n${lone}`];
    for (const d of await redis.command('ZRANGE', 'raptor:departures', 0, -1)) assert.ok(departures.includes(d), d);
    await waitFor(async () => (await redis.command('ZCARD', 'raptor:departures')) === 0, 'the departures swept', BOUND_MS);

    // Both survivors raced for it: exactly one claimed it and removed its two departing members.
    const cleaned = await Promise.all([a, b].map(async (n) => (await health(n)).cluster));
    assert.equal(cleaned[0].dead_nodes_cleaned + cleaned[1].dead_nodes_cleaned, 1);
    assert.equal(cleaned[0].dead_members_removed + cleaned[1].dead_members_removed, 2);
    const cleaner = cleaned[0].dead_nodes_cleaned ? a : b;
    await waitFor(() => /node node-c did not renew its lease for 5 s: cleaned up its state \(2 members removed/.test(cleaner.stderr),
      'the clean-up in the cleaner\'s log');

    // A node started again under the dead node's id serves as a new one.
    const again = clusterNode(redis, 'node-c');
    c.nodes.push(again);
    await again.start();
    await clusterState(again, 'up');
    await waitFor(async () => (await redis.command('ZSCORE', 'raptor:nodes', 'node-c')) !== null, 'node-c\'s new lease');
  });

  it('the survivors stop cleanly', () => assertStopsCleanly(c.nodes.filter((n, i) => i !== 2)));
});

// Seeds Redis with what a node `ghost` that died holding `count` members of `p` would have
// left (its lease expiring in 8 s), and two occupancy keys as the occupancy scripts keep them:
// one channel only the ghost occupied, one shared with node-a.
async function seedGhost(redis, app, p, count) {
  await redis.command('EVAL', `
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + 8000, 'ghost')
    redis.call('SADD', KEYS[2], KEYS[3], KEYS[5], KEYS[6])
    for i = 1, tonumber(ARGV[1]) do
      local user = 'ghost-' .. i
      redis.call('HSET', KEYS[3] .. ':node:ghost', user, 1)
      redis.call('HSET', KEYS[3], user, 1)
      redis.call('HSET', KEYS[3] .. ':info', user, '{}')
    end
    redis.call('HSET', KEYS[5], 'ghost', 2)
    redis.call('HSET', KEYS[6], 'ghost', 1, 'node-a', 1)
    redis.call('SADD', KEYS[4], 'lonely', 'shared')
    return 1`, 6, 'raptor:nodes', 'raptor:node:ghost:held', p, `raptor:channels:${app}`,
  `raptor:occupancy:${app}:lonely`, `raptor:occupancy:${app}:shared`, count);
}

// A node whose app takes the ghost's 1,200 members (max_presence_members is 100 by default, and
// the cluster holds it across the nodes).
const crowdConfig = configFile('leases-crowd.rb',
  `app "${DEFAULT_APP.id}", key: "${DEFAULT_APP.key}", secret: "${DEFAULT_APP.secret}", max_presence_members: 2000\n`);
function crowdNode(redis, nodeId) {
  const node = new Raptor({ configVia: 'defaults',
                            args: ['--config', crowdConfig, '--redis', redis.url, '--node-id', nodeId, '--workers', '2'] });
  node.nodeId = nodeId;
  return node;
}

describe('node leases: a dead node holding many members', () => {
  it('is cleaned up in bounded script calls, each member removed once, its occupancy undone', () => withCluster(async (c) => {
    const { redis, nodes: [a, b] } = c;
    const app = a.app.id;
    const channel = 'presence-crowd';
    const p = presenceKey(a, channel);
    const count = 1200;
    await redis.command('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await redis.command('CONFIG', 'SET', 'slowlog-max-len', '100000');
    await seedGhost(redis, app, p, count);
    const watch = await presenceMember(b, channel, { user_id: 'watch' });
    assert.equal(watch.members.count, count + 1, 'the ghost\'s members in the roster');

    await waitFor(() => watch.removed.pending().length >= count, `${count} member_removed`, BOUND_MS);
    const removed = new Set(watch.removed.pending().map((m) => m.data.id));
    assert.equal(removed.size, count, 'each member removed once');
    await drained([watch]);
    await fence(a, channel, [watch]);
    assert.equal(watch.members.count, 2);
    assert.deepEqual(sorted(await redis.command('HKEYS', p)), ['fence', 'watch']);
    assert.equal(await redis.command('EXISTS', 'raptor:node:ghost:held', `${p}:node:ghost`), 0);

    // Occupancy: the ghost's field gone; the channel only it occupied vacated and unlisted.
    assert.equal(await redis.command('EXISTS', `raptor:occupancy:${app}:lonely`), 0);
    assert.deepEqual(await redis.command('HGETALL', `raptor:occupancy:${app}:shared`), ['node-a', '1']);
    assert.deepEqual(sorted(await redis.command('SMEMBERS', `raptor:channels:${app}`)), [channel, 'shared']);
    // Its departures recorded (each member's and the lonely channel's), taken by the sweeper once due.
    const departures = await redis.command('ZRANGE', 'raptor:departures', 0, -1);
    assert.ok(departures.length <= count + 1);
    for (const d of departures) assert.match(d, new RegExp(`^(m\n${app}\n${channel}\nghost-\\d+|v\n${app}\nlonely)$`));

    // In batches: several script calls, each short. The slow log has every command's duration.
    const cleaner = await waitFor(() => c.nodes.find((n) => /node ghost did not renew/.test(n.stderr)), 'the clean-up in a log');
    const [, calls] = cleaner.stderr.match(/node ghost did not renew its lease for 5 s: cleaned up its state \(1200 members removed, (\d+) script calls\)/);
    assert.ok(Number(calls) >= 12, `${calls} script calls for 1200 members`);
    const batches = (await redis.command('SLOWLOG', 'GET', '100000')).filter(([, , , args]) => ['EVAL', 'EVALSHA'].includes(args[0]) && args[8] === 'ghost');
    assert.ok(batches.length >= Number(calls), 'the calls in the slow log (and another node\'s that found it claimed)');
    for (const n of c.nodes) {
      const { dead_nodes_cleaned: cleaned, dead_members_removed: members } = (await health(n)).cluster;
      assert.deepEqual([cleaned, members], n === cleaner ? [1, count] : [0, 0], `what ${n.nodeId} cleaned up`);
    }
    const longest = Math.max(...batches.map(([, , micros]) => micros));
    console.log(`# clean-up of 1200 members: ${calls} script calls, the longest ${longest} µs in Redis`);
  }, crowdNode));
});

describe('node leases: a node restarted within its lease under the same id', () => {
  it('removes what its earlier run counted before it counts anew', () => withCluster(async (c) => {
    const { redis, nodes: [a, , node] } = c;
    const channel = 'presence-restart';
    const watch = await presenceMember(a, channel, { user_id: 'watch' });
    await presenceMember(node, channel, { user_id: 'gone' });
    await rostersAre([watch], ['watch', 'gone'], 'gone known');
    await drained([watch]);
    node.kill('SIGKILL');
    await node.exited;
    const again = clusterNode(redis, 'node-c'); // at once: the old lease is still valid
    c.nodes.push(again);
    await again.start();
    await watch.removed.take((m) => m.data.id === 'gone', 'member_removed gone', BOUND_MS);
    await waitFor(() => /cleaned up what an earlier run of node node-c left in Redis \(1 members removed\)/.test(again.stderr),
      'the clean-up in the log');
    await fence(again, channel, [watch]);
    assert.deepEqual(sorted(await redis.command('HKEYS', presenceKey(a, channel))), ['fence', 'watch']);
  }));
});

describe('node leases: Redis restarted empty', () => {
  it('gets every node\'s members back without anyone resubscribing', () => withCluster(async (c) => {
    const { redis, nodes: [a, b, n3] } = c;
    const channel = 'presence-amnesia';
    const watch = await presenceMember(a, channel, { user_id: 'watch' });
    const twiceOnC = [await presenceMember(n3, channel, { user_id: 'twice' }),
      await presenceMember(n3, channel, { user_id: 'twice' })];
    await presenceMember(b, channel, { user_id: 'both' });
    await presenceMember(n3, channel, { user_id: 'both' });
    const all = ['watch', 'twice', 'both'];
    await rostersAre([watch], all, 'every member known');
    const p = presenceKey(a, channel);

    await redis.kill();
    await redis.start(redis.port);
    assert.deepEqual(await redis.command('KEYS', '*'), [], 'Redis came back empty');
    await Promise.all(c.nodes.map((n) => clusterState(n, 'up')));
    await waitFor(async () => JSON.stringify(sorted(await redis.command('HKEYS', p))) === JSON.stringify(sorted(all)),
      'the members to be back in Redis', BOUND_MS);
    await waitFor(async () => (await redis.command('HGET', p, 'both')) === '2', 'both counted on two nodes', BOUND_MS);
    await waitFor(async () => (await redis.command('HGET', `${p}:node:node-c`, 'twice')) === '2',
      'twice counted twice on node-c', BOUND_MS);
    assert.deepEqual(sorted(await redis.command('ZRANGE', 'raptor:nodes', 0, -1)), ['node-a', 'node-b', 'node-c']);
    for (const n of c.nodes) assert.ok((await health(n)).cluster.lease_renewals >= 2, `${n.nodeId} renewed its lease`);
    // Occupancy too: each node's count of the channel's subscriptions, listed in what it holds.
    const occupancy = `raptor:occupancy:${a.app.id}:${channel}`;
    const counts = async () => {
      const flat = await redis.command('HGETALL', occupancy);
      return JSON.stringify(Object.fromEntries(sorted(flat.map((v, i) => (i % 2 ? null : [v, flat[i + 1]])).filter(Boolean))));
    };
    const expected = JSON.stringify({ 'node-a': '1', 'node-b': '1', 'node-c': '3' });
    await waitFor(async () => (await counts()) === expected, 'the occupancy counts back in Redis', BOUND_MS);
    assert.deepEqual(await redis.command('SMEMBERS', `raptor:channels:${a.app.id}`), [channel]);
    assert.deepEqual(sorted(await redis.command('SMEMBERS', 'raptor:node:node-c:held')), sorted([p, occupancy]));

    // The roster of a newcomer is whole, and the counts are right: "twice" leaves with its last connection.
    const newcomer = await presenceMember(b, channel, { user_id: 'new' });
    assert.deepEqual(newcomer.ids, sorted([...all, 'new']));
    await rostersAre([watch, newcomer], [...all, 'new'], 'the rosters');
    await drained([newcomer]);
    twiceOnC[0].pusher.disconnect();
    await fence(b, channel, [newcomer], 'fence-1');
    twiceOnC[1].pusher.disconnect();
    await newcomer.removed.take((m) => m.data.id === 'twice', 'member_removed twice');
    await fence(b, channel, [newcomer], 'fence-2');
    await waitFor(async () => !(await redis.command('HKEYS', p)).includes('twice'), 'twice gone from Redis');
  }));
});

describe('node leases: a node stalled beyond its lease (SIGSTOP)', () => {
  it('is cleaned up, and once resumed re-asserts its members, once', () => withCluster(async (c) => {
    const { redis, nodes: [a, b, stalled] } = c;
    const channel = 'presence-stall';
    const watchA = await presenceMember(a, channel, { user_id: 'watch-a' });
    const watchB = await presenceMember(b, channel, { user_id: 'watch-b' });
    const sleeper = await presenceMember(stalled, channel, { user_id: 'sleeper' });
    await presenceMember(stalled, channel, { user_id: 'both' });
    await presenceMember(a, channel, { user_id: 'both' });
    const all = ['watch-a', 'watch-b', 'sleeper', 'both'];
    await rostersAre([watchA, watchB], all, 'every member known');
    await drained([watchA, watchB]);

    stalled.child.kill('SIGSTOP');
    try {
      for (const w of [watchA, watchB])
        await w.removed.take((m) => m.data.id === 'sleeper', 'member_removed sleeper', BOUND_MS);
    } finally {
      stalled.child.kill('SIGCONT');
    }
    for (const w of [watchA, watchB])
      await w.added.take((m) => m.data.id === 'sleeper', 'member_added sleeper once resumed', BOUND_MS);
    await fence(b, channel, [watchA, watchB]);
    await rostersAre([watchA, watchB, sleeper], [...all, 'fence'], 'the rosters, the sleeper\'s own too');
    const p = presenceKey(a, channel);
    assert.deepEqual(sorted(await redis.command('HKEYS', p)), sorted([...all, 'fence']));
    // 'both' never left the cluster (node-a holds it too), so no event tells when node-c's worker
    // holding it has re-asserted it; each worker re-asserts on its own.
    await waitFor(async () => (await redis.command('HGET', p, 'both')) === '2', 'node-c to count both again', BOUND_MS);
    assert.match(stalled.stderr, /node node-c found its lease gone from Redis .*; re-asserting its state/);
    assert.ok((await health(stalled)).cluster.lease_renewals >= 2);
    await assertStopsCleanly(c.nodes);
  }));
});

describe('node leases: settings', () => {
  const refused = [
    ['--node-timeout 1', ['--node-timeout', '1'], {}],
    ['--node-timeout 3601', ['--node-timeout', '3601'], {}],
    ['RAPTOR_NODE_TIMEOUT=5s', [], { RAPTOR_NODE_TIMEOUT: '5s' }],
  ];
  for (const [what, args, env] of refused) {
    it(`exits 2 with the reason for ${what}`, async () => {
      const { code, stderr } = await runRaptor(['--redis', 'redis://127.0.0.1:1', ...args], env);
      assert.equal(code, 2);
      assert.match(stderr, /node timeout is a whole number of seconds from 2 to 3600/);
    });
  }

  it('raptor.rb: `redis ..., node_timeout:` is checked at its line', async () => {
    const low = configFile('leases-low.rb', 'redis "redis://127.0.0.1", node_timeout: 1\n');
    let r = await runRaptor(['check', low]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /:1: redis: the node timeout is a whole number of seconds from 2 to 3600/);
    const text = configFile('leases-text.rb', '\nredis "redis://127.0.0.1", node_timeout: "5"\n');
    r = await runRaptor(['check', text]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /:2: redis: node_timeout must be an Integer \(seconds\), not "5"/);
  });

  it('/health shows the node timeout given by flag or by raptor.rb', async () => {
    const redis = new RedisServer();
    await redis.start();
    const file = configFile('leases.rb', `redis "${redis.url}", node_id: "ruby", node_timeout: 9\n`);
    const nodes = [clusterNode(redis, 'flag', ['--node-timeout', '7'])];
    nodes.push(new Raptor({ args: ['--config', file, '--workers', '1'] }));
    try {
      await Promise.all(nodes.map((n) => n.start()));
      assert.equal((await health(nodes[0])).cluster.node_timeout, 7);
      assert.equal((await health(nodes[1])).cluster.node_timeout, 9);
      await waitFor(async () => (await redis.command('ZCARD', 'raptor:nodes')) === 2, 'both leases');
      const [, flagExpiry] = await redis.command('ZRANGE', 'raptor:nodes', 0, 0, 'WITHSCORES');
      const [seconds] = await redis.command('TIME');
      assert.ok(Number(flagExpiry) > Number(seconds) * 1000, 'the lease expires in the future');
    } finally {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      await redis.stop();
    }
  });
});
