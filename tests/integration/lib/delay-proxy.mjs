// A TCP proxy in front of one server that delays what clients send it by a fixed time, in order:
// a slow link from one raptor node to Redis, made without network namespaces. Replies come back
// at once.
import net from 'node:net';
import { TcpRelay } from './tcp-relay.mjs';

export class DelayProxy extends TcpRelay {
  // target: {host, port}; delayMs: how long each chunk a client sends waits before it goes on;
  // host: where it listens (another address than loopback for a node in a network namespace).
  constructor(target, delayMs, host = undefined) {
    super(host);
    Object.assign(this, { target, delayMs });
  }

  get url() { return `redis://${this.host}:${this.port}`; }

  relay(client) {
    const upstream = net.connect(this.target.port, this.target.host ?? '127.0.0.1');
    for (const s of [client, upstream]) {
      this.own(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), this.delayMs));
    client.on('end', () => setTimeout(() => upstream.end(), this.delayMs));
    upstream.pipe(client);
  }
}
