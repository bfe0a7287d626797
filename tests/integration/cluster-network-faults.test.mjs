// Faults as networks make them (docs/cluster.md#network-faults): one raptor node in a network
// namespace of its own, made by the test, joined to the host by a veth pair and reaching Redis
// through a proxy that adds 200 ms (the kernel here has no sch_netem, so the latency is made in
// user space by lib/delay-proxy.mjs). Then nftables in that namespace drops every packet between
// the node and Redis, both ways, so its connections hang rather than close: the other node
// removes the cut-off node's members once, its own clients stay with it, and when the partition
// heals it takes them back, each member event and webhook once.
// Needs root (network namespaces, veth, nft): the test fails, saying so, where they are refused.
// It removes what it made when it ends, on SIGINT and SIGTERM too, and at start what earlier runs
// killed outright left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { assertStopsCleanly, clusterNode, clusterState, fence, isMemberEvent, rawMember, webhooksSettled } from './lib/cluster.mjs';
import { DelayProxy } from './lib/delay-proxy.mjs';
import { signedRequest } from './lib/http-api.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';

const CHANNEL = 'presence-far';
// A real secret: the placeholder is refused off loopback.
const APP = { id: 'far-app', key: 'far-key', secret: '6f1d0c3be2a94f7d8c5e1a2b3c4d5e6f' };
const LATENCY_MS = 200;
const NODE_TIMEOUT_S = 2;
const FAULT_MS = 30000; // room for a busy machine: node timeout + PING deadline + reconnect back-off

// The namespace and its link: a /30 of 10.213.0.0/16 picked from the pid, names of at most 15
// characters (an interface name's limit).
const NS = `raptor-nf-${process.pid}`;
const HOST_IF = `rnh${process.pid}`;
const NS_IF = `rnn${process.pid}`;
const SUBNET = `10.213.${(process.pid >> 6) % 256}.${(process.pid % 64) * 4}`;
const HOST_IP = SUBNET.replace(/\d+$/, (d) => String(Number(d) + 1));
const NS_IP = SUBNET.replace(/\d+$/, (d) => String(Number(d) + 2));

const sh = (command, ...args) => execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (...args) => sh('ip', 'netns', 'exec', NS, ...args);

function makeNamespace() {
  try {
    sh('ip', 'netns', 'add', NS);
    sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    sh('ip', 'link', 'set', NS_IF, 'netns', NS);
    sh('ip', 'addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
    sh('ip', 'link', 'set', HOST_IF, 'up');
    inNs('ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF);
    inNs('ip', 'link', 'set', NS_IF, 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('nft', 'list', 'tables'); // nft present and allowed in the namespace
  } catch (err) {
    throw new Error('this test needs root, network namespaces, veth links and nftables (`ip netns add`, '
      + '`ip link add … type veth`, `nft`; scripts/setup --tests installs nftables), and this machine '
      + `refused: ${err.stderr?.toString().trim() || err.message}`);
  }
}

// Idempotent and synchronous, so that it also runs from the process's exit hook: deleting the
// host end of the veth deletes both ends, and the namespace goes once raptor in it has exited.
function removeNamespace(ns = NS, hostIf = HOST_IF) {
  for (const args of [['link', 'del', hostIf], ['netns', 'del', ns]]) {
    try { sh('ip', ...args); } catch { /* never made, or gone already */ }
  }
}
process.on('exit', () => removeNamespace());
// Killed by a signal, the exit hook runs only if the signal is caught, and the servers the test
// started (raptor in the namespace among them) are killed first; SIGKILL leaves what the run
// made behind, which the next run removes (removeLeftovers).
let servers = [];
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    for (const server of servers) server?.child?.kill('SIGKILL');
    process.exit(status);
  });
}

// What earlier runs left (killed by SIGKILL, or before the signal hooks existed): the namespaces
// and host links this test names after a pid that no longer runs. Those of a run still going
// (another pid alive) are left alone.
function removeLeftovers() {
  const running = (pid) => {
    try { process.kill(Number(pid), 0); } catch (err) { return err.code !== 'ESRCH'; }
    return true;
  };
  let namespaces = '';
  let links = '';
  try {
    namespaces = sh('ip', 'netns', 'list');
    links = sh('ip', '-o', 'link', 'show');
  } catch { return; } /* refused: makeNamespace says why */
  const pids = new Set([...namespaces.matchAll(/^raptor-nf-(\d+)\b/gm), ...links.matchAll(/^\d+: rnh(\d+)[@:]/gm)]
    .map((m) => m[1]));
  for (const pid of pids) if (!running(pid)) removeNamespace(`raptor-nf-${pid}`, `rnh${pid}`);
}

// Drops every packet between the namespace and the proxy's port, both ways and established
// connections included (nothing is rejected: no RST, no ICMP, the sockets just hear nothing).
function partition(port) {
  inNs('nft', 'add', 'table', 'inet', 'partition');
  inNs('nft', 'add', 'chain', 'inet', 'partition', 'out', '{ type filter hook output priority 0; }');
  inNs('nft', 'add', 'chain', 'inet', 'partition', 'in', '{ type filter hook input priority 0; }');
  inNs('nft', 'add', 'rule', 'inet', 'partition', 'out', 'ip', 'daddr', HOST_IP, 'tcp', 'dport', String(port), 'drop');
  inNs('nft', 'add', 'rule', 'inet', 'partition', 'in', 'ip', 'saddr', HOST_IP, 'tcp', 'sport', String(port), 'drop');
}
const heal = () => inNs('nft', 'delete', 'table', 'inet', 'partition');

describe('cluster network faults: a node in its own network namespace', () => {
  const redis = new RedisServer();
  let receiver;
  let proxy;
  let far;
  let near;
  before(async () => {
    removeLeftovers();
    makeNamespace();
    await redis.start();
    proxy = await new DelayProxy({ port: redis.port }, LATENCY_MS, HOST_IP).start();
    receiver = await new WebhookReceiver(APP, { host: HOST_IP }).start();
    const args = ['--node-timeout', String(NODE_TIMEOUT_S), '--workers', '1', '--webhook', receiver.url];
    far = clusterNode(proxy, 'node-far', args);
    near = clusterNode(redis, 'node-near', args);
    servers = [far, near, redis];
    Object.assign(far, { listenHost: NS_IP, launcher: (bin, argv) => ['ip', ['netns', 'exec', NS, bin, ...argv]] });
    for (const node of [far, near]) Object.assign(node, { apps: [APP], app: APP });
    await Promise.all([far.start(), near.start()]);
    await Promise.all([far, near].map((node) => clusterState(node, 'up')));
  });
  after(async () => {
    try {
      await Promise.all([far, near].map((node) => node?.closeClients()));
      await Promise.all([far, near].map((node) => node?.stop().catch(() => {})));
      await Promise.all([receiver?.stop(), proxy?.stop(), redis.stop()]);
    } finally {
      removeNamespace();
    }
  });

  const usersAnswer = (node) => signedRequest(node, { path: `/apps/${APP.id}/channels/${CHANNEL}/users` });
  const users = async (node) => (await usersAnswer(node)).json.users.map((u) => u.id).sort().join();
  const memberEvent = (name, user) => (f) => f.event === `pusher_internal:${name}` && f.payload.user_id === user;

  it('carries on 200 ms away, removes a partitioned node\'s members once and takes them back once when it heals', async () => {
    // 200 ms on the far node's way to Redis: the same roster, events and webhooks, later.
    const ann = await rawMember(far, CHANNEL, { user_id: 'ann' });
    const bob = await rawMember(near, CHANNEL, { user_id: 'bob' });
    assert.deepEqual(bob.presence.ids.sort(), ['ann', 'bob'], 'the far member, 200 ms away, is in the roster');
    await ann.frames.take(memberEvent('member_added', 'bob'), 'bob to ann');
    assert.equal(await users(near), 'ann,bob');
    await serverSdk(near).trigger(CHANNEL, 'before', { n: 1 });
    await ann.frames.take((f) => f.event === 'before', 'an event from the near node, 200 ms away');
    await receiver.take({ name: 'member_added', channel: CHANNEL, user_id: 'ann' }, FAULT_MS);
    await receiver.take({ name: 'member_added', channel: CHANNEL, user_id: 'bob' }, FAULT_MS);
    // Every delivered webhook acknowledged in Redis first: one whose XACK the partition held back
    // would be sent again, at least once (docs/cluster.md#network-faults).
    await waitFor(async () => (await redis.command('XPENDING', 'raptor:webhooks', 'raptor'))[0] === 0,
      'the webhook stream\'s entries to be acknowledged', FAULT_MS);

    // The partition: nothing closes, the far node's Redis connections just go silent.
    partition(proxy.port);
    const cut = Date.now();
    await bob.frames.take(memberEvent('member_removed', 'ann'), 'member_removed ann once the far node\'s lease lapsed', FAULT_MS);
    const removedMs = Date.now() - cut;
    assert.equal(await users(near), 'bob', 'the near node took the far node\'s member out');
    await receiver.take({ name: 'member_removed', channel: CHANNEL, user_id: 'ann' }, FAULT_MS);
    await clusterState(far, 'down'); // its PING deadline
    const downMs = Date.now() - cut;
    assert.ok(ann.isOpen, 'the far node\'s client stays connected to it');
    // The far node serves its own clients alone; what is published elsewhere does not reach them.
    await serverSdk(near).trigger(CHANNEL, 'lost', { n: 2 });
    await serverSdk(far).trigger(CHANNEL, 'local', { n: 3 });
    await ann.frames.take((f) => f.event === 'local', 'an event published on the far node itself');
    await bob.frames.take((f) => f.event === 'lost', 'the near node\'s event, on the near node');
    const alone = await usersAnswer(far);
    assert.deepEqual([alone.headers['x-raptor-scope'], alone.json.users.map((u) => u.id)], ['node', ['ann']],
      'the far node answers from its own view');
    assert.deepEqual(ann.frames.pending(isMemberEvent), [], 'ann hears nothing of bob, still there');

    // Healed: the far node reconnects, finds its lease gone and counts its member again.
    heal();
    const healed = Date.now();
    await clusterState(far, 'up');
    await bob.frames.take(memberEvent('member_added', 'ann'), 'member_added ann after the partition healed', FAULT_MS);
    console.log(`# partition to member_removed on the near node: ${removedMs} ms, to the far node's Redis down: ${downMs} ms; `
      + `heal to member_added: ${Date.now() - healed} ms`);
    await waitFor(async () => (await users(near)) === 'ann,bob' && (await users(far)) === 'ann,bob', 'both nodes to list both users', FAULT_MS);
    await fence(near, CHANNEL, [bob, ann], 'fence');
    assert.deepEqual(bob.frames.pending(memberEvent('member_added', 'ann')), [], 'member_added ann once');
    // Her node re-asserted ann, and Redis re-added her to every node: news to bob, not to ann,
    // who never heard herself leave (nor ever hears of herself); of bob, nothing either.
    assert.deepEqual(ann.frames.pending(isMemberEvent), [], 'no member event to ann: not of herself, not of bob');
    assert.deepEqual(ann.frames.pending((f) => f.event === 'lost'), [], 'what was published elsewhere meanwhile is not replayed');
    await webhooksSettled(redis, [far, near], FAULT_MS);
    const webhooks = receiver.history(CHANNEL).filter((e) => e !== 'member_added:fence');
    // Before the partition (in either order, from two nodes), then its removal and its return, once each.
    assert.deepEqual([...webhooks.slice(0, 3).sort(), ...webhooks.slice(3)],
      ['channel_occupied', 'member_added:ann', 'member_added:bob', 'member_removed:ann', 'member_added:ann'], webhooks.join());
    await assertStopsCleanly([far, near]);
  });
});
