// A bare WebSocket client that speaks the Pusher protocol by hand, so tests see every frame and
// close code exactly as the server sent them and can send anything, valid or not.
import WebSocket from 'ws';
import { channelAuth, userAuth } from './signature.mjs';
import { Inbox, TIMEOUT_MS, withTimeout } from './wait.mjs';

export const PUSHER_QUERY = '?protocol=7&client=js&version=8.6.0';

// Frames whose data is a JSON string (double encoded) get it parsed into `frame.payload`.
function decode(raw, isBinary) {
  if (isBinary) return { binary: raw };
  const text = raw.toString();
  let frame;
  try { frame = JSON.parse(text); } catch { return { notJson: text }; }
  frame.raw = text;
  if (typeof frame.data === 'string') {
    try { frame.payload = JSON.parse(frame.data); } catch { /* plain string data */ }
  }
  return frame;
}

export class RawClient {
  #opened; // settles when the socket opened or was refused

  // Opens the socket; resolves once it is open (or closed/refused, see `closed`).
  // `perMessageDeflate` is ws's option (offered by default, for messages over 1 KB); `origin`
  // the Origin header a browser would send (none by default); `headers` more request headers;
  // `localAddress` the loopback address to connect from (127.0.0.2: a client that is not the proxy).
  static async open(server, path, { autoPong = true, app = server.app, perMessageDeflate, origin, headers, localAddress } = {}) {
    const client = new RawClient(server, path, { autoPong, app, perMessageDeflate, origin, headers, localAddress });
    await withTimeout(client.#opened, `WebSocket ${path} to open`);
    return client;
  }

  // Opens /app/{key} and waits for pusher:connection_established.
  static async connect(server, { app = server.app, query = PUSHER_QUERY, autoPong, perMessageDeflate, origin } = {}) {
    const client = await RawClient.open(server, `/app/${app.key}${query}`, { autoPong, app, perMessageDeflate, origin });
    client.established = await client.next('pusher:connection_established');
    client.socketId = client.established.payload.socket_id;
    return client;
  }

  constructor(server, path, { autoPong, app, perMessageDeflate = true, origin, headers, localAddress }) {
    this.app = app;
    this.frames = new Inbox();
    this.ws = new WebSocket(server.wsUrl(path), { ...server.tlsOptions, maxPayload: 0, perMessageDeflate, origin, headers, localAddress });
    this.untrack = server.track(() => this.close());
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      // A refused upgrade is a close too, reported with the HTTP status instead of a code.
      this.ws.once('unexpected-response', (req, res) => {
        resolve({ code: null, httpStatus: res.statusCode });
        req.destroy();
      });
    });
    this.#opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.closed.then(resolve);
      this.ws.once('error', (err) => (this.ws.readyState === WebSocket.CONNECTING ? reject(err) : undefined));
    });
    this.ws.on('error', () => {}); // close codes carry the outcome
    this.ws.on('message', (raw, isBinary) => {
      const frame = decode(raw, isBinary);
      if (autoPong && frame.event === 'pusher:ping') this.send({ event: 'pusher:pong', data: {} });
      this.frames.push(frame);
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(message) { this.ws.send(JSON.stringify(message)); }
  sendRaw(data, options = {}) { this.ws.send(data, options); }

  // Next frame with that event name (and channel, if given), or matching a predicate.
  next(eventOrMatch, channel, ms = TIMEOUT_MS) {
    const match = typeof eventOrMatch === 'function'
      ? eventOrMatch
      : (f) => f.event === eventOrMatch && (channel === undefined || f.channel === channel);
    return this.frames.take(match, `${eventOrMatch}${channel ? ` on ${channel}` : ''}`, ms);
  }

  nextError(code) {
    return this.frames.take((f) => f.event === 'pusher:error' && f.data?.code === code, `pusher:error ${code}`);
  }

  // Round trip through the server: every frame the server queued for this socket before it
  // handled our ping has arrived once the pong is here (frames of one connection stay in order).
  async sync() {
    this.send({ event: 'pusher:ping', data: {} });
    await this.next('pusher:pong');
  }

  // Sends pusher:subscribe; private/presence channels are signed for this socket unless `auth` is
  // given (null leaves the field out). `channelData` is the raw channel_data string (presence).
  sendSubscribe(channel, { auth, channelData } = {}) {
    const signed = /^(private-|presence-)/.test(channel) ? channelAuth(this.app, this.socketId, channel, channelData) : '';
    const data = { channel };
    if (auth !== null) data.auth = auth === undefined ? signed : auth;
    if (channelData !== undefined) data.channel_data = channelData;
    this.send({ event: 'pusher:subscribe', data });
  }

  async subscribe(channel, options) {
    this.sendSubscribe(channel, options);
    return this.next('pusher_internal:subscription_succeeded', channel);
  }

  // A subscribe the server must refuse: both the connection-level pusher:error and the
  // channel-scoped pusher:subscription_error.
  async subscribeRefused(channel, options, code) {
    this.sendSubscribe(channel, options);
    const [error, subscriptionError] = await Promise.all([
      this.nextError(code),
      this.next('pusher:subscription_error', channel),
    ]);
    return { error, subscriptionError };
  }

  // Sends pusher:signin with `userData` (an object, or a raw string), signed for this socket
  // unless `auth` is given.
  sendSignin(userData, { auth } = {}) {
    const text = typeof userData === 'string' ? userData : JSON.stringify(userData);
    this.send({ event: 'pusher:signin', data: { auth: auth ?? userAuth(this.app, this.socketId, text), user_data: text } });
  }

  async signin(userData, options) {
    this.sendSignin(userData, options);
    return this.next('pusher:signin_success');
  }

  unsubscribe(channel) { this.send({ event: 'pusher:unsubscribe', data: { channel } }); }

  trigger(channel, event, data) { this.send({ event, channel, data }); }

  async close() {
    this.untrack();
    if (this.ws.readyState === WebSocket.CLOSED) return this.closed;
    this.ws.close(1000);
    try {
      return await withTimeout(this.closed, 'close handshake', 2000);
    } catch {
      this.ws.terminate();
      return this.closed;
    }
  }
}
