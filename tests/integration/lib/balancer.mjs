// A TCP load balancer in front of raptor nodes, as an operator runs one (HAProxy or nginx in TCP
// mode): each new connection goes to the first node of its list that accepts it, so a node
// that drains, and has closed its listening socket, is passed over. Clients (pusher-js) point
// at the balancer and reconnect through it.
import { once } from 'node:events';
import net from 'node:net';

export class Balancer {
  // nodes: Raptor objects, in order of preference.
  constructor(nodes) {
    this.nodes = nodes;
    this.routed = new Map(); // node -> connections it was given
    this.sockets = new Set(); // both ends of every connection, destroyed at stop()
    this.app = nodes[0].app;
    this.host = '127.0.0.1';
    this.tls = null;
    this.tlsOptions = {};
  }

  async start() {
    this.server = net.createServer((client) => this.#route(client, 0));
    this.server.listen(0, this.host);
    await once(this.server, 'listening');
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  // What the client helpers need of a server (lib/clients.mjs): they connect here.
  wsUrl(path) { return `ws://${this.host}:${this.port}${path}`; }
  // Clients made through it are closed with its first node's (Raptor.closeClients).
  track(close) { return this.nodes[0].track(close); }

  // What the client sends before its node is chosen stays buffered in its socket until piped.
  #route(client, i) {
    this.#own(client);
    const node = this.nodes[i];
    if (!node) {
      client.destroy();
      return;
    }
    const upstream = this.#own(net.connect(node.port, node.host));
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.routed.set(node, (this.routed.get(node) ?? 0) + 1);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (connected) client.destroy();
      else this.#route(client, i + 1); // refused: the next node
    });
    client.on('error', () => upstream.destroy());
  }

  #own(socket) {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }
}
