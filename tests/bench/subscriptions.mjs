// What many subscriptions on one connection cost (docs/performance.md#many-subscriptions-on-one-connection):
// one raptor worker, one WebSocket client that subscribes N distinct public channels in one burst
// ("make": from the first subscribe sent to the last subscription_succeeded read), then drops its
// socket; meanwhile a second client on the same worker pings in a loop, one ping after each pong,
// and the longest round trip around the close is how long the worker stalled leaving the channels.
//
//   node tests/bench/subscriptions.mjs [--subscriptions 10000] [--raptor-args "--max-subscriptions 20000"]
//
// RAPTOR_BIN as for the integration tests (default build/raptor). A build with the subscription
// limits needs them raised (--raptor-args) to take more than their defaults.
import { createRequire } from 'node:module';
import { Raptor } from '../integration/lib/raptor.mjs';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const WebSocket = require('ws');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const subscriptions = Number(option('subscriptions', '10000'));
const extraArgs = option('raptor-args', '').split(' ').filter(Boolean);

function connect(server, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl('/app/app-key?protocol=7'));
    ws.once('message', () => {
      ws.on('message', (raw) => onFrame(JSON.parse(String(raw))));
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

const server = new Raptor({ args: ['--workers', '1', ...extraArgs] });
await server.start();

let succeeded = 0;
let refused = 0;
let answered;
const allAnswered = new Promise((resolve) => { answered = resolve; });
const holder = await connect(server, (f) => {
  if (f.event === 'pusher_internal:subscription_succeeded') succeeded++;
  else if (f.event === 'pusher:subscription_error') refused++;
  else return;
  if (succeeded + refused === subscriptions) answered();
});
const started = process.hrtime.bigint();
for (let i = 0; i < subscriptions; i++) holder.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: `bench-${i}` } }));
await allAnswered;
const makeMs = Number(process.hrtime.bigint() - started) / 1e6;

// The prober: one ping in flight at a time; the longest round trip while the holder closes.
let longest = 0;
let probing = true;
let sentAt;
let probe;
const probed = new Promise((resolve) => {
  connect(server, (f) => {
    if (f.event !== 'pusher:pong') return;
    longest = Math.max(longest, Number(process.hrtime.bigint() - sentAt) / 1e6);
    if (!probing) return resolve();
    sentAt = process.hrtime.bigint();
    probe.send('{"event":"pusher:ping","data":{}}');
  }).then((ws) => {
    probe = ws;
    sentAt = process.hrtime.bigint();
    probe.send('{"event":"pusher:ping","data":{}}');
  });
});
await new Promise((r) => setTimeout(r, 200));
longest = 0; // only what happens around the close
holder.terminate();
await new Promise((r) => setTimeout(r, Math.max(1000, makeMs * 3)));
probing = false;
await probed;

console.log(`${subscriptions} subscriptions on one connection (--workers 1${extraArgs.length ? ` ${extraArgs.join(' ')}` : ''}):`);
console.log(`  make: ${makeMs.toFixed(0)} ms (${succeeded} succeeded, ${refused} refused)`);
console.log(`  close: the other connection's longest ping round trip ${longest.toFixed(0)} ms`);
probe.terminate();
await server.stop();
