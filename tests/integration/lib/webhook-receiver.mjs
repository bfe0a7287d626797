// A real webhook receiver: a node HTTP server on 127.0.0.1 (or `host`) that checks every POST with the
// `pusher` SDK's own validator (pusher.webhook({headers, rawBody}).isValid()), as an app would.
// What it answers is up to the test (`answer`); the events of the POSTs it answered with 2xx are
// the ones "delivered", kept in an Inbox so a test can wait for them.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import PusherServer from 'pusher';
import { freePort } from './raptor.mjs';
import { Inbox } from './wait.mjs';

export class WebhookReceiver {
  // app: {id, key, secret}; answer(delivery, n): status code (or a promise of one) for the n-th
  // POST (from 1); port: listen there (e.g. one reserved before raptor started); tls: {key, cert}
  // to serve https; host: the address to listen on ('::1' for IPv6).
  constructor(app, { answer = () => 200, port = 0, tls = null, host = '127.0.0.1' } = {}) {
    this.sdk = new PusherServer({ appId: app.id, key: app.key, secret: app.secret });
    this.answer = answer;
    this.port = port;
    this.tls = tls;
    this.host = host;
    this.deliveries = []; // every POST: {headers, body, valid, time_ms, events, status}
    this.events = new Inbox(); // events of POSTs answered 2xx, each with its delivery's time_ms
    this.accepted = []; // the same, kept in arrival order
    this.sockets = new Set();
  }

  // Reserves a port without listening: raptor can be pointed at a receiver that is down.
  static async reserve(app, options = {}) {
    return new WebhookReceiver(app, { ...options, port: await freePort() });
  }

  get url() { return this.urlVia(this.host.includes(':') ? `[${this.host}]` : this.host); }
  // The URL with another name for the host (one mapped to it in a hosts file).
  urlVia(host) { return `${this.tls ? 'https' : 'http'}://${host}:${this.port}/webhooks`; }

  async start() {
    const handle = (req, res) => this.#handle(req, res);
    this.server = this.tls ? https.createServer(this.tls, handle) : http.createServer(handle);
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    this.server.listen(this.port, this.host);
    await once(this.server, 'listening');
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
    this.server = null;
  }

  async #handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    const webhook = this.sdk.webhook({ headers: req.headers, rawBody: body });
    const valid = req.method === 'POST' && req.url === '/webhooks' && webhook.isValid();
    const delivery = {
      headers: req.headers, body, valid,
      time_ms: valid ? webhook.getTime().getTime() : undefined,
      events: valid ? webhook.getEvents() : [],
    };
    this.deliveries.push(delivery);
    const status = await this.answer(delivery, this.deliveries.length);
    if (req.socket.destroyed) { // raptor gave up waiting (its timeout): nothing was delivered
      delivery.status = 'abandoned';
      return;
    }
    delivery.status = status;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
    if (valid && status >= 200 && status < 300) {
      for (const e of delivery.events) {
        this.accepted.push(e);
        this.events.push(e);
      }
    }
  }

  // Resolves with the next delivered event matching {name, channel, ...} exactly on those fields.
  take(fields, ms) {
    const match = (e) => Object.entries(fields).every(([k, v]) => e[k] === v);
    return this.events.take(match, `webhook ${JSON.stringify(fields)}`, ms);
  }

  // Delivered events of `channel`, as "name" or "name:user_id".
  history(channel) {
    return this.accepted.filter((e) => e.channel === channel).map((e) => (e.user_id ? `${e.name}:${e.user_id}` : e.name));
  }

  invalid() { return this.deliveries.filter((d) => !d.valid); }
}
