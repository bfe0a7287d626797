// What counting occupancy in Redis costs per subscription (docs/cluster.md#cost): one raptor
// node (one worker) and one redis-server, a WebSocket client subscribing and unsubscribing one
// channel at a time, in three set-ups: no Redis; Redis with an app without webhooks (the script
// only counts); Redis with a webhook receiver (the script also decides occupied/vacated). Each
// set-up runs twice: every change a transition (the channel's first and last subscription, the
// script's costliest path), and no transition (another connection holds every channel).
// Reports the client's subscribe round trip and Redis's own CPU per script call (INFO
// commandstats) and per change (used_cpu_sys + used_cpu_user over the run).
//
//   node tests/bench/cluster-occupancy.mjs [--changes 4000]
//
// RAPTOR_BIN (default build/raptor), REDIS_SERVER (default redis-server).
import { Raptor } from '../integration/lib/raptor.mjs';
import { RedisServer } from '../integration/lib/redis.mjs';
import { WebhookReceiver } from '../integration/lib/webhook-receiver.mjs';
import { DEFAULT_APP } from '../integration/lib/raptor.mjs';
import { RawClient } from '../integration/lib/ws-client.mjs';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const changes = Number(option('changes', '4000'));
const CHANNELS = 50;

async function redisCpu(redis) {
  const info = await redis.command('INFO', 'cpu');
  const field = (name) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))[1]);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function scriptStats(redis) {
  const info = await redis.command('INFO', 'commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function run(title, { redis, webhook, transitions }) {
  // One client subscribes thousands of times in a row: past the default subscribe rate.
  const args = ['--workers', '1', '--subscriptions-per-second', '1000000'];
  if (redis) args.push('--redis', redis.url, '--node-id', 'bench');
  if (webhook) args.push('--webhook', webhook.url);
  const node = new Raptor({ args });
  await node.start();
  try {
    const holder = transitions ? null : await RawClient.connect(node);
    if (holder) for (let i = 0; i < CHANNELS; i++) await holder.subscribe(`bench-${i}`);
    const client = await RawClient.connect(node);
    for (let i = 0; i < 200; i++) { // warm up
      await client.subscribe(`bench-${i % CHANNELS}`);
      client.unsubscribe(`bench-${i % CHANNELS}`);
    }
    await client.sync();
    if (redis) await redis.command('CONFIG', 'RESETSTAT');
    const cpuBefore = redis ? await redisCpu(redis) : 0;
    const times = [];
    for (let i = 0; i < changes / 2; i++) {
      const t = process.hrtime.bigint();
      await client.subscribe(`bench-${i % CHANNELS}`);
      times.push(Number(process.hrtime.bigint() - t) / 1000);
      client.unsubscribe(`bench-${i % CHANNELS}`);
    }
    await client.sync();
    let redisFigures = '| – | – |';
    if (redis) {
      // Until Redis has run every call sent.
      for (let n = 0; n < 100 && (await scriptStats(redis)).calls < changes; n++) await new Promise((r) => setTimeout(r, 50));
      const { calls, usec } = await scriptStats(redis);
      const cpu = (await redisCpu(redis)) - cpuBefore;
      redisFigures = `| ${(usec / calls).toFixed(1)} (${calls} calls) | ${((cpu * 1e6) / changes).toFixed(1)} |`;
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((s, x) => s + x, 0) / times.length;
    console.log(`| ${title} | ${mean.toFixed(0)} / ${percentile(times, 0.5).toFixed(0)} / ${percentile(times, 0.99).toFixed(0)} ${redisFigures}`);
  } finally {
    await node.closeClients();
    await node.stop();
  }
}

const redis = new RedisServer();
await redis.start();
const receiver = await new WebhookReceiver(DEFAULT_APP).start();
try {
  console.log(`${changes} changes (${changes / 2} subscribes, ${changes / 2} unsubscribes), ${CHANNELS} channels in turn`);
  console.log('| set-up | subscribe round trip µs mean / p50 / p99 | Redis µs per script call | Redis CPU µs per change |');
  console.log('|---|---|---|---|');
  for (const transitions of [true, false]) {
    const what = transitions ? 'every change a transition' : 'no transition';
    await run(`no Redis, ${what}`, { transitions });
    await run(`Redis, no webhooks, ${what}`, { redis, transitions });
    await run(`Redis and a webhook receiver, ${what}`, { redis, webhook: receiver, transitions });
  }
} finally {
  await receiver.stop();
  await redis.stop();
}
