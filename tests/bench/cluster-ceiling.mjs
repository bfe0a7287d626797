// The ceiling of one Redis (docs/cluster.md#the-ceiling-of-one-redis): how many publishes/s and
// presence changes/s one redis-server carries for a cluster of N raptor nodes (N node processes
// on this machine, one worker each), and where it saturates first. For each N:
//  - publishes: one subscriber per node on one channel (so every publish fans out to N nodes in
//    Redis), and P closed-loop publishers over keep-alive HTTP spread over the nodes;
//  - presence: C clients per node joining and leaving one presence channel in a loop (each join
//    and each leave is one script call in Redis, and a member_added/removed published to every
//    node).
// Reports the rate reached, Redis's CPU (used_cpu_sys + used_cpu_user over the run, as % of one
// core: Redis runs commands on one thread, so near 100 % it is the bottleneck), its calls per
// command, and the nodes' and this client's CPU, so the first to saturate shows.
//
//   node tests/bench/cluster-ceiling.mjs [--nodes 3,10] [--duration 5] [--publishers 8] [--presence-clients 2]
//
// RAPTOR_BIN (default build/raptor), REDIS_SERVER (default redis-server). On a shared machine,
// the figures say where this machine's ceiling is, not Redis's.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { healthDetails, postEvents } from '../integration/lib/http-api.mjs';
import { Raptor } from '../integration/lib/raptor.mjs';
import { RedisServer } from '../integration/lib/redis.mjs';
import { RawClient } from '../integration/lib/ws-client.mjs';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const NODE_COUNTS = option('nodes', '3,10').split(',').map(Number);
const DURATION_MS = Number(option('duration', '5')) * 1000;
const PUBLISHERS = Number(option('publishers', '8'));
const PRESENCE_CLIENTS = Number(option('presence-clients', '2'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid) { // utime + stime, from /proc (USER_HZ = 100 on Linux)
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function redisStats(redis) {
  const cpu = await redis.command('INFO', 'cpu');
  const field = (name) => Number(cpu.match(new RegExp(`${name}:([\\d.]+)`))[1]);
  const commands = {};
  for (const m of (await redis.command('INFO', 'commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g))
    commands[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return { cpu: field('used_cpu_sys') + field('used_cpu_user'), commands };
}

// CPU of Redis, the nodes and this client over `run`, which returns the count of what it did.
async function measured(redis, nodes, run) {
  await redis.command('CONFIG', 'RESETSTAT');
  const before = { redis: await redisStats(redis), nodes: nodes.map((n) => cpuSeconds(n.child.pid)), client: process.cpuUsage() };
  const started = Date.now();
  const count = await run();
  const seconds = (Date.now() - started) / 1000;
  const after = await redisStats(redis);
  const client = process.cpuUsage(before.client);
  const nodeCpu = nodes.map((n, i) => cpuSeconds(n.child.pid) - before.nodes[i]);
  // The commands Redis spent most time in (scripts' inner commands are counted apart too).
  const calls = Object.entries(after.commands).filter(([name]) => !['info', 'config'].includes(name))
    .sort(([, a], [, b]) => b.usec - a.usec).slice(0, 3)
    .map(([name, c]) => `${name} ${Math.round(c.calls / seconds)}/s × ${(c.usec / c.calls).toFixed(1)} µs`).join(', ');
  return {
    rate: Math.round(count / seconds),
    redisCpu: Math.round((100 * (after.cpu - before.redis.cpu)) / seconds),
    nodeCpu: Math.round((100 * nodeCpu.reduce((a, b) => a + b, 0)) / seconds / nodes.length),
    clientCpu: Math.round((client.user + client.system) / 1e4 / seconds),
    calls,
  };
}

async function publishes(nodes) {
  const subscribers = await Promise.all(nodes.map(async (node) => {
    const c = await RawClient.connect(node, { perMessageDeflate: false });
    await c.subscribe('ceiling');
    c.received = 0;
    c.ws.on('message', () => { c.received++; });
    return c;
  }));
  const deadline = Date.now() + DURATION_MS;
  let published = 0;
  await Promise.all(Array.from({ length: PUBLISHERS }, async (_, p) => {
    const node = nodes[p % nodes.length];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // one connection each
    const body = { name: 'e', channel: 'ceiling', data: JSON.stringify({ p }) };
    while (Date.now() < deadline) {
      if ((await postEvents(node, body, { agent, framing: 'length' })).status === 200) published++;
    }
    agent.destroy();
  }));
  await sleep(500); // the last deliveries
  const delivered = subscribers.reduce((sum, c) => sum + c.received, 0);
  await Promise.all(subscribers.map((c) => c.close()));
  if (delivered < published * nodes.length) console.error(`  (publishes: ${published * nodes.length - delivered} deliveries missing after 0.5 s)`);
  return published;
}

async function presenceChanges(nodes) {
  const clients = [];
  for (const node of nodes)
    for (let i = 0; i < PRESENCE_CLIENTS; i++) clients.push(await RawClient.connect(node, { perMessageDeflate: false }));
  const deadline = Date.now() + DURATION_MS;
  let changes = 0;
  await Promise.all(clients.map(async (c, k) => {
    const channelData = JSON.stringify({ user_id: `user-${k}` });
    let joined = null;
    c.ws.on('message', (raw) => {
      if (joined && raw.toString().includes('"pusher_internal:subscription_succeeded"')) joined();
    });
    while (Date.now() < deadline) {
      await new Promise((resolve) => {
        joined = resolve;
        c.sendSubscribe('presence-ceiling', { channelData });
      });
      c.unsubscribe('presence-ceiling');
      changes += 2;
    }
  }));
  await Promise.all(clients.map((c) => c.close()));
  return changes;
}

console.log(`one redis-server, N raptor nodes (--workers 1) on this machine, ${DURATION_MS / 1000} s per run; `
  + `${PUBLISHERS} closed-loop publishers, ${PRESENCE_CLIENTS} presence clients per node\n`);
console.log('| nodes | what | rate/s | Redis CPU % of a core | node CPU % (mean) | client CPU % | Redis calls |');
console.log('|---|---|---|---|---|---|---|');
for (const count of NODE_COUNTS) {
  const redis = new RedisServer();
  await redis.start();
  const nodes = Array.from({ length: count }, (_, i) => new Raptor({
    args: ['--workers', '1', '--redis', redis.url, '--node-id', `ceiling-${i}`, '--subscriptions-per-second', '1000000'],
  }));
  try {
    await Promise.all(nodes.map((n) => n.start()));
    for (const n of nodes) {
      for (let i = 0; i < 300 && (await healthDetails(n)).cluster?.redis !== 'up'; i++) await sleep(100);
    }
    for (const [what, run] of [['publishes', publishes], ['presence changes', presenceChanges]]) {
      const r = await measured(redis, nodes, () => run(nodes));
      console.log(`| ${count} | ${what} | ${r.rate} | ${r.redisCpu} | ${r.nodeCpu} | ${r.clientCpu} | ${r.calls} |`);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await redis.stop();
  }
}
process.exit(0);
