// What the cluster's webhook stream (docs/cluster.md#webhook-delivery) adds per webhook: the time
// from the event (a cache_miss, emitted when a client subscribes to an empty cache channel) to
// the receiver's POST, with and without --redis, and the Redis commands per webhook (INFO
// commandstats before and after). One event at a time, batch window 0, so the figures are the
// path's own latency, not the 50 ms batch window; with --redis, `nodes` nodes read the stream.
// Then the same number of events in one burst, for the Redis commands per webhook when reads and
// acknowledgements are batched.
//
//   node tests/bench/webhook-stream.mjs [--events 300] [--nodes 2]
//
// RAPTOR_BIN (default build/raptor), REDIS_SERVER (default redis-server).
import { clusterNode } from '../integration/lib/cluster.mjs';
import { healthDetails } from '../integration/lib/http-api.mjs';
import { Raptor } from '../integration/lib/raptor.mjs';
import { RedisServer } from '../integration/lib/redis.mjs';
import { waitFor } from '../integration/lib/wait.mjs';
import { WebhookReceiver } from '../integration/lib/webhook-receiver.mjs';
import { RawClient } from '../integration/lib/ws-client.mjs';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const events = Number(option('events', '300'));
const nodeCount = Number(option('nodes', '2'));
const APP = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
const COMMANDS = ['xadd', 'xreadgroup', 'xack', 'xclaim', 'xautoclaim', 'ping', 'xgroup|create'];

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function commandStats(redis) {
  const text = await redis.command('INFO', 'commandstats');
  const calls = {};
  for (const line of text.split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) calls[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return calls;
}

async function measure(label, { redis } = {}) {
  const receiver = await new WebhookReceiver(APP).start();
  const args = ['--webhook', `${receiver.url};events=cache_miss`, '--webhook-batch-ms', '0'];
  const nodes = redis
    ? Array.from({ length: nodeCount }, (_, i) => clusterNode(redis, `bench-${i}`, args))
    : [new Raptor({ args: [...args, '--workers', '2'] })];
  await Promise.all(nodes.map((n) => n.start()));
  if (redis) {
    await Promise.all(nodes.map((n) => waitFor(async () => {
      const json = await healthDetails(n);
      return json.webhooks?.stream?.state === 'up';
    }, 'the stream to be up', 20000)));
  }
  const client = await RawClient.connect(nodes[0]);
  const before = redis ? await commandStats(redis) : null;
  const latencies = [];
  for (let i = 0; i < events; i++) {
    const channel = `cache-bench-${i}`;
    const t0 = process.hrtime.bigint();
    client.sendSubscribe(channel);
    await receiver.take({ name: 'cache_miss', channel }, 10000);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const after = redis ? await commandStats(redis) : null;
  latencies.sort((a, b) => a - b);
  const line = [`${label}: ${events} events, event -> POST p50 ${percentile(latencies, 50).toFixed(2)} ms`,
    `p90 ${percentile(latencies, 90).toFixed(2)} ms`, `p99 ${percentile(latencies, 99).toFixed(2)} ms`];
  console.log(line.join(', '));
  if (redis) {
    const per = COMMANDS.map((c) => {
      const calls = (after[c]?.calls ?? 0) - (before[c]?.calls ?? 0);
      const usec = (after[c]?.usec ?? 0) - (before[c]?.usec ?? 0);
      return calls ? `${c} ${(calls / events).toFixed(2)}/event (${(usec / Math.max(calls, 1)).toFixed(1)} us each)` : null;
    }).filter(Boolean);
    console.log(`  Redis commands per webhook: ${per.join(', ')}`);
  }
  if (redis) {
    const start = await commandStats(redis);
    for (let i = 0; i < events; i++) client.sendSubscribe(`cache-burst-${i}`);
    for (let i = 0; i < events; i++) await receiver.take({ name: 'cache_miss', channel: `cache-burst-${i}` }, 10000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the last acknowledgements
    const end = await commandStats(redis);
    const per = COMMANDS.map((c) => {
      const calls = (end[c]?.calls ?? 0) - (start[c]?.calls ?? 0);
      return calls ? `${c} ${(calls / events).toFixed(2)}/event` : null;
    }).filter(Boolean);
    const usec = COMMANDS.reduce((sum, c) => sum + (end[c]?.usec ?? 0) - (start[c]?.usec ?? 0), 0);
    console.log(`  in one burst of ${events}: ${per.join(', ')}; Redis CPU ${(usec / events).toFixed(1)} us per webhook`);
  }
  await client.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await receiver.stop();
}

await measure('without --redis');
const redis = new RedisServer();
await redis.start();
try {
  await measure(`with --redis (${nodeCount} nodes reading the stream)`, { redis });
} finally {
  await redis.stop();
}
