// How a graceful drain spreads its closes (docs/cluster.md#graceful-shutdown): one raptor with two
// workers and N raw WebSocket clients, SIGTERM, then when each client was closed (and with which
// code), in 250 ms buckets from the signal, and when the process exited. One node process drives
// every client: with many thousands on a loaded machine it lags behind, and the figures then
// measure it rather than raptor (raptor's own log line says when its last connection closed).
//
//   node tests/bench/drain.mjs [--clients 2000] [--drain-seconds 4]
//
// RAPTOR_BIN as for the integration tests (default build/raptor).
import { createRequire } from 'node:module';
import { Raptor } from '../integration/lib/raptor.mjs';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const WebSocket = require('ws');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at > 0 ? process.argv[at + 1] : fallback);
}

const clients = option('clients', 2000);
const seconds = option('drain-seconds', 4);
const server = new Raptor({ args: ['--workers', '2', '--drain-seconds', String(seconds)] });
await server.start();
const closes = [];
const told = []; // when each client read its pusher:error 4200, which comes just before the close
await Promise.all(Array.from({ length: clients }, () => new Promise((resolve, reject) => {
  const ws = new WebSocket(server.wsUrl('/app/app-key?protocol=7'));
  ws.once('message', resolve); // connection_established
  ws.on('message', (data) => { if (String(data).includes('pusher:error')) told.push(Date.now()); });
  ws.once('error', reject);
  ws.once('close', (code) => closes.push({ code, at: Date.now() }));
})));
const signalled = Date.now();
const { code } = await server.stop();
const exited = Date.now() - signalled;
const histogram = (ats) => {
  const buckets = new Array(Math.ceil((seconds * 1000) / 250) + 4).fill(0);
  for (const at of ats) buckets[Math.min(buckets.length - 1, Math.floor((at - signalled) / 250))]++;
  return buckets;
};
const times = closes.map((c) => c.at - signalled);
console.log(JSON.stringify({
  clients, drain_seconds: seconds, exit_code: code, exited_after_ms: exited,
  close_codes: [...new Set(closes.map((c) => c.code))], first_close_ms: Math.min(...times),
  last_close_ms: Math.max(...times), told_per_250ms: histogram(told), closes_per_250ms: histogram(closes.map((c) => c.at)),
}));
console.log(server.stderr.split("\n").filter((l) => /drain|webhooks:/.test(l)).join("\n"));
