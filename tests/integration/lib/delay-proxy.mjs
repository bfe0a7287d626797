// A TCP proxy in front of one server that delays what clients send it by a fixed time, in order:
// a slow link from one raptor node to Redis, made without network namespaces. Replies come back
// at once.
import { once } from 'node:events';
import net from 'node:net';

export class DelayProxy {
  // target: {host, port}; delayMs: how long each chunk a client sends waits before it goes on.
  constructor(target, delayMs) {
    Object.assign(this, { target, delayMs });
    this.sockets = new Set();
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  async start() {
    this.server = net.createServer((client) => this.#pipe(client));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  #pipe(client) {
    const upstream = net.connect(this.target.port, this.target.host ?? '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), this.delayMs));
    client.on('end', () => setTimeout(() => upstream.end(), this.delayMs));
    upstream.pipe(client);
  }
}
