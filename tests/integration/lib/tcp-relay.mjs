// What the test's TCP middlemen share (lib/balancer.mjs, lib/delay-proxy.mjs): a listening
// socket on loopback and every connection's two ends, destroyed at stop(). A subclass says what
// to do with each client in relay(client), and hands the sockets it opens to own().
import { once } from 'node:events';
import net from 'node:net';

export class TcpRelay {
  constructor(host = '127.0.0.1') {
    this.host = host;
    this.sockets = new Set();
  }

  async start() {
    this.server = net.createServer((client) => this.relay(client));
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

  own(socket) {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }
}
