// Rolling restarts that nobody notices (docs/cluster.md#rolling-restarts): three nodes, each
// restarted in turn (SIGTERM with a 1 s drain, started again under its id), while every member
// also holds connections through the other nodes. pusher-js clients reach the nodes through test
// balancers (one per node, the next node as fallback), and the clients a drain moved come back to
// the restarted node at once. No client hears member_removed, no member webhook is sent, and
// every roster and every node's users API stay exact. Once more with Redis restarted (empty)
// between two node restarts: still no member_removed anywhere, no member_added to clients, and
// the rosters whole again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Balancer } from './lib/balancer.mjs';
import { presenceMember } from './lib/clients.mjs';
import { clusterNode, clusterState, webhooksSettled } from './lib/cluster.mjs';
import { signedRequest } from './lib/http-api.mjs';
import { DEFAULT_APP } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';

const CHANNEL = 'presence-rolling';
const USERS = ['u0', 'u1', 'u2', 'u3'];
const SETTLE_MS = 30000; // reconnects, re-asserts and a busy machine

function rollingCluster() {
  const redis = new RedisServer();
  const receiver = new WebhookReceiver(DEFAULT_APP);
  const nodes = [];
  const fronts = [];
  const clients = []; // {user, front, member}
  const args = () => ['--drain-seconds', '1', '--webhook', receiver.url];
  // Each front sends its clients to its node, or to the next one while that one is down.
  const aim = () => fronts.forEach((f, i) => { f.nodes = [nodes[i], nodes[(i + 1) % 3]]; });
  before(async () => {
    await Promise.all([redis.start(), receiver.start()]);
    nodes.push(...['node-a', 'node-b', 'node-c'].map((id) => clusterNode(redis, id, args())));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    for (let i = 0; i < 3; i++) fronts.push(await new Balancer([nodes[i]]).start());
    aim();
    for (const user of USERS)
      for (let front = 0; front < 3; front++)
        clients.push({ user, front, member: await presenceMember(fronts[front], CHANNEL, { user_id: user }) });
    await rostersExact(nodes, clients);
    await webhooksSettled(redis, nodes);
    // What the joins above announced is not counted against the restarts.
    for (const { member } of clients) member.before = { added: member.added.pending().length, removed: member.removed.pending().length };
  });
  after(async () => {
    for (const { member } of clients) member.pusher.disconnect();
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await Promise.all(fronts.map((f) => f.stop()));
    await receiver.stop();
    await redis.stop();
  });

  // SIGTERM (drain), then the node again under its id; the clients its drain moved to the next
  // node come back to it at once.
  async function restart(i) {
    const old = nodes[i];
    const problems = old.problems(await old.stop());
    assert.deepEqual(problems, [], `${old.nodeId}: ${problems.join('; ')}\n${old.stderr.slice(-3000)}`);
    nodes[i] = clusterNode(redis, old.nodeId, args());
    await nodes[i].start();
    aim();
    await Promise.all(clients.filter((c) => c.front === i).map(({ member }) => {
      const rejoined = new Promise((resolve) => member.channel.bind('pusher:subscription_succeeded', resolve));
      member.pusher.disconnect();
      member.pusher.connect();
      return withTimeout(rejoined, 'a client to join again through its front', SETTLE_MS);
    }));
    await rostersExact(nodes, clients);
  }
  return { redis, receiver, nodes, clients, restart };
}

// Every client's roster and every node's users API list the users, exactly.
async function rostersExact(nodes, clients) {
  const rosterOf = (member) => {
    const ids = [];
    member.channel.members.each((m) => ids.push(m.id));
    return ids.sort().join();
  };
  const wrong = () => clients.filter(({ member }) => rosterOf(member) !== USERS.join())
    .map(({ user, front, member }) => `${user} via ${front} (${member.pusher.connection.state}): ${rosterOf(member)}`);
  await waitFor(() => wrong().length === 0, 'every client\'s roster to be the users', SETTLE_MS)
    .catch((err) => { throw Object.assign(err, { message: `${err.message}: ${wrong().join('; ')}` }); });
  await waitFor(async () => {
    const answers = await Promise.all(nodes.map((n) => signedRequest(n, { path: `/apps/${n.app.id}/channels/${CHANNEL}/users` })));
    return answers.every((a) => a.status === 200 && a.json.users.map((u) => u.id).sort().join() === USERS.join());
  }, 'every node\'s users API to list the users', SETTLE_MS);
}

const memberEvents = (clients, inbox) => clients.flatMap(({ user, member }) =>
  member[inbox].pending().slice(member.before[inbox]).map(({ data }) => `${data.id} to ${user}`));
const memberWebhooks = (receiver, name) => receiver.history(CHANNEL).filter((e) => e.startsWith(`${name}:`));

describe('rolling restart of three nodes', () => {
  const cluster = rollingCluster();

  it('sends no member_removed to clients and no member webhooks, rosters and users API exact throughout', async () => {
    const { redis, receiver, nodes, clients, restart } = cluster;
    const hooksBefore = receiver.history(CHANNEL).length;
    for (let i = 0; i < 3; i++) await restart(i);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(memberEvents(clients, 'removed'), [], 'no member_removed');
    assert.deepEqual(memberEvents(clients, 'added'), [], 'no member_added');
    assert.deepEqual(receiver.history(CHANNEL).slice(hooksBefore), [], 'no webhook of the channel');
  });
});

describe('rolling restart of three nodes, Redis restarted mid-way', () => {
  const cluster = rollingCluster();

  it('sends no member_removed to clients nor as webhooks, and the rosters and users API are whole again', async () => {
    const { redis, receiver, nodes, clients, restart } = cluster;
    await restart(0);
    await redis.stop();
    await redis.start(redis.port);
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await rostersExact(nodes, clients);
    await restart(1);
    await restart(2);
    await webhooksSettled(redis, nodes);
    assert.deepEqual(memberEvents(clients, 'removed'), [], 'no member_removed');
    // The re-asserts after Redis came back decide member_added again; every subscriber has those
    // users in its roster already, so its worker drops them (core/member_view.h).
    assert.deepEqual(memberEvents(clients, 'added'), [], 'no member_added of a user already present');
    assert.deepEqual(memberWebhooks(receiver, 'member_removed'), [], 'no member_removed webhook');
  });
});
