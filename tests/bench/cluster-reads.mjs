// What the cluster's HTTP API reads cost (docs/cluster.md#http-api-answers): sequential signed GETs
// on one keep-alive connection to a node with --redis and to one without, for one channel and for
// the channel list (names only, and with subscription_count), with N occupied channels seeded in
// Redis as the occupancy script keeps them (3 nodes' fields each). Reports each GET's latency
// (p50/p99, as the client sees it) and Redis's own CPU per script call (INFO commandstats).
//
//   node tests/bench/cluster-reads.mjs [--channels 100,1000,10000] [--requests 300]
//
// RAPTOR_BIN (default build/raptor), REDIS_SERVER (default redis-server).
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { healthDetails } from '../integration/lib/http-api.mjs';
import { Raptor } from '../integration/lib/raptor.mjs';
import { RedisServer } from '../integration/lib/redis.mjs';
import { waitFor } from '../integration/lib/wait.mjs';

const require = createRequire(fileURLToPath(new URL('../integration/package.json', import.meta.url)));
const PusherServer = require('pusher');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}
const sizes = option('channels', '100,1000,10000').split(',').map(Number);
const requests = Number(option('requests', '300'));

function sdk(node) {
  const { app } = node;
  return new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: node.host, port: String(node.port),
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
}

async function timed(client, path, params) {
  const ms = [];
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    const res = await client.get({ path, params });
    await res.text();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return `p50 ${ms[Math.floor(ms.length / 2)].toFixed(2)} ms / p99 ${ms[Math.floor(ms.length * 0.99)].toFixed(2)} ms`;
}

async function evalUsec(redis) {
  const info = await redis.command('INFO', 'commandstats');
  const line = info.split('\r\n').find((l) => l.startsWith('cmdstat_evalsha:'));
  await redis.command('CONFIG', 'RESETSTAT');
  return line ? `${line.match(/usec_per_call=([\d.]+)/)[1]} µs in Redis per call` : 'no call';
}

const redis = new RedisServer();
await redis.start();
const clustered = new Raptor({ args: ['--redis', redis.url, '--node-id', 'bench', '--workers', '1'] });
const alone = new Raptor({ args: ['--workers', '1'] });
await Promise.all([clustered.start(), alone.start()]);
await waitFor(async () => (await healthDetails(clustered)).cluster?.redis === 'up', 'Redis up');
const app = clustered.app.id;
let seeded = 0;
for (const n of sizes) {
  for (; seeded < n; seeded++) {
    const channel = `bench-${seeded}`;
    await redis.command('HSET', `raptor:occupancy:${app}:${channel}`, 'n1', '2', 'n2', '3', 'n3', '1');
    await redis.command('SADD', `raptor:channels:${app}`, channel);
  }
  console.log(`${n} occupied channels in Redis:`);
  for (const [what, path, params] of [
    ['one channel', '/channels/bench-0', { info: 'subscription_count' }],
    ['list, names', '/channels', {}],
    ['list, subscription_count', '/channels', { info: 'subscription_count' }],
  ]) {
    await redis.command('CONFIG', 'RESETSTAT');
    const viaRedis = await timed(sdk(clustered), path, params);
    const usec = await evalUsec(redis);
    console.log(`  ${what}: cluster ${viaRedis} (${usec}); single node ${await timed(sdk(alone), path, params)}`);
  }
}
await Promise.all([clustered.stop(), alone.stop()]);
await redis.stop();
process.exit(0);
