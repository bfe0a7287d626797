// What permessage-deflate costs the server: memory per connection and CPU per delivered frame,
// with and without compression, measured on a running raptor (started with --compression on).
//
//   node tests/bench/compression.mjs PORT PID [CONNS] [EVENTS]
//
// Opens CONNS WebSocket clients with Node's ws (which the integration tests install), half asking
// for permessage-deflate and half not, in two separate rounds, and for each round prints the RSS
// growth per connection and the server CPU time per delivered event (from /proc/PID/stat) while
// EVENTS events of ~1 KB JSON are published through the HTTP API. Prints one JSON line per round.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const WebSocket = require('ws');

const [port, pid] = [Number(process.argv[2]), Number(process.argv[3])];
const conns = Number(process.argv[4] || 500);
const events = Number(process.argv[5] || 200);
if (!port || !pid) {
  console.error('usage: node tests/bench/compression.mjs PORT PID [CONNS] [EVENTS]');
  process.exit(2);
}
const app = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
const ticks = 100; // USER_HZ

function serverStat() {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const rss = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  return { cpuS: (Number(fields[11]) + Number(fields[12])) / ticks, rss };
}

function publish(channel, data) {
  const body = JSON.stringify({ name: 'e', channel, data });
  const path = `/apps/${app.id}/events`;
  const q = { auth_key: app.key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0',
    body_md5: createHash('md5').update(body).digest('hex') };
  const signed = Object.keys(q).sort().map((k) => `${k}=${q[k]}`).join('&');
  q.auth_signature = createHmac('sha256', app.secret).update(`POST\n${path}\n${signed}`).digest('hex');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: `${path}?${new URLSearchParams(q)}`, method: 'POST',
      headers: { 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
}

async function round(deflate) {
  const channel = deflate ? 'bench-deflate' : 'bench-plain';
  const before = serverStat();
  let received = 0;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  const sockets = await Promise.all(Array.from({ length: conns }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${app.key}?protocol=7`, { perMessageDeflate: deflate ? { threshold: 0 } : false });
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const f = JSON.parse(raw);
      if (f.event === 'pusher:connection_established') ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel } }));
      else if (f.event === 'pusher_internal:subscription_succeeded') resolve(ws);
      else if (f.event === 'e' && ++received === conns * (events + 1)) done();
    });
  })));
  if (deflate && !sockets.every((ws) => ws.extensions.includes('permessage-deflate'))) throw new Error('deflate not agreed: run raptor with --compression on');
  await publish(channel, 'warm-up'); // every connection compresses once, so its deflate state exists
  while (received < conns) await new Promise((r) => setTimeout(r, 10));
  const connected = serverStat();
  const data = JSON.stringify({ message: 'hello '.repeat(120), n: 0 }); // ~750 bytes, compressible like chat text
  for (let i = 0; i < events; i++) await publish(channel, data);
  await all;
  const after = serverStat();
  for (const ws of sockets) ws.terminate();
  const deliveries = conns * events;
  return {
    deflate, conns, events,
    rss_per_conn_bytes: Math.round((connected.rss - before.rss) / conns),
    server_us_per_delivery: Number((((after.cpuS - connected.cpuS) * 1e6) / deliveries).toFixed(2)),
  };
}

for (const deflate of [false, true]) {
  console.log(JSON.stringify(await round(deflate)));
  await new Promise((r) => setTimeout(r, 500));
}
