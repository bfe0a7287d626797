// Presence across three raptor nodes (two workers each) sharing one real redis-server: a user
// connected to several nodes is one member; member_added / member_removed are decided in Redis
// and reach every member once, wherever it is; a new member's roster is the cluster's; Redis
// keeps nothing once everyone has left; a node without Redis keeps presence to itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presenceMember } from './lib/clients.mjs';
import { applyMemberEvents, assertStopsCleanly, clusterNode, clusterState, fence, rawMember, threeNodes } from './lib/cluster.mjs';
import { freePort } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';

async function presenceKeys(redis) {
  return (await redis.command('KEYS', 'raptor:presence:*')).sort();
}

describe('cluster presence: three nodes through one Redis', () => {
  const { redis, nodes } = threeNodes();

  it('counts a user on two nodes as one member, for pusher-js members on every node', async () => {
    const channel = 'presence-two-nodes';
    const watcher = await presenceMember(nodes[0], channel, { user_id: 'w', user_info: { name: 'W' } });
    assert.deepEqual(watcher.ids, ['w']);
    const first = await presenceMember(nodes[1], channel, { user_id: 'u', user_info: { name: 'U' } });
    assert.deepEqual(first.ids, ['u', 'w'], 'the roster holds the member on another node');
    assert.deepEqual((await watcher.added.take(undefined, 'member_added u')).data, { id: 'u', info: { name: 'U' } });
    const second = await presenceMember(nodes[2], channel, { user_id: 'u', user_info: { name: 'U' } });
    assert.deepEqual(second.ids, ['u', 'w']);
    assert.equal(second.members.count, 2);
    const newcomer = await presenceMember(nodes[2], channel, { user_id: 'n' });
    assert.deepEqual(newcomer.ids, ['n', 'u', 'w'], 'the cluster-wide roster');
    assert.equal((await watcher.added.take(undefined, 'member_added n')).data.id, 'n');
    assert.equal((await first.added.take(undefined, 'member_added n on node b')).data.id, 'n');

    first.pusher.disconnect(); // u is still on node c
    second.pusher.disconnect(); // u's last connection
    assert.equal((await watcher.removed.take(undefined, 'member_removed u')).data.id, 'u');
    assert.equal((await newcomer.removed.take(undefined, 'member_removed u on node c')).data.id, 'u');
    // A later change, heard after anything sent before it: no second member_added or removed of u.
    const late = await presenceMember(nodes[1], channel, { user_id: 'late' });
    assert.deepEqual(late.ids, ['late', 'n', 'w']);
    assert.equal((await watcher.added.take(undefined, 'member_added late')).data.id, 'late');
    assert.deepEqual(watcher.added.pending(), []);
    assert.deepEqual(watcher.removed.pending(), []);
    assert.equal(watcher.members.count, 3);
  });

  it('keeps the member count per node in Redis, and nothing once everyone has left', async () => {
    const channel = 'presence-keys';
    const a = await rawMember(nodes[0], channel, { user_id: 'k', user_info: { n: 1 } });
    const b = await rawMember(nodes[1], channel, { user_id: 'k', user_info: { n: 1 } });
    const c = await rawMember(nodes[1], channel, { user_id: 'k', user_info: { n: 1 } });
    const p = `raptor:presence:${nodes[0].app.id}:${channel}`;
    assert.deepEqual(await redis.command('HGETALL', p), ['k', '2'], 'k has connections on two nodes');
    assert.deepEqual(await redis.command('HGETALL', `${p}:node:node-b`), ['k', '2'], 'two on node b');
    assert.deepEqual(await redis.command('HGETALL', `${p}:info`), ['k', '{"n":1}']);
    // Numbered from Redis's clock in µs, so that numbers never go back when Redis restarts empty.
    const [seconds] = await redis.command('TIME');
    assert.ok(Number(await redis.command('GET', `${p}:version`)) > Number(seconds) * 1e6 - 60e6, 'a number from the clock');
    await Promise.all([a.close(), b.close(), c.close()]);
    await waitFor(async () => (await presenceKeys(redis)).length === 0, 'the presence keys to go');
  });

  it('gives every member, joining and leaving on all nodes at once, each change once', async () => {
    const channel = 'presence-churn';
    const watchers = await Promise.all(nodes.map((node, n) => rawMember(node, channel, { user_id: `watcher-${n}` })));
    // Twelve users join at once on alternating nodes (some twice); then half of them leave.
    const joiners = await Promise.all(Array.from({ length: 18 }, (_, i) =>
      rawMember(nodes[i % 3], channel, { user_id: `user-${i % 12}` })));
    const leaving = joiners.filter((_, i) => i % 12 < 6);
    await Promise.all(leaving.map((c) => c.close()));
    const stay = [...watchers, ...joiners.filter((_, i) => i % 12 >= 6)];
    await fence(nodes[1], channel, stay, 'fence');
    const expected = ['watcher-0', 'watcher-1', 'watcher-2', ...Array.from({ length: 6 }, (_, i) => `user-${i + 6}`)].sort();
    for (const client of stay) {
      const known = applyMemberEvents(client, new Set(client.presence.ids));
      assert.deepEqual([...known].sort(), expected, `what ${client.socketId} knows`);
    }
  });

  it('removes, once Redis answers again, a member that left while it did not', async () => {
    const channel = 'presence-outage';
    const p = `raptor:presence:${nodes[0].app.id}:${channel}`;
    await rawMember(nodes[0], channel, { user_id: 'stays' });
    const leaver = await rawMember(nodes[1], channel, { user_id: 'gone' });
    redis.child.kill('SIGSTOP');
    try {
      await clusterState(nodes[1], 'down');
      await leaver.close();
    } finally {
      redis.child.kill('SIGCONT');
    }
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await waitFor(async () => !(await redis.command('HKEYS', p)).includes('gone'), 'the leave to reach Redis');
    const newcomer = await rawMember(nodes[2], channel, { user_id: 'new' });
    assert.deepEqual([...newcomer.presence.ids].sort(), ['new', 'stays']);
  });

  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});

describe('cluster presence: a node whose Redis is unreachable', () => {
  it('keeps presence to the node, with its own roster and member events', async () => {
    const nowhere = new RedisServer();
    nowhere.port = await freePort(); // nothing listens there
    const node = clusterNode(nowhere, 'lonely');
    await node.start();
    try {
      const watcher = await rawMember(node, 'presence-alone', { user_id: 'w' });
      const other = await rawMember(node, 'presence-alone', { user_id: 'o' });
      assert.deepEqual([...other.presence.ids].sort(), ['o', 'w']);
      assert.equal((await watcher.next('pusher_internal:member_added')).payload.user_id, 'o');
      await other.close();
      assert.equal((await watcher.next('pusher_internal:member_removed')).payload.user_id, 'o');
      await node.closeClients();
      assert.deepEqual(node.problems(await node.stop()), []);
    } finally {
      await node.stop().catch(() => {});
    }
  });
});
