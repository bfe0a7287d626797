// A TCP load balancer in front of raptor nodes, as an operator runs one (HAProxy or nginx in TCP
// mode): each new connection goes to the first node of its list that accepts it, so a node
// that drains, and has closed its listening socket, is passed over. Clients (pusher-js) point
// at the balancer and reconnect through it.
import net from 'node:net';
import { TcpRelay } from './tcp-relay.mjs';

export class Balancer extends TcpRelay {
  // nodes: Raptor objects, in order of preference.
  constructor(nodes) {
    super();
    this.nodes = nodes;
    this.routed = new Map(); // node -> connections it was given
    this.app = nodes[0].app;
    this.tls = null;
    this.tlsOptions = {};
  }

  relay(client) { this.#route(client, 0); }

  // What the client helpers need of a server (lib/clients.mjs): they connect here.
  wsUrl(path) { return `ws://${this.host}:${this.port}${path}`; }
  // Clients made through it are closed with its first node's (Raptor.closeClients).
  track(close) { return this.nodes[0].track(close); }

  // What the client sends before its node is chosen stays buffered in its socket until piped.
  #route(client, i) {
    this.own(client);
    const node = this.nodes[i];
    if (!node) {
      client.destroy();
      return;
    }
    const upstream = this.own(net.connect(node.port, node.host));
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
}
