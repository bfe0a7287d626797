// Statistics over a whole cluster (docs/metrics.md#cluster-wide): three raptor nodes (two workers
// each) on one real redis-server. GET /apps/{id}/stats on any node sums every node's connections
// and messages and ranks the busiest channels over all of them, with each node's part; the
// dashboard's overview lists every node; a node that stops drops out once its figures expire in
// Redis; /metrics times the Redis scripts in a histogram.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { threeNodes } from './lib/cluster.mjs';
import { request } from './lib/http-api.mjs';
import { bearer, scrape } from './lib/prometheus.mjs';
import { runRaptor } from './lib/raptor.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'cluster-stats-token-0123456789';
// A node's figures live in Redis 5 s past its last write, and others read them once a second.
const EXPIRY_MS = 15000;

// Each node's answer, once every node's answer satisfies `ready`.
function statsEverywhere(nodes, ready, what, ms = undefined) {
  return waitFor(async () => {
    const answers = await Promise.all(nodes.map((n) => apiGet(n, '/stats')));
    return answers.every(ready) && answers;
  }, what, ms);
}

describe('cluster-wide statistics', () => {
  const { nodes } = threeNodes(['--admin-token', TOKEN]);

  it('GET /apps/{id}/stats on any node sums every node\'s connections and messages, with each node\'s part', async () => {
    const [a, b, c] = nodes;
    for (const node of [a, a, b]) await (await RawClient.connect(node)).subscribe('prices');
    await serverSdk(a).trigger('prices', 'tick', { n: 1 });
    await serverSdk(a).trigger('prices', 'tick', { n: 2 });
    await serverSdk(b).trigger('news', 'flash', {});
    await serverSdk(c).trigger('prices', 'tick', { n: 3 });
    await serverSdk(c).trigger('news', 'flash', {});
    await serverSdk(c).trigger('quiet', 'once', {});

    const answers = await statsEverywhere(nodes, (s) => s.connections.current === 3 && s.messages.total === 6 && s.nodes.length === 3,
      'every node to count the three connections and six messages of the cluster');
    for (const stats of answers) {
      assert.deepEqual(stats.top_channels.map((ch) => [ch.name, ch.messages.total]), [['prices', 3], ['news', 2], ['quiet', 1]]);
      const parts = Object.fromEntries(stats.nodes.map((n) => [n.node, [n.connections, n.messages_total]]));
      assert.deepEqual(parts, { 'node-a': [2, 2], 'node-b': [1, 1], 'node-c': [0, 3] });
      assert.ok(stats.connections.peak >= 3);
    }
    assert.equal(answers[0].nodes[0].node, 'node-a', 'the answering node comes first');
    const top1 = await apiGet(b, '/stats', { top: '1' });
    assert.deepEqual(top1.top_channels.map((ch) => ch.name), ['prices']);

    // raptor stats (docs/cli.md) on node-b: the cluster's figures, then a line per node.
    const { app } = b;
    const cli = await runRaptor(['stats', '--top', '2'],
      { RAPTOR_URL: b.url(''), RAPTOR_APP_ID: app.id, RAPTOR_APP_KEY: app.key, RAPTOR_APP_SECRET: app.secret });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^app: ${app.id}\\nconnections: 3 \\(at most \\d+\\)\\nmessages: 6 in all, 6 in the last minute, 6 in the last hour\\n`));
    assert.match(cli.stdout, /\nbusiest channels \(messages in the last hour, in the last minute\):\n  prices: 3, 3\n  news: 2, 2\n/);
    assert.match(cli.stdout, /\nnodes \(connections, messages in all\):\n  node-b: 1, 1\n  node-(a: 2, 2\n  node-c: 0, 3|c: 0, 3\n  node-a: 2, 2)\n$/);
  });

  it('the dashboard\'s overview lists every node with its health and connections', async () => {
    const overview = await waitFor(async () => {
      const res = await request(nodes[1], { path: '/dashboard/api/overview', headers: bearer(TOKEN) });
      assert.equal(res.status, 200, res.text);
      return res.json.nodes?.length === 3 && res.json;
    }, 'the overview to list three nodes');
    assert.deepEqual(overview.nodes.map((n) => n.node).sort(), ['node-a', 'node-b', 'node-c']);
    assert.equal(overview.nodes[0].node, 'node-b');
    for (const n of overview.nodes) {
      assert.equal(n.health, 'ok');
      assert.equal(n.workers, 2);
      assert.equal(typeof n.connections, 'number');
    }
  });

  it('/metrics times each Redis script call: raptor_redis_script_duration_seconds, a histogram', async () => {
    const families = await scrape(nodes[0], TOKEN);
    const family = families.raptor_redis_script_duration_seconds;
    assert.equal(family?.type, 'HISTOGRAM');
    const [sample] = family.metrics;
    assert.ok(Number(sample.count) > 0, 'the lease and the subscriptions ran scripts');
    assert.ok(Number(sample.sum) > 0);
    const cumulative = Object.entries(sample.buckets).sort(([x], [y]) => Number(x) - Number(y)).map(([, n]) => Number(n));
    assert.deepEqual(cumulative, [...cumulative].sort((x, y) => x - y));
    assert.equal(Number(sample.buckets['+Inf']), Number(sample.count));
  });

  it('a node that stops drops out of the sums once its figures expire in Redis', { timeout: EXPIRY_MS * 2 }, async () => {
    const [a, , c] = nodes;
    await (await RawClient.connect(c)).subscribe('leaving');
    await statsEverywhere([a], (s) => s.connections.current === 1, 'node-a to count node-c\'s connection');
    await c.stop();
    const [after] = await statsEverywhere([a], (s) => s.nodes.length === 2, 'node-c to drop out', EXPIRY_MS);
    assert.equal(after.connections.current, 0);
    assert.deepEqual(after.nodes.map((n) => n.node).sort(), ['node-a', 'node-b']);
  });
});
