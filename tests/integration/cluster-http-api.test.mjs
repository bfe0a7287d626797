// The HTTP API's channel reads across three raptor nodes (two workers each) sharing one real
// redis-server (docs/cluster.md#http-api-answers): GET /apps/{id}/channels, …/channels/{name},
// …/channels/{name}/users and GET /channels/… give the cluster's answer, the same from every node,
// through the `pusher` SDK's get(); subscription_count events and webhooks carry the cluster's
// count; a client that leaves while its GET waits for a stalled Redis costs nothing; with Redis
// unreachable or too slow a node answers from its own view and says so (X-Raptor-Scope: node).
//
// Presence channels are tested end to end with pusher-js members on the three nodes (the presence
// script keeps the members in Redis). Occupancy of other channels is written by the occupancy
// script of another part of issue 7; until it is here, these tests SEED the occupancy keys and the
// channel set with real Redis commands (under fake node ids no node has), as that script would,
// and read the sums back from Redis rather than assume what any node wrote.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { presenceMember, pusherClient, serverSdk, subscribed, inboxOf } from './lib/clients.mjs';
import { assertStopsCleanly, threeNodes } from './lib/cluster.mjs';
import { assertApiError, signedRequest } from './lib/http-api.mjs';
import { signedQuery } from './lib/signature.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';

const PREFIX = 'raptor:';
const APP_ID = 'app-id'; // the harness's default app
const occupancyKey = (channel) => `${PREFIX}occupancy:${APP_ID}:${channel}`;
const channelsKey = `${PREFIX}channels:${APP_ID}`;

// A GET through the SDK, as an app server makes it: the parsed body and the scope header.
async function sdkGet(node, path, params = {}) {
  const res = await serverSdk(node).get({ path, params });
  return { json: await res.json(), scope: res.headers.get('x-raptor-scope'), truncated: res.headers.get('x-raptor-truncated') };
}

// The same GET on every node: asserts one answer from all, from the cluster; returns it.
async function sameFromEveryNode(nodes, path, params = {}) {
  const answers = await Promise.all(nodes.map((n) => sdkGet(n, path, params)));
  for (const [i, a] of answers.entries()) {
    assert.equal(a.scope, 'cluster', `node ${nodes[i].nodeId} answered from Redis`);
    assert.deepEqual(a.json, answers[0].json, `node ${nodes[i].nodeId} gives node ${nodes[0].nodeId}'s answer`);
  }
  return answers[0].json;
}

// Seeds a channel's occupancy as the occupancy script keeps it: node id -> subscriptions.
async function seedOccupancy(redis, channel, perNode) {
  await redis.command('HSET', occupancyKey(channel), ...Object.entries(perNode).flat().map(String));
  await redis.command('SADD', channelsKey, channel);
}

async function unseed(redis, channels) {
  for (const c of channels) await redis.command('DEL', occupancyKey(c));
  await redis.command('SREM', channelsKey, ...channels);
}

async function sumInRedis(redis, channel) {
  const values = await redis.command('HVALS', occupancyKey(channel));
  return values.reduce((n, v) => n + Number(v), 0);
}

// A signed GET whose client goes away after `ms` without reading any answer.
function abandonedGet(node, path, ms) {
  const query = new URLSearchParams(signedQuery(node.app, 'GET', path)).toString();
  return new Promise((resolve) => {
    const req = http.get(node.url(`${path}?${query}`), { agent: false });
    req.on('error', () => {});
    req.on('response', () => resolve('answered'));
    setTimeout(() => { req.destroy(); resolve('abandoned'); }, ms);
  });
}

// Receives the subscription_count webhooks of the second describe's nodes.
const counts = await new WebhookReceiver({ id: APP_ID, key: 'app-key', secret: 'app-secret' }).start();
after(() => counts.stop());

describe('cluster HTTP API: three nodes through one Redis', () => {
  const { redis, nodes } = threeNodes();

  it('answers users, user_count and occupancy of a presence channel from every node alike', async () => {
    const channel = 'presence-api-room';
    await presenceMember(nodes[0], channel, { user_id: 'ann' });
    await presenceMember(nodes[1], channel, { user_id: 'bob' });
    await presenceMember(nodes[2], channel, { user_id: 'cid' });
    const last = await presenceMember(nodes[2], channel, { user_id: 'ann' }); // ann twice: one user
    assert.deepEqual(last.ids, ['ann', 'bob', 'cid']);

    const users = await sameFromEveryNode(nodes, `/channels/${channel}/users`);
    assert.deepEqual(users, { users: [{ id: 'ann' }, { id: 'bob' }, { id: 'cid' }] });
    const one = await sameFromEveryNode(nodes, `/channels/${channel}`, { info: 'user_count' });
    assert.deepEqual(one, { occupied: true, user_count: 3 });

    // URL resources: the same reads by address.
    for (const node of nodes) {
      const members = await signedRequest(node, { path: '/channels/presence/api-room/members' });
      assert.equal(members.headers['x-raptor-scope'], 'cluster');
      assert.deepEqual(members.json, users);
      const counts = await signedRequest(node, { path: '/channels/presence/api-room' });
      assert.equal(counts.json.user_count, 3);
      assert.equal(counts.json.occupied, true);
    }

    // The list, with user_count (the channel set is seeded until the occupancy script keeps it).
    await redis.command('SADD', channelsKey, channel);
    const listed = await sameFromEveryNode(nodes, '/channels', { filter_by_prefix: 'presence-api-', info: 'user_count' });
    assert.deepEqual(listed, { channels: { [channel]: { user_count: 3 } } });
    await redis.command('SREM', channelsKey, channel);

    last.pusher.disconnect(); // ann is still on node a
    await waitFor(async () => (await sdkGet(nodes[1], `/channels/${channel}`, { info: 'user_count' })).json.user_count === 3,
      'ann still counted');
    const bobs = await sdkGet(nodes[0], `/channels/${channel}/users`);
    assert.deepEqual(bobs.json.users.map((u) => u.id), ['ann', 'bob', 'cid']);
  });

  it('lists the occupied channels with their summed counts, filtered by prefix, from every node', async () => {
    // SEEDED: the occupancy script's keys for three channels on fake nodes.
    const seeded = ['api-list-a', 'api-list-b', 'other-list'];
    await seedOccupancy(redis, 'api-list-a', { 'fake-1': 2, 'fake-2': 3 });
    await seedOccupancy(redis, 'api-list-b', { 'fake-1': 1 });
    await seedOccupancy(redis, 'other-list', { 'fake-3': 4 });
    try {
      const a = await sumInRedis(redis, 'api-list-a');
      const b = await sumInRedis(redis, 'api-list-b');
      assert.deepEqual(await sameFromEveryNode(nodes, '/channels', { filter_by_prefix: 'api-list-' }),
        { channels: { 'api-list-a': {}, 'api-list-b': {} } });
      assert.deepEqual(await sameFromEveryNode(nodes, '/channels', { filter_by_prefix: 'api-list-', info: 'subscription_count' }),
        { channels: { 'api-list-a': { subscription_count: a }, 'api-list-b': { subscription_count: b } } });
      const all = await sameFromEveryNode(nodes, '/channels');
      for (const c of seeded) assert.ok(c in all.channels, `${c} listed without a prefix`);
      assert.deepEqual(await sameFromEveryNode(nodes, '/channels/api-list-a', { info: 'subscription_count' }),
        { occupied: true, subscription_count: 5 });
      assert.deepEqual(await sameFromEveryNode(nodes, '/channels/api-list-nobody', { info: 'subscription_count' }),
        { occupied: false, subscription_count: 0 });
      for (const node of nodes) {
        const res = await signedRequest(node, { path: '/channels/public/api-list-b' });
        assert.deepEqual(res.json, { occupied: true, subscription_count: 1 });
      }
    } finally {
      await unseed(redis, seeded);
    }
  });

  it('cuts a list with counts at 1,000 channels and says so', async () => {
    // SEEDED: 1,001 occupied channels, in one script call.
    const seed = "for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1] .. i, 'fake-1', 1); redis.call('SADD', KEYS[2], ARGV[2] .. i) end";
    await redis.command('EVAL', seed, '2', occupancyKey('cut-'), channelsKey, '1001', 'cut-');
    const seeded = Array.from({ length: 1001 }, (_, i) => `cut-${i + 1}`);
    try {
      const counted = await sdkGet(nodes[0], '/channels', { filter_by_prefix: 'cut-', info: 'subscription_count' });
      assert.equal(counted.truncated, 'true');
      assert.equal(Object.keys(counted.json.channels).length, 1000);
      assert.ok(Object.values(counted.json.channels).every((c) => c.subscription_count === 1));
      const names = await sdkGet(nodes[1], '/channels', { filter_by_prefix: 'cut-' });
      assert.equal(names.truncated, null, 'names alone: up to 10,000');
      assert.deepEqual(Object.keys(names.json.channels).sort(), seeded.sort());
    } finally {
      await unseed(redis, seeded);
    }
  });

  it('reads by EVALSHA, and still from Redis once Redis has forgotten its scripts (SCRIPT FLUSH)', async () => {
    // SEEDED: one channel's occupancy on fake nodes; a real presence member for the users read.
    await seedOccupancy(redis, 'api-flushed', { 'fake-1': 2, 'fake-2': 4 });
    const member = await presenceMember(nodes[1], 'presence-api-flushed', { user_id: 'zed' });
    try {
      const reads = async () => {
        assert.deepEqual(await sameFromEveryNode(nodes, '/channels/api-flushed', { info: 'subscription_count' }),
          { occupied: true, subscription_count: 6 });
        assert.deepEqual(await sameFromEveryNode(nodes, '/channels', { filter_by_prefix: 'api-flushed', info: 'subscription_count' }),
          { channels: { 'api-flushed': { subscription_count: 6 } } });
        assert.deepEqual(await sameFromEveryNode(nodes, '/channels/presence-api-flushed/users'), { users: [{ id: 'zed' }] });
      };
      // Loaded by SCRIPT LOAD on each command connection: the reads go by EVALSHA, none by EVAL.
      await redis.command('CONFIG', 'RESETSTAT');
      await reads();
      const loaded = await redis.command('INFO', 'commandstats');
      assert.match(loaded, /cmdstat_evalsha:calls=[1-9]/, 'the reads went by EVALSHA');
      assert.doesNotMatch(loaded, /cmdstat_eval:/, 'no script went by EVAL');
      // Redis forgets every script: the next EVALSHA of each worker meets NOSCRIPT and goes again
      // by EVAL; the answers still come from Redis (scope cluster), with the same counts.
      await redis.command('SCRIPT', 'FLUSH');
      await reads();
      assert.match(await redis.command('INFO', 'commandstats'), /cmdstat_eval:calls=[1-9]/, 'sent again by EVAL');
    } finally {
      member.pusher.disconnect();
      await unseed(redis, ['api-flushed']);
    }
  });

  it('still answers bad query parameters with the usual 400 JSON errors', async () => {
    const base = `/apps/${APP_ID}`;
    for (const node of nodes) {
      assertApiError(await signedRequest(node, { path: `${base}/channels`, params: { info: 'user_count' } }), 400);
      assertApiError(await signedRequest(node, { path: `${base}/channels`, params: { info: 'user_count', filter_by_prefix: 'private-' } }), 400);
      assertApiError(await signedRequest(node, { path: `${base}/channels/room`, params: { info: 'user_count' } }), 400);
      assertApiError(await signedRequest(node, { path: `${base}/channels/room`, params: { info: 'cache' } }), 400);
      assertApiError(await signedRequest(node, { path: `${base}/channels/room/users` }), 400);
      assertApiError(await signedRequest(node, { path: `${base}/channels/bad!name` }), 400);
      assertApiError(await signedRequest(node, { path: '/channels/public/private-x' }), 400);
      const unsigned = await signedRequest(node, { path: `${base}/channels`, tamper: (q) => ({ ...q, auth_signature: 'x' }) });
      assertApiError(unsigned, 401);
      assert.equal(unsigned.headers['x-raptor-scope'], undefined, 'refused before any read');
    }
  });

  it('answers from the node, saying so, when Redis stalls; a client gone meanwhile costs nothing', async () => {
    const pusher = await pusherClient(nodes[0]);
    await subscribed(pusher, 'stall-local');
    redis.child.kill('SIGSTOP');
    let waited;
    try {
      // Clients that give up while their GET waits for Redis, on every node, and one that waits.
      const gone = nodes.flatMap((n) => [0, 1, 2].map(() => abandonedGet(n, `/apps/${APP_ID}/channels`, 300)));
      assert.deepEqual(new Set(await Promise.all(gone)), new Set(['abandoned']), 'no answer while Redis is stopped');
      waited = await sdkGet(nodes[0], '/channels/stall-local', { info: 'subscription_count' });
    } finally {
      redis.child.kill('SIGCONT');
    }
    assert.equal(waited.scope, 'node');
    assert.deepEqual(waited.json, { occupied: true, subscription_count: 1 }, "the node's own view");
    // Every node goes on serving, from Redis again once it answers.
    await Promise.all(nodes.map((n) => waitFor(async () => (await sdkGet(n, '/channels')).scope === 'cluster',
      `${n.nodeId} answering from Redis again`, 20000)));
    for (const n of nodes) assert.equal((await sdkGet(n, '/channels/presence-x/users')).json.users.length, 0);
  });

  it('answers from the node, saying so, while Redis is down', async () => {
    const pusher = await pusherClient(nodes[1]);
    await subscribed(pusher, 'down-local');
    await redis.kill();
    const answer = await sdkGet(nodes[1], '/channels', { filter_by_prefix: 'down-', info: 'subscription_count' });
    assert.equal(answer.scope, 'node');
    assert.deepEqual(answer.json, { channels: { 'down-local': { subscription_count: 1 } } }, "the node's own view");
    const elsewhere = await sdkGet(nodes[2], '/channels/down-local', { info: 'subscription_count' });
    assert.equal(elsewhere.scope, 'node');
    assert.deepEqual(elsewhere.json, { occupied: false, subscription_count: 0 }, 'node c holds no subscriber of it');
    await redis.start(redis.port);
  });

  // After the abandoned GETs above: a sanitizer build reports any leak or bad access here.
  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});

describe('cluster subscription counts: three nodes through one Redis', () => {
  const { redis, nodes } = threeNodes(['--subscription-count', '--webhook', `${counts.url};events=subscription_count`]);

  it('sends pusher-js subscribers on every node, and the webhook, the count summed in Redis', async () => {
    // SEEDED: subscriptions of a fake node (7, then 20, then 30), far above what any node holds
    // (at most 3 here), so a count at or above the seed is the sum Redis made; the nodes' own
    // share, once the occupancy script writes it, only adds to it.
    await seedOccupancy(redis, 'counted.room', { 'fake-node': 7 });
    try {
      // A wildcard subscriber of the channel gets its events, never its counts (as on one node).
      const watcher = await RawClient.connect(nodes[1]);
      await watcher.subscribe('counted.*');
      const first = await pusherClient(nodes[0]);
      const channel = first.subscribe('counted.room');
      const seen = inboxOf((cb) => channel.bind('pusher:subscription_count', cb));
      const firstCount = (await seen.take(undefined, 'the first count')).data.subscription_count;
      assert.ok(firstCount >= 7, `the cluster's count (${firstCount}), not node a's 1`);
      // Subscribers on the other nodes: each change reaches every node with Redis's sum.
      const others = [];
      for (const node of nodes.slice(1)) {
        const p = await pusherClient(node);
        const ch = p.subscribe('counted.room');
        others.push(inboxOf((cb) => ch.bind('pusher:subscription_count', cb)));
        await seen.take(({ data }) => data.subscription_count >= 7, `a count from ${node.nodeId}'s change on node a`);
      }
      const atLeast = (n) => ({ data }) => data.subscription_count >= n;
      await redis.command('HSET', occupancyKey('counted.room'), 'fake-node', '20');
      const p = await pusherClient(nodes[2]);
      await subscribed(p, 'counted.room');
      for (const inbox of [seen, ...others]) await inbox.take(atLeast(20), 'the count after the seed of 20, everywhere');
      await counts.events.take((e) => e.name === 'subscription_count' && e.channel === 'counted.room' &&
        e.subscription_count >= 20, 'the subscription_count webhook with the sum', 20000);
      // Node a's only subscriber leaves: the subscribers on b and c still get the cluster's count.
      await redis.command('HSET', occupancyKey('counted.room'), 'fake-node', '30');
      first.disconnect();
      for (const inbox of others) await inbox.take(atLeast(30), "the count after node a's last subscriber left");
      await serverSdk(nodes[2]).trigger('counted.room', 'fence', {});
      await watcher.next('fence', 'counted.*');
      assert.deepEqual(watcher.frames.pending((f) => /count/.test(f.event)), [], 'no count reached the pattern');
    } finally {
      await unseed(redis, ['counted.room']);
    }
  });

  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});
