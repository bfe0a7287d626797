// Cross-node delivery through Redis: one redis-server and three raptor nodes (--workers 1 each) on
// loopback, S WebSocket subscribers on each node on one channel, and HTTP publishes to node A over
// P keep-alive connections (each a publisher whose order is checked), open loop at each rate (latency from the scheduled send time, so a
// publisher that falls behind shows). Reports, per rate: deliveries/s, latency p50/p99/max for the
// subscribers on node A (local) and on B and C (through Redis), loss/duplicates/out-of-order
// counted exactly, and the CPU each process spent per published event.
//
//   node tests/bench/cluster.mjs [--subscribers 10] [--publishers 1] [--rates 200,1000,3000] [--duration 5]
//
// RAPTOR_BIN (default build/raptor) and REDIS_SERVER (default redis-server). Everything runs on
// this machine, bench included: the figures compare configurations, they are not capacities.
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { signedQuery } from '../integration/lib/signature.mjs';

const require = createRequire(fileURLToPath(new URL('../integration/package.json', import.meta.url)));
const WebSocket = require('ws');

const opts = { subscribers: 10, publishers: 1, rates: '200,1000,3000', duration: 5, payload: 100 };
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const SUBS = Number(opts.subscribers);
const PUBLISHERS = Number(opts.publishers);
const RATES = String(opts.rates).split(',').map(Number);
const DURATION_S = Number(opts.duration);
const BIN = process.env.RAPTOR_BIN || fileURLToPath(new URL('../../build/raptor', import.meta.url));
const REDIS = process.env.REDIS_SERVER || 'redis-server';
const APP = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms, monotonic
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function cpuMs(pid) { // utime + stime of the process, in ms
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ = 100 on Linux
}

async function until(probe, what, ms = 15000) {
  const end = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const children = [];
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', () => {});
  children.push(child);
  return child;
}

// --- the cluster
const redisPort = await freePort();
const redis = start(REDIS, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
await until(() => new Promise((resolve) => {
  const s = net.connect(redisPort, '127.0.0.1', () => { s.end(); resolve(true); }).on('error', () => resolve(false));
}), 'redis-server');
const nodes = [];
for (const id of ['a', 'b', 'c']) {
  const port = await freePort();
  const child = start(BIN, ['--port', String(port), '--workers', '1', '--redis', `redis://127.0.0.1:${redisPort}`, '--node-id', id]);
  nodes.push({ id, port, child });
}
// /health shows the cluster's state to signed requests only.
const healthPath = () => `/health?${new URLSearchParams(signedQuery(APP, 'GET', '/health'))}`;
for (const n of nodes) await until(async () => JSON.parse(await get(n.port, healthPath())).cluster.redis === 'up', `node ${n.id}`);

// --- subscribers
const stats = nodes.map(() => ({ lat: [], delivered: 0, dup: 0, outOfOrder: 0 }));
const subscribers = [];
for (const [k, n] of nodes.entries()) {
  for (let i = 0; i < SUBS; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${n.port}/app/${APP.key}?protocol=7`, { perMessageDeflate: false });
    const sub = { ws, last: new Map(), seen: new Set() }; // last sequence number per publisher
    subscribers.push(sub);
    await new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (raw) => {
        const at = now();
        const f = JSON.parse(raw);
        if (f.event === 'pusher:connection_established') ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'bench' } }));
        else if (f.event === 'pusher_internal:subscription_succeeded') resolve();
        else if (f.event === 'e') {
          const d = JSON.parse(f.data);
          const s = stats[k];
          s.delivered++;
          s.lat.push(at - d.t);
          if (sub.seen.has(d.s)) s.dup++;
          else if (d.s < (sub.last.get(d.p) ?? -1)) s.outOfOrder++;
          sub.seen.add(d.s);
          sub.last.set(d.p, Math.max(sub.last.get(d.p) ?? -1, d.s));
        }
      });
    });
  }
}

// --- publishers: keep-alive connections to node A, signed as the HTTP API wants
const agents = Array.from({ length: PUBLISHERS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
function publish(agent, body) {
  const md5 = createHash('md5').update(body).digest('hex');
  const query = `auth_key=${APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&body_md5=${md5}`;
  const sig = createHmac('sha256', APP.secret).update(`POST\n/apps/${APP.id}/events\n${query}`).digest('hex');
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: nodes[0].port, method: 'POST', agent,
      path: `/apps/${APP.id}/events?${query}&auth_signature=${sig}`, headers: { 'content-type': 'application/json' } },
    (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const pad = 'x'.repeat(Number(opts.payload));
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const pids = { redis: redis.pid, a: nodes[0].child.pid, b: nodes[1].child.pid, c: nodes[2].child.pid };
let seq = 0;
const rows = [];
for (const rate of RATES) {
  for (const s of stats) Object.assign(s, { lat: [], delivered: 0, dup: 0, outOfOrder: 0 });
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuMs(p)]));
  const total = rate * DURATION_S;
  const t0 = now();
  let sent = 0, ok = 0;
  const inflight = [];
  while (sent < total) { // open loop: each event carries its scheduled time
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const t = t0 + (sent * 1000) / rate;
      const p = sent % PUBLISHERS;
      inflight.push(publish(agents[p], JSON.stringify({ name: 'e', channel: 'bench', data: JSON.stringify({ s: seq++, p, t, pad }) }))
        .then((status) => { if (status === 200) ok++; }));
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  const expected = ok * SUBS;
  await until(async () => stats.every((s) => s.delivered >= expected), 'every delivery', 10000).catch(() => {});
  const elapsed = (now() - t0) / 1000;
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, ((cpuMs(p) - cpu0[k]) * 1000) / Math.max(1, ok)]));
  const remote = [...stats[1].lat, ...stats[2].lat].sort((x, y) => x - y);
  const local = stats[0].lat.sort((x, y) => x - y);
  const delivered = stats.reduce((n, s) => n + s.delivered, 0);
  rows.push({
    rate, published: ok, deliveries_per_s: Math.round(delivered / elapsed),
    local_p50: pct(local, 50), local_p99: pct(local, 99),
    remote_p50: pct(remote, 50), remote_p99: pct(remote, 99), remote_max: remote[remote.length - 1],
    missing: expected * 3 - delivered, dup: stats.reduce((n, s) => n + s.dup, 0),
    out_of_order: stats.reduce((n, s) => n + s.outOfOrder, 0),
    cpu_us_per_event: cpu,
  });
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
console.log(`\n3 nodes (--workers 1), ${SUBS} subscribers per node on one channel, publishes to node A over ${PUBLISHERS} keep-alive HTTP connection(s), ${DURATION_S} s per rate\n`);
console.log('| publishes/s | deliveries/s | local p50 / p99 ms | cross-node p50 / p99 / max ms | missing | dup | out of order | CPU µs per publish: redis, A, B, C |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const c = r.cpu_us_per_event;
  console.log(`| ${r.rate} | ${r.deliveries_per_s} | ${f(r.local_p50)} / ${f(r.local_p99)} | ${f(r.remote_p50)} / ${f(r.remote_p99)} / ${f(r.remote_max)} | ${r.missing} | ${r.dup} | ${r.out_of_order} | ${Math.round(c.redis)}, ${Math.round(c.a)}, ${Math.round(c.b)}, ${Math.round(c.c)} |`);
}
console.log(`\n${JSON.stringify(rows)}`);
for (const s of subscribers) s.ws.terminate();
for (const agent of agents) agent.destroy();
for (const c of children) c.kill('SIGTERM');
process.exit(0);
