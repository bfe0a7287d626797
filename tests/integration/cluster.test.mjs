// Three raptor nodes (two workers each) sharing one real redis-server: events published on any
// node (HTTP API through the `pusher` SDK, client events from pusher-js, user events) reach the
// recipients on every node exactly once and in the order each publisher sent them; socket_id
// exclusion holds across nodes; a node subscribes in Redis only to channels it has subscribers
// for; a Redis restart costs the cross-node traffic of the outage and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import {
  RECONNECT_MS, assertStopsCleanly, clusterNode, clusterState, fenceThenNothingElse, health, publisher, subscribersOn, threeNodes,
} from './lib/cluster.mjs';
import { request } from './lib/http-api.mjs';
import { assertClosedWith } from './lib/refusals.mjs';
import { configFile } from './lib/config-files.mjs';
import { Raptor, freePort, runRaptor } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

describe('cluster: three nodes through one Redis', () => {
  const { redis, nodes } = threeNodes();

  it('reports the node and its Redis in /health, to signed requests only', async () => {
    assert.deepEqual((await request(nodes[1], { path: '/health' })).json, { status: 'ok' });
    const h = await health(nodes[1]);
    assert.equal(h.status, 'ok');
    assert.equal(h.cluster.node, 'node-b');
    assert.equal(h.cluster.redis, 'up');
    assert.equal(h.cluster.workers, 2);
    assert.equal(h.cluster.workers_connected, 2);
  });

  it('delivers events published on one node to subscribers on every node, once each, in order', async () => {
    const subs = await subscribersOn(nodes, 'orders');
    const sdk = publisher(nodes[0]);
    for (let i = 0; i < 20; i++) await sdk.trigger('orders', 'e', { i });
    await sdk.triggerBatch(Array.from({ length: 5 }, (_, k) => ({ channel: 'orders', name: 'e', data: { i: 20 + k } })));
    for (const { inbox } of subs) {
      for (let i = 0; i < 25; i++) assert.equal((await inbox.take(undefined, `event ${i}`)).data.i, i);
    }
    await fenceThenNothingElse(nodes[1], 'orders', subs.map((s) => s.inbox));
  });

  it('keeps each publisher\'s order when several nodes publish to one channel at once', async () => {
    const subs = await subscribersOn(nodes, 'busy');
    await Promise.all(nodes.map(async (node, n) => {
      const sdk = publisher(node);
      for (let i = 0; i < 15; i++) await sdk.trigger('busy', 'e', { n, i });
    }));
    for (const { inbox } of subs) {
      const next = [0, 0, 0];
      for (let k = 0; k < 45; k++) {
        const { data } = await inbox.take(undefined, `event ${k} of 45`);
        assert.equal(data.i, next[data.n], `publisher ${data.n} in order`);
        next[data.n]++;
      }
    }
    await fenceThenNothingElse(nodes[2], 'busy', subs.map((s) => s.inbox));
  });

  it('leaves out the connection named by socket_id, on whichever node it is', async () => {
    const subs = await subscribersOn(nodes, 'except');
    const excluded = subs[1].pusher.connection.socket_id;
    const sdk = publisher(nodes[0]);
    await sdk.trigger('except', 'e', { n: 1 }, { socket_id: excluded });
    await sdk.trigger('except', 'e', { n: 2 });
    for (const [k, { inbox }] of subs.entries()) {
      if (k !== 1) assert.equal((await inbox.take()).data.n, 1);
      assert.equal((await inbox.take()).data.n, 2, 'the next event, with nothing before it for the excluded one');
    }
    await fenceThenNothingElse(nodes[2], 'except', subs.map((s) => s.inbox));
  });

  it('carries client events to the other nodes, not back to the sender', async () => {
    const subs = await subscribersOn(nodes, 'private-chat', ['client-typing', 'e']);
    subs[1].channel.trigger('client-typing', { who: 'b' });
    for (const k of [0, 2]) assert.deepEqual((await subs[k].inbox.take()).data, { who: 'b' });
    await fenceThenNothingElse(nodes[0], 'private-chat', subs.map((s) => s.inbox));
  });

  it('delivers sendToUser and terminateUserConnections to the user\'s connections on other nodes', async () => {
    const [onB, onC] = await Promise.all([RawClient.connect(nodes[1]), RawClient.connect(nodes[2])]);
    await Promise.all([onB.signin({ id: 'ann' }), onC.signin({ id: 'ann' })]);
    const bob = await RawClient.connect(nodes[2]);
    await bob.signin({ id: 'bob' });
    await serverSdk(nodes[0]).sendToUser('ann', 'note', { text: 'hi' });
    for (const client of [onB, onC]) {
      const frame = await client.next((f) => f.event === 'note');
      assert.deepEqual(frame.payload, { text: 'hi' });
      assert.equal(frame.channel, '#server-to-user-ann');
    }
    const res = await serverSdk(nodes[0]).terminateUserConnections('ann');
    assert.equal(res.status, 200);
    await Promise.all([assertClosedWith(onB, 4009), assertClosedWith(onC, 4009)]);
    await bob.sync();
    assert.ok(bob.isOpen, 'another user on the same node stays');
    assert.deepEqual(bob.frames.pending((f) => f.event === 'note'), []);
  });

  it('subscribes in Redis only where a node has subscribers, and unsubscribes when the last leaves', async () => {
    const key = 'raptor:ch:app-id:interest';
    const numsub = async () => (await redis.command('PUBSUB', 'NUMSUB', key))[1];
    assert.equal(await numsub(), 0);
    const client = await RawClient.connect(nodes[1]);
    await client.subscribe('interest');
    assert.equal(await numsub(), 1, 'one worker of one node listens');
    await serverSdk(nodes[0]).trigger('interest', 'e', { n: 1 });
    assert.deepEqual((await client.next((f) => f.event === 'e')).payload, { n: 1 });
    client.unsubscribe('interest');
    await waitFor(async () => (await numsub()) === 0, 'the UNSUBSCRIBE once the last subscriber left');
    assert.deepEqual(await redis.command('PUBSUB', 'CHANNELS', 'raptor:ch:*'), [], 'no channel without subscribers');
  });

  it('survives a Redis restart: local delivery goes on, cross-node delivery resumes', async () => {
    const subs = await subscribersOn(nodes, 'restart');
    await redis.kill();
    await Promise.all(nodes.map((n) => clusterState(n, 'down')));
    const unsentBefore = (await health(nodes[0])).cluster.unsent;
    await serverSdk(nodes[0]).trigger('restart', 'e', { n: 'during' });
    assert.equal((await subs[0].inbox.take()).data.n, 'during', 'the publishing node still serves its own subscribers');
    assert.equal((await health(nodes[0])).cluster.unsent, unsentBefore + 1, 'counted as not sent to the cluster');

    await redis.start(redis.port);
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await serverSdk(nodes[0]).trigger('restart', 'e', { n: 'after' });
    for (const { inbox } of subs) assert.equal((await inbox.take()).data.n, 'after', 'subscriptions were made again');
    await fenceThenNothingElse(nodes[1], 'restart', subs.map((s) => s.inbox));
    for (const n of nodes) assert.match(n.stderr, /lost Redis at 127\.0\.0\.1:\d+ .*retrying/);
  });

  it('keeps each subscriber\'s events in order and without duplicates while Redis restarts under traffic', async () => {
    const subs = await subscribersOn(nodes, 'traffic');
    const sdk = publisher(nodes[0]);
    let stop = false;
    let sent = 0;
    const publishing = (async () => {
      while (!stop) await sdk.trigger('traffic', 'e', { i: sent++ }).catch(() => {});
    })();
    await waitFor(() => sent > 20, 'traffic before the restart');
    await redis.kill();
    await Promise.all(nodes.map((n) => clusterState(n, 'down')));
    await redis.start(redis.port);
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    const resumedAt = sent;
    await waitFor(() => sent > resumedAt + 20, 'traffic after the restart');
    stop = true;
    await publishing;
    const last = sent - 1;
    for (const [k, { inbox }] of subs.entries()) {
      const seen = [];
      for (;;) {
        const { data } = await inbox.take(undefined, `node ${k}: event ${last}`);
        seen.push(data.i);
        if (data.i === last) break;
      }
      assert.ok(seen.every((i, j) => j === 0 || i > seen[j - 1]), `node ${k}: increasing, no duplicate: ${seen}`);
      if (k === 0) assert.equal(seen.length, sent, 'the publishing node\'s subscriber missed nothing');
    }
    await fenceThenNothingElse(nodes[2], 'traffic', subs.map((s) => s.inbox));
  });

  it('drops a Redis that stops answering (SIGSTOP) within the PING deadline, and comes back after SIGCONT', async () => {
    const subs = await subscribersOn(nodes, 'stalled');
    redis.child.kill('SIGSTOP');
    try {
      await Promise.all(nodes.map((n) => clusterState(n, 'down')));
    } finally {
      redis.child.kill('SIGCONT');
    }
    for (const n of nodes) assert.match(n.stderr, /no answer to PING for 5 s/);
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await publisher(nodes[0]).trigger('stalled', 'e', { n: 'after' });
    for (const { inbox } of subs) assert.equal((await inbox.take()).data.n, 'after');
  });

  it('stops cleanly on SIGTERM: exit 0 and no sanitizer report on any node', () => assertStopsCleanly(nodes));
});

describe('cluster: a node whose Redis is unreachable', () => {
  it('serves its own clients, reports Redis down and says so in its log', async () => {
    const nowhere = new RedisServer();
    nowhere.port = await freePort(); // nothing listens there
    const node = clusterNode(nowhere, 'lonely', ['--workers', '1']);
    await node.start();
    try {
      const h = await health(node);
      assert.equal(h.cluster.redis, 'down');
      const [client] = await subscribersOn([node], 'alone');
      await serverSdk(node).trigger('alone', 'e', { n: 1 });
      assert.equal((await client.inbox.take()).data.n, 1);
      await waitFor(() => /cannot reach Redis at 127\.0\.0\.1:\d+ .*retrying/.test(node.stderr), 'the warning in the log');
      await node.closeClients();
      assert.deepEqual(node.problems(await node.stop()), []);
    } finally {
      await node.stop().catch(() => {});
    }
  });
});

describe('cluster: a Redis with a password', () => {
  const redis = new RedisServer();
  before(() => redis.start(undefined, ['--requirepass', 's3cret']));
  after(() => redis.stop());

  async function withNode(url, fn) {
    const node = clusterNode({ url }, 'auth-node', ['--workers', '1']);
    await node.start();
    try {
      await fn(node);
      await node.closeClients();
      assert.deepEqual(node.problems(await node.stop()), []);
    } finally {
      await node.stop().catch(() => {});
    }
  }

  it('connects with the password from the URL', async () => {
    await withNode(`redis://:s3cret@127.0.0.1:${redis.port}`, (node) => clusterState(node, 'up'));
  });

  it('stays down with a wrong password, and says why without showing it', async () => {
    await withNode(`redis://:wrong-pw@127.0.0.1:${redis.port}`, async (node) => {
      await waitFor(() => /cannot reach Redis at 127\.0\.0\.1:\d+ \(AUTH refused: /.test(node.stderr), 'the AUTH refusal in the log');
      assert.equal((await health(node)).cluster.redis, 'down');
      assert.doesNotMatch(node.stderr + node.stdout, /wrong-pw/);
    });
  });

  it('abandons an attempt that Redis does not answer within 5 s, and connects once it answers', async () => {
    redis.child.kill('SIGSTOP');
    try {
      await withNode(`redis://:s3cret@127.0.0.1:${redis.port}`, async (node) => {
        await waitFor(() => /\(not connected within 5 s\)/.test(node.stderr), 'the abandoned attempt in the log', RECONNECT_MS);
        redis.child.kill('SIGCONT');
        await clusterState(node, 'up');
      });
    } finally {
      redis.child.kill('SIGCONT');
    }
  });
});

describe('cluster settings', () => {
  const refused = [
    ['a URL that is not redis://', ['--redis', 'http://127.0.0.1:6379'], {}, /--redis: expected redis:\/\/host/],
    ['an unknown rediss:// option', ['--redis', 'rediss://127.0.0.1:6379?cert=x'], {}, /unknown option 'cert'/],
    ['a malformed host name', [], { RAPTOR_REDIS_URL: 'redis://:hunter2@cache..internal:6379' }, /RAPTOR_REDIS_URL: the host is neither an IP address/],
    ['a port out of range', ['--redis', 'redis://127.0.0.1:70000'], {}, /port must be a number/],
    ['a database that is not a number', ['--redis', 'redis://127.0.0.1:6379/zero'], {}, /database/],
    ['a node id with a space', ['--node-id', 'web 1'], {}, /--node-id: a node id is made of/],
    ['an empty prefix', [], { RAPTOR_REDIS_PREFIX: '' }, /RAPTOR_REDIS_PREFIX: a prefix has 1 to 64/],
  ];
  for (const [what, args, env, message] of refused) {
    it(`exits 2 with the reason for ${what}, without echoing the URL`, async () => {
      const { code, stderr } = await runRaptor(args, env);
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /hunter2|cache\.internal/);
    });
  }

  it('raptor.rb: `redis` is checked at its line', async () => {
    const file = configFile('cluster-bad.rb', 'listen "127.0.0.1", port: 6001\nredis "redis://redis..internal:6379", prefix: "a:"\n');
    const { code, stderr } = await runRaptor(['check', file]);
    assert.equal(code, 2);
    assert.ok(stderr.startsWith(`${file}:2: `), stderr);
    assert.match(stderr, /redis: the host is neither an IP address/);
    const badId = configFile('cluster-bad-id.rb', 'redis "redis://127.0.0.1", node_id: "a b"\n');
    assert.match((await runRaptor(['check', badId])).stderr, /:1: redis: a node id is made of/);
  });

  it('raptor.rb: `redis` with a prefix and node id joins the cluster under that prefix', async () => {
    const redis = new RedisServer();
    await redis.start();
    try {
      const file = configFile('cluster.rb', `redis "${redis.url}/0", prefix: "staging:", node_id: "from-ruby"\n`);
      const node = new Raptor({ args: ['--config', file, '--workers', '1'] });
      await node.start();
      try {
        await clusterState(node, 'up');
        assert.equal((await health(node)).cluster.node, 'from-ruby');
        assert.deepEqual(await redis.command('PUBSUB', 'CHANNELS', '*'), ['staging:node:from-ruby']);
        await node.closeClients();
        assert.deepEqual(node.problems(await node.stop()), []);
      } finally {
        await node.stop().catch(() => {});
      }
    } finally {
      await redis.stop();
    }
  });
});
