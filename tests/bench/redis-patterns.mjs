// What wildcard subscriptions cost Redis in a cluster (docs/cluster.md#wildcard-subscriptions):
// Redis compares every PUBLISH with every distinct pattern PSUBSCRIBEd. For N globs of the shape
// raptor gives a per-user pattern (raptor:ch:app:private-users.{n}.?*), this PUBLISHes to a
// channel none matches and to one that one matches, and reports Redis's own CPU per PUBLISH
// (INFO commandstats usec_per_call), which does not depend on the client's speed.
//
//   node tests/bench/redis-patterns.mjs [--patterns 0,100,1000,10000] [--publishes 20000]
//
// REDIS_SERVER (default redis-server).
import net from 'node:net';
import { RedisServer } from '../integration/lib/redis.mjs';
import { waitFor } from '../integration/lib/wait.mjs';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const counts = option('patterns', '0,100,1000,10000').split(',').map(Number);
const publishes = Number(option('publishes', '20000'));

function encode(...args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}

// A connection that sends `text` and resolves once `replies` lines starting with ':' arrived
// (PUBLISH answers integers), or never resolves when `replies` is 0 (a subscriber, read and dropped).
function connection(port, text, replies) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let seen = 0;
    socket.on('data', (d) => {
      if (!replies) return;
      for (const byte of d) if (byte === 0x3a) seen++; // ':' (PUBLISH payloads are never read back here)
      if (seen >= replies) resolve(socket);
    });
    if (!replies) resolve(socket);
  });
}

const redis = new RedisServer();
await redis.start();
try {
  console.log('| distinct patterns | µs of Redis CPU per PUBLISH, no match | one match |');
  console.log('|---|---|---|');
  for (const n of counts) {
    const globs = Array.from({ length: n }, (_, i) => `raptor:ch:app:private-users.${i}.?*`);
    const subscriber = n ? await connection(redis.port, encode('PSUBSCRIBE', ...globs), 0) : null;
    await waitFor(async () => (await redis.command('PUBSUB', 'NUMPAT')) === n, `${n} patterns subscribed`, 30000);
    const row = [];
    for (const channel of ['raptor:ch:app:news.1', 'raptor:ch:app:private-users.5.inbox']) {
      await redis.command('CONFIG', 'RESETSTAT');
      const publisher = await connection(redis.port, encode('PUBLISH', channel, 'x').repeat(publishes), publishes);
      publisher.destroy();
      const stats = await redis.command('INFO', 'commandstats');
      row.push(stats.match(/cmdstat_publish:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/)[1]);
    }
    console.log(`| ${n} | ${row.join(' | ')} |`);
    subscriber?.destroy();
  }
} finally {
  await redis.stop();
}
