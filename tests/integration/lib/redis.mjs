// A real redis-server for cluster tests: started on a free loopback port with no persistence,
// stopped (or killed and started again on the same port) by the test, and a minimal RESP client
// to look at what raptor keeps in it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { freePort } from './raptor.mjs';
import { waitFor, withTimeout } from './wait.mjs';

const REDIS_BIN = process.env.REDIS_SERVER || 'redis-server';

export class RedisServer {
  // host: the address it listens on and the tests reach it at ('::1' for IPv6).
  constructor({ host = '127.0.0.1' } = {}) { this.host = host; }

  get url() { return `redis://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`; }

  // Starts redis-server (on `port` when given, e.g. to restart it; `args` are more of its
  // options) and waits for it to answer.
  async start(port, args = []) {
    this.port = port ?? await freePort();
    this.output = '';
    this.child = spawn(REDIS_BIN, ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.exited = once(this.child, 'exit');
    const answers = () => this.command('PING').then((r) => r === 'PONG', (err) => /NOAUTH/.test(err.message));
    await waitFor(answers,
      `redis-server on port ${this.port} to answer PING (output: ${this.output.slice(-500)})`);
  }

  // kill -9: the connections drop as if the machine had gone.
  async kill() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, 'redis-server to exit');
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await withTimeout(this.exited, 'redis-server to exit');
  }

  // One command on a fresh connection; resolves its reply (strings, numbers, arrays, null), or
  // rejects with a Redis error.
  command(...args) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, this.host);
      let buffer = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('connect', () => {
        socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
      });
      socket.on('data', (d) => {
        buffer = Buffer.concat([buffer, d]);
        const parsed = parseReply(buffer, 0);
        if (!parsed) return;
        socket.end();
        if (parsed.value instanceof Error) reject(parsed.value);
        else resolve(parsed.value);
      });
    });
  }
}

// One RESP2 reply at `at`: {value, end}, or null when `buffer` does not hold all of it yet.
function parseReply(buffer, at) {
  const eol = buffer.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buffer.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buffer[at])) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buffer.length < next + n + 2) return null;
      return { value: buffer.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buffer, end);
        if (!item) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default: throw new Error(`unexpected RESP reply: ${line}`);
  }
}
