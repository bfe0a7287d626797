// Raptor nodes of a cluster for the cluster tests: started with --redis and a node id, and
// waited on until /health reports their Redis in a given state.
import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { Raptor } from './raptor.mjs';
import { RedisServer } from './redis.mjs';
import { request } from './http-api.mjs';
import { waitFor } from './wait.mjs';

export const RECONNECT_MS = 15000; // reconnect attempts back off to 8 s apart

export async function health(node) {
  return (await request(node, { path: '/health' })).json;
}

export function clusterState(node, state, what = `node ${node.nodeId} to report Redis ${state}`) {
  return waitFor(async () => (await health(node)).cluster?.redis === state, what, RECONNECT_MS);
}

export function clusterNode(redis, nodeId, args = []) {
  const node = new Raptor({ args: ['--redis', redis.url, '--node-id', nodeId, '--workers', '2', ...args] });
  node.nodeId = nodeId;
  return node;
}

// In the enclosing describe: a real redis-server and three nodes on it, started before its tests
// (and up), their clients closed after each test, all stopped after the last. `nodes` is filled
// in once they have started.
export function threeNodeCluster() {
  const redis = new RedisServer();
  const nodes = [];
  before(async () => {
    await redis.start();
    nodes.push(...['node-a', 'node-b', 'node-c'].map((id) => clusterNode(redis, id)));
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

// Stops every node with SIGTERM: each must exit 0 with no sanitizer report.
export async function assertStopsCleanly(nodes) {
  for (const node of nodes) {
    const problems = node.problems(await node.stop());
    assert.deepEqual(problems, [], `${node.nodeId}: ${problems.join('; ')}\n${node.stderr.slice(-3000)}`);
  }
}
