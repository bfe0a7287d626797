// Helpers for cluster tests (docs/cluster.md): raptor nodes sharing one real redis-server, what
// they report in /health, ordered publishers, and a fence that exposes late duplicates.
import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import http from 'node:http';
import PusherServer from 'pusher';
import { inboxOf, pusherClient, serverSdk, subscribed } from './clients.mjs';
import { healthDetails } from './http-api.mjs';
import { Raptor } from './raptor.mjs';
import { RedisServer } from './redis.mjs';
import { waitFor } from './wait.mjs';
import { RawClient } from './ws-client.mjs';

export const RECONNECT_MS = 15000; // reconnect attempts back off to 8 s apart

// The `pusher` SDK on one keep-alive HTTP connection: one publisher, whose events raptor keeps in
// order (the SDK alone opens a connection per request, each a publisher of its own).
export function publisher(node) {
  const { app } = node;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  node.track(async () => agent.destroy()); // closed with the test's clients
  return new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: node.host, port: String(node.port), agent });
}

export const health = healthDetails;

export function clusterState(node, state, what = `node ${node.nodeId} to report Redis ${state}`) {
  return waitFor(async () => (await health(node)).cluster?.redis === state, what, RECONNECT_MS);
}

export function clusterNode(redis, nodeId, args = []) {
  const node = new Raptor({ args: ['--redis', redis.url, '--node-id', nodeId, '--workers', '2', ...args] });
  node.nodeId = nodeId;
  return node;
}

// Three nodes (node-a, node-b, node-c; two workers each) on a fresh redis-server, for the tests of
// the enclosing describe(): started and connected before them, their clients closed after each
// test, all stopped at the end. `nodes` is filled in once they have started. `how` is either
// `makeNode(redis, id)`, which makes each, or extra arguments for clusterNode.
export function threeNodes(how = []) {
  const makeNode = typeof how === 'function' ? how : (redis, id) => clusterNode(redis, id, how);
  const redis = new RedisServer();
  const nodes = [];
  before(async () => {
    await redis.start();
    nodes.push(...['node-a', 'node-b', 'node-c'].map((id) => makeNode(redis, id)));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
  });
  afterEach(() => Promise.all(nodes.map((n) => n.closeClients())));
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await redis.stop();
  });
  return { redis, nodes };
}

// A last event published on `node` after everything else was seen: when it has arrived, a
// duplicate of anything before it would have arrived too (Redis hands every subscriber its
// messages in the order it received them, and this one was sent after the others were
// delivered). Then nothing but it may be left in the inboxes.
export async function fenceThenNothingElse(node, channel, inboxes) {
  await serverSdk(node).trigger(channel, 'e', { fence: true });
  for (const inbox of inboxes) await inbox.take(({ data }) => data?.fence, 'the fence event');
  for (const inbox of inboxes) assert.deepEqual(inbox.pending(), [], 'no duplicate or stray event');
}

// Subscribes a pusher-js client on each node to `channel`; resolves [{pusher, inbox}] where the
// inbox collects every event named in `events`.
export async function subscribersOn(nodes, channel, events = ['e']) {
  return Promise.all(nodes.map(async (node) => {
    const pusher = await pusherClient(node);
    const [ch] = await subscribed(pusher, channel);
    const inbox = inboxOf((cb) => ch.bind_global((event, data) => { if (events.includes(event)) cb(data, event); }));
    return { pusher, inbox, channel: ch };
  }));
}

// Stops every node with SIGTERM: each must exit 0 with no sanitizer report.
export async function assertStopsCleanly(nodes) {
  for (const node of nodes) {
    const problems = node.problems(await node.stop());
    assert.deepEqual(problems, [], `${node.nodeId}: ${problems.join('; ')}\n${node.stderr.slice(-3000)}`);
  }
}

export const isMemberEvent = (f) => /^pusher_internal:member_/.test(f.event);

// A raw client joined to `channel` as `user` ({user_id, user_info}); `presence` is its roster.
export async function rawMember(node, channel, user) {
  const client = await RawClient.connect(node);
  const ok = await client.subscribe(channel, { channelData: JSON.stringify(user) });
  client.presence = ok.payload.presence;
  return client;
}

// What a raw member knows of the roster: the roster it was given, then its member events in order.
// Fails on an event that does not change it (a duplicate).
export function applyMemberEvents(client, ids) {
  for (const f of client.frames.pending(isMemberEvent)) {
    const id = f.payload.user_id;
    if (f.event === 'pusher_internal:member_added') {
      assert.ok(!ids.has(id), `member_added ${id} for a member already known to ${client.socketId}`);
      ids.add(id);
    } else {
      assert.ok(ids.has(id), `member_removed ${id} for a member unknown to ${client.socketId}`);
      ids.delete(id);
    }
  }
  return ids;
}

// Joins a fence member on `node` and waits until every one of `watchers` (raw clients) has heard
// of it: Redis publishes member events in one order to every node, so anything before it (a
// duplicate included) has arrived too. Takes the fence's own event; returns the fence client.
export async function fence(node, channel, watchers, id) {
  const member = await rawMember(node, channel, { user_id: id });
  for (const w of watchers)
    await w.frames.take((f) => f.event === 'pusher_internal:member_added' && f.payload.user_id === id, `${id} on ${w.socketId}`);
  return member;
}

// Every webhook that will be sent has been: no departure waits in Redis, no node has one pending
// (its local delay included), twice in a row (a script's answer may still have been on its way).
export async function webhooksSettled(redis, nodes, ms = 20000) {
  let quietBefore = false;
  await waitFor(async () => {
    const waiting = await redis.command('ZCARD', 'raptor:departures');
    const pending = await Promise.all(nodes.map(async (n) => (await health(n)).webhooks?.pending ?? 0));
    const quiet = waiting === 0 && pending.every((p) => p === 0);
    const twice = quiet && quietBefore;
    quietBefore = quiet;
    if (!twice) await new Promise((r) => setTimeout(r, 300));
    return twice;
  }, 'the departures in Redis and every node\'s webhooks to be sent', ms);
}
