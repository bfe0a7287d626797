// Graceful shutdown on SIGTERM (docs/cluster.md#graceful-shutdown): the node stops accepting at
// once, closes its clients with 4200 in batches spread over --drain-seconds, answers the HTTP
// requests it has, delivers the webhooks its leaving clients cause, and exits 0; a second SIGTERM
// or a SIGINT cuts it short. In a cluster, real pusher-js clients behind a TCP load balancer
// reconnect to another node by themselves, presence members elsewhere see each user leave and
// come back (or nothing), and the drained node leaves none of its members counted in Redis.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import Pusher from 'pusher-js';
import { Balancer } from './lib/balancer.mjs';
import { presenceMember, pusherClient, subscribed } from './lib/clients.mjs';
import { clusterNode, clusterState } from './lib/cluster.mjs';
import { configFile } from './lib/config-files.mjs';
import { postEvents, request } from './lib/http-api.mjs';
import { DEFAULT_APP, Raptor, runRaptor } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const GOING_AWAY = 4200;
const MARGIN_MS = 10000; // a loaded machine (or ASan) may be slow to start and end a drain
// The cluster hand-over's departure delay: Pusher's 3 s is too short for six pusher-js clients to
// be closed over 2 s and rejoin through the balancer on a loaded sanitizer build.
const DEPARTURE_DELAY_MS = 8000;

// Every pusher-js socket that opened, and how it closed: pusher-js hides the close code, so the
// socket factory is wrapped, as an app would do in a browser.
const closes = [];
const create = Pusher.Runtime.createWebSocket;
Pusher.Runtime.createWebSocket = (url) => {
  const socket = create.call(Pusher.Runtime, url);
  let opened = false;
  socket.addEventListener('open', () => { opened = true; });
  socket.addEventListener('close', ({ code }) => { if (opened) closes.push({ code, at: Date.now() }); });
  return socket;
};

// Whether a TCP connection to the port is refused (rather than accepted).
function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

// Ten connections in a row refused: with several workers, every one's listening socket is closed.
async function allRefused(port) {
  for (let i = 0; i < 10; i++) if (!(await refused(port))) return false;
  return true;
}

async function started(options) {
  const server = new Raptor(options);
  await server.start();
  return server;
}

describe('drain on SIGTERM: one node', () => {
  it('closes every client with 4200 spread over the period, refuses new connections, answers HTTP in flight, exits 0', async () => {
    const server = await started({ args: ['--workers', '2', '--drain-seconds', '2'] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const checker = new http.Agent({ keepAlive: true, maxSockets: 1 }); // a load balancer's health check
    try {
      const n = 20;
      const clients = await Promise.all(Array.from({ length: n }, () => pusherClient(server)));
      for (const c of clients) await subscribed(c, 'drain-room');
      const publish = (data) => postEvents(server, { name: 'e', channel: 'drain-room', data }, { agent });
      assert.equal((await publish('before')).status, 200); // opens the keep-alive connection
      assert.equal((await request(server, { path: '/health', agent: checker })).status, 200);
      const closedBefore = closes.length;
      const signalled = Date.now();
      const exit = server.stop();

      await waitFor(() => allRefused(server.port), 'new connections to be refused', MARGIN_MS);
      const during = await publish('during');
      assert.equal(during.status, 200, 'a request on a connection opened before the drain is answered');
      assert.ok(during.reusedSocket, 'on the connection opened before the drain');
      assert.equal(during.headers.connection, 'close', 'and the connection is closed after it');
      const health = await request(server, { path: '/health', agent: checker });
      assert.equal(health.status, 503, 'a health check on a connection opened before is told');
      assert.equal(health.json.status, 'draining');
      assert.ok(health.reusedSocket);

      await waitFor(() => closes.length - closedBefore >= n, `${n} clients to be closed`, 2000 + MARGIN_MS);
      const ours = closes.slice(closedBefore);
      assert.deepEqual(ours.map((c) => c.code), Array(n).fill(GOING_AWAY));
      const times = ours.map((c) => c.at);
      const spread = Math.max(...times) - Math.min(...times);
      assert.ok(spread >= 500, `closes spread over the period, not at once (first to last: ${spread} ms)`);
      assert.ok(Math.max(...times) - signalled <= 2000 + MARGIN_MS, 'all closed within the period');

      const problems = server.problems(await exit);
      assert.deepEqual(problems, [], `${problems.join('; ')}\n${server.stderr.slice(-3000)}`);
      assert.match(server.stderr, /info drain \(SIGTERM\): not accepting connections; closing the WebSocket clients with 4200 over 2 s/);
      assert.match(server.stderr, /info drain: 20 WebSocket connections closed with 4200 in [\d.]+ s/);
      assert.match(server.stderr, /info drain: done in [\d.]+ s/);
      assert.equal(server.stderr.match(/drain/g).length, 3, 'one line per phase, none per connection');
    } finally {
      agent.destroy();
      checker.destroy();
      await server.closeClients();
      await server.stop().catch(() => {});
    }
  });

  it('with --drain-seconds 0 closes every client at once, each told pusher:error 4200 first', async () => {
    const server = await started({ args: ['--workers', '2', '--drain-seconds', '0'] });
    try {
      const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server)));
      const exit = server.stop();
      for (const c of clients) {
        const error = await c.nextError(GOING_AWAY);
        assert.equal(error.data.message, 'Server is going away');
        assert.equal((await withTimeout(c.closed, 'the close', MARGIN_MS)).code, GOING_AWAY);
      }
      assert.deepEqual(server.problems(await exit), []);
      assert.match(server.stderr, /drain: 10 WebSocket connections closed with 4200/);
    } finally {
      await server.stop().catch(() => {});
    }
  });

  for (const second of ['SIGTERM', 'SIGINT']) {
    it(`exits at once on a ${second} during the drain`, async () => {
      const server = await started({ args: ['--drain-seconds', '600'] });
      try {
        const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(server)));
        server.child.kill('SIGTERM');
        await server.logged(/drain \(SIGTERM\)/);
        await waitFor(() => allRefused(server.port), 'the drain to begin', MARGIN_MS);
        server.child.kill(second);
        const { code } = await withTimeout(server.exited, `raptor to exit on ${second}`, MARGIN_MS);
        assert.equal(code, 0);
        assert.match(server.stderr, new RegExp(`warn drain: ${second} during the drain: exiting at once \\(4 connections`));
        for (const c of clients) assert.notEqual((await c.closed).code, GOING_AWAY, 'not closed by the drain');
      } finally {
        await server.stop().catch(() => {});
      }
    });
  }

  it('SIGINT stops at once, without a drain', async () => {
    const server = await started({ args: ['--drain-seconds', '600'] });
    try {
      const client = await RawClient.connect(server);
      server.child.kill('SIGINT');
      const { code } = await withTimeout(server.exited, 'raptor to exit on SIGINT', MARGIN_MS);
      assert.equal(code, 0);
      assert.notEqual((await client.closed).code, GOING_AWAY);
      assert.doesNotMatch(server.stderr, /drain/);
    } finally {
      await server.stop().catch(() => {});
    }
  });

  it('delivers the webhooks its leaving clients cause, departures after their delay, before it exits', async () => {
    const app = { id: 'drain-app', key: 'drain-key', secret: 'drain-secret-51a7' };
    const receiver = await new WebhookReceiver(app).start();
    const server = await started({ apps: [app], args: ['--drain-seconds', '0', '--webhook', receiver.url] });
    try {
      const member = await RawClient.connect(server);
      await member.subscribe('presence-leaving', { channelData: JSON.stringify({ user_id: 'leaver' }) });
      await receiver.take({ name: 'member_added', channel: 'presence-leaving', user_id: 'leaver' });
      assert.deepEqual(server.problems(await server.stop()), []);
      const names = receiver.accepted.map((e) => e.name);
      assert.ok(names.includes('member_removed'), `member_removed delivered before the exit: ${names}`);
      assert.ok(names.includes('channel_vacated'), `channel_vacated delivered before the exit: ${names}`);
      assert.doesNotMatch(server.stderr, /not delivered at shutdown/);
    } finally {
      await server.stop().catch(() => {});
      await receiver.stop();
    }
  });
});

describe('drain: the setting', () => {
  for (const bad of ['-1', '3601', 'ten', '1.5', '']) {
    it(`refuses --drain-seconds '${bad}' with exit 2 and the reason`, async () => {
      const { code, stderr } = await runRaptor(['--drain-seconds', bad]);
      assert.equal(code, 2);
      assert.equal(stderr, `raptor: invalid value '${bad}' for --drain-seconds: a whole number of seconds from 0 to 3600 (see raptor --help)\n`);
    });
  }

  it('refuses a bad RAPTOR_DRAIN_SECONDS', async () => {
    const { code, stderr } = await runRaptor([], { RAPTOR_DRAIN_SECONDS: 'soon' });
    assert.equal(code, 2);
    assert.match(stderr, /invalid value 'soon' for RAPTOR_DRAIN_SECONDS: a whole number of seconds from 0 to 3600/);
  });

  it('takes drain_seconds in raptor.rb, checked at its line', async () => {
    const good = await runRaptor(['check', '--no-env', configFile('drain-good.rb', 'drain_seconds 30\n')]);
    assert.equal(good.code, 0, good.stderr);
    const file = configFile('drain-bad.rb', 'workers 2\ndrain_seconds 3601\n');
    const bad = await runRaptor(['check', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /drain-bad\.rb:2: drain_seconds must be an Integer from 0 to 3600, not 3601/);
  });

  it('is listed in --help', async () => {
    assert.match((await runRaptor(['--help'])).stdout, /--drain-seconds VALUE .*\[RAPTOR_DRAIN_SECONDS\]/);
  });
});

describe('drain in a cluster', () => {
  const redis = new RedisServer();
  let nodes = [];
  let balancer;
  let receiver;
  before(async () => {
    await redis.start();
    receiver = await new WebhookReceiver(DEFAULT_APP).start();
    const hook = ['--webhook', receiver.url, '--webhook-departure-delay-ms', String(DEPARTURE_DELAY_MS)];
    nodes = [clusterNode(redis, 'node-a', ['--drain-seconds', '2', ...hook]), clusterNode(redis, 'node-b', hook),
      clusterNode(redis, 'node-c', hook)];
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    balancer = await new Balancer([nodes[0], nodes[1]]).start();
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.closeClients()));
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await balancer?.stop();
    await receiver?.stop();
    await redis.stop();
  });

  it('hands its pusher-js clients to another node, members elsewhere see them leave and come back, Redis keeps none of its members', async () => {
    const [a, b, c] = nodes;
    const channel = 'presence-handover';
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    const watcher = await presenceMember(c, channel, { user_id: 'watcher' });
    const members = [];
    for (const id of users) members.push(await presenceMember(balancer, channel, { user_id: id }));
    assert.equal(balancer.routed.get(a), users.length, 'every client went to node-a first');
    for (const id of users) await watcher.added.take(({ data }) => data.id === id, `member_added ${id}`);
    const p = `raptor:presence:${a.app.id}:${channel}`;
    assert.deepEqual((await redis.command('HKEYS', `${p}:node:node-a`)).sort(), users);

    // pusher-js subscribes again by itself once reconnected: a second subscription_succeeded.
    const rejoined = members.map((m) => new Promise((resolve) => m.channel.bind('pusher:subscription_succeeded', () => resolve(Date.now()))));
    const stopping = Date.now();
    const problems = a.problems(await a.stop());
    assert.deepEqual(problems, [], `${problems.join('; ')}\n${a.stderr.slice(-3000)}`);
    const lastRejoin = Math.max(...await withTimeout(Promise.all(rejoined), 'every client to join again through the balancer', MARGIN_MS));
    assert.equal(balancer.routed.get(b), users.length, 'and they went to node-b');
    for (const m of members) assert.equal(m.pusher.connection.state, 'connected');

    assert.deepEqual(await redis.command('HKEYS', `${p}:node:node-a`), [], 'node-a left no member of its own in Redis');
    const keys = await redis.command('KEYS', '*node-a*');
    assert.deepEqual(keys, [], 'nor any other key of node-a (its lease given back)');
    assert.equal(await redis.command('ZSCORE', 'raptor:nodes', 'node-a'), null, 'nor a lease for others to clean up');
    await waitFor(async () => (await redis.command('HKEYS', `${p}:node:node-b`)).length === users.length, 'node-b to count them');
    assert.match(a.stderr, /info drain: done in/);

    // Each user left node-a and joined node-b: the watcher saw member_removed then member_added,
    // or nothing when the join came first (the user was never gone from the cluster).
    await waitFor(() => users.every((id) => {
      const removed = watcher.removed.pending(({ data }) => data.id === id).length;
      const added = watcher.added.pending(({ data }) => data.id === id).length;
      return removed === added;
    }), 'every member_removed to be followed by its member_added');
    for (const id of users) {
      assert.ok(watcher.removed.pending(({ data }) => data.id === id).length <= 1, `at most one member_removed for ${id}`);
    }
    const roster = [];
    watcher.channel.members.each((m) => roster.push(m.id));
    assert.deepEqual(roster.sort(), [...users, 'watcher'].sort());

    // Webhooks: a user back on node-b within the departure delay cancels its member_removed
    // (held in Redis) and its new member_added. Past the delay plus a sweep, count what came.
    await new Promise((resolve) => setTimeout(resolve, DEPARTURE_DELAY_MS + 1000));
    const hooks = (name, id) => receiver.accepted.filter((e) => e.name === name && e.user_id === id).length;
    for (const id of users) {
      assert.equal(hooks('member_added', id), 1 + hooks('member_removed', id), `member webhooks of ${id} pair up`);
    }
    // Every rejoin came within the delay of the drain's start (so of its own close): none left.
    // The delay is long enough for a slow (sanitizer) machine; if even that was not, fail.
    assert.ok(lastRejoin - stopping < DEPARTURE_DELAY_MS - 100,
      `every client rejoined within the departure delay (took ${lastRejoin - stopping} ms)`);
    for (const id of users) assert.equal(hooks('member_removed', id), 0, `no member_removed for ${id}, back in time`);
    assert.equal(receiver.accepted.filter((e) => e.name === 'channel_vacated').length, 0, 'the channel stayed occupied');
  });
});

// Runs `test(node, redis)` on a node (drain 0) holding one presence member whose Redis was stopped
// (SIGSTOP) just before: when the node drains, its leave goes into Redis's socket and no answer
// comes. Cleans up whatever happens. One worker: with two, the member's worker may not be the one
// whose PING deadline passes first, and its leave is then simply answered after SIGCONT.
async function withStuckNode(test) {
  const redis = new RedisServer();
  await redis.start();
  const node = clusterNode(redis, 'stuck', ['--drain-seconds', '0', '--workers', '1']);
  try {
    await node.start();
    await clusterState(node, 'up');
    const member = await RawClient.connect(node);
    await member.subscribe('presence-stuck', { channelData: JSON.stringify({ user_id: 'kept' }) });
    redis.child.kill('SIGSTOP');
    await test(node, redis);
  } finally {
    redis.child.kill('SIGCONT');
    await node.stop().catch(() => {});
    await redis.stop();
  }
}

const stuckMembers = (redis) => redis.command('HKEYS', 'raptor:presence:app-id:presence-stuck:node:stuck');

describe('drain with Redis stopped', () => {
  it('gives up waiting for Redis 10 s after its last client closed, says so, and exits 0', () => withStuckNode(async (node, redis) => {
    const { code } = await withTimeout(node.stop(), 'raptor to give up and exit', 20000 + MARGIN_MS);
    assert.equal(code, 0);
    assert.match(node.stderr, /warn drain: stopped waiting after [\d.]+ s: 0 connections still closing, 0 HTTP requests unanswered, [12] cluster changes unanswered by Redis/);
    // The leave had reached Redis's socket before it stopped: Redis runs it once woken.
    redis.child.kill('SIGCONT');
    await waitFor(async () => (await stuckMembers(redis)).length === 0, 'the leave written before Redis stopped to run');
  }));

  it('sends a leave lost with the dropped connection again once Redis is back, then is done', () => withStuckNode(async (node, redis) => {
    // The drain starts 2 s into Redis's stop: its leave still goes into the stuck connection (the
    // PING deadline drops it 5-7 s into the stop), and most of the drain's 10 s are left for
    // reconnecting. Draining at once left 3 s, which a loaded ASan run once used up.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const exit = node.stop();
    await waitFor(() => /lost Redis/.test(node.stderr), 'the PING deadline to drop the connection', MARGIN_MS);
    redis.child.kill('SIGCONT');
    const { code } = await withTimeout(exit, 'raptor to exit', 20000 + MARGIN_MS);
    assert.equal(code, 0);
    const log = node.stderr;
    const left = log.indexOf('drain: 1 WebSocket connections closed');
    assert.ok(left >= 0 && left < log.indexOf('lost Redis'),
      `the member left before the connection was dropped:\n${log}`);
    assert.match(log, /info drain: done in/);
    assert.doesNotMatch(log, /stopped waiting/);
    const reconnected = log.indexOf('connected to Redis', log.indexOf('lost Redis'));
    assert.ok(reconnected > 0 && log.indexOf('info drain: done') > reconnected,
      `done only once reconnected and the leave answered again:\n${log}`);
    assert.deepEqual(await stuckMembers(redis), []);
  }));
});
