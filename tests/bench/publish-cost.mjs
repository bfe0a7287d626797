// What one signed HTTP publish costs the server, in instructions (valgrind's callgrind counts
// them, so the figure does not depend on what else the machine is doing). Runs the server under
// callgrind twice, with N and 2N publishes over one keep-alive connection to a channel with one
// WebSocket subscriber; the difference over N is the cost of a publish, start-up excluded.
//   node tests/bench/publish-cost.mjs [--raptor build/raptor] [--publishes 2000] [--chunked]
// --chunked sends each body with Transfer-Encoding: chunked instead of Content-Length.
// Figures: docs/performance.md#http-publish-cost.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from '../integration/node_modules/ws/index.js';
import { signedQuery } from '../integration/lib/signature.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const raptor = path.resolve(option('--raptor', 'build/raptor'));
const publishes = Number(option('--publishes', '2000'));
const chunked = args.includes('--chunked');
const app = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
const port = 6300 + Math.floor(Math.random() * 500);

async function instructions(n) {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'publish-cost-')), 'callgrind.out');
  const server = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, raptor,
    '--port', String(port), '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  while (!/listening on/.test(log)) await new Promise((r) => setTimeout(r, 100));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${app.key}?protocol=7`);
  let received = 0;
  ws.on('message', (m) => {
    const e = JSON.parse(m);
    if (e.event === 'pusher:connection_established')
      ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'cost' } }));
    if (e.event === 'tick') received++;
  });
  await new Promise((resolve) => ws.on('message', (m) => {
    if (JSON.parse(m).event === 'pusher_internal:subscription_succeeded') resolve();
  }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const apiPath = `/apps/${app.id}/events`;
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ name: 'tick', channel: 'cost', data: `{"i":${i}}` });
    const query = new URLSearchParams(signedQuery(app, 'POST', apiPath, { body }));
    const headers = { 'Content-Type': 'application/json' };
    if (!chunked) headers['Content-Length'] = Buffer.byteLength(body);
    await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `${apiPath}?${query}`, agent, headers },
        (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end(body);
    });
  }
  while (received < n) await new Promise((r) => setTimeout(r, 50));
  agent.destroy();
  ws.close();
  server.kill('SIGINT');
  await once(server, 'exit');
  const summary = readFileSync(out, 'utf8').match(/^summary: (\d+)/m) ?? readFileSync(out, 'utf8').match(/^totals: (\d+)/m);
  return Number(summary[1]);
}

const one = await instructions(publishes);
const two = await instructions(2 * publishes);
console.log(JSON.stringify({ raptor, publishes, chunked, instructions_per_publish: Math.round((two - one) / publishes) }));
