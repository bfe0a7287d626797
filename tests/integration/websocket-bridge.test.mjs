// WebSocket upgrades that do not come first on a plain connection: a later request on a
// kept-alive connection (proxies reuse idle upstream connections for them), and every upgrade on
// the TLS port. libwebsockets serves them through a socket pair (docs/protocol.md#http); the
// client must not notice, and raptor.rb still sees the client's own address.
import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { serverSdk } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { withTimeout } from './lib/wait.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';
import WebSocket from 'ws';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the self-signed certificate, in this process only

// Admits loopback clients only, naming the address it saw otherwise.
const loopbackOnly = configFile('loopback-only.rb', `
admit { |c| c.remote_address == "127.0.0.1" ? pass : deny("not loopback: #{c.remote_address.inspect}") }
`);

// A plain connection that has been answered one request and is kept alive.
async function keptAliveConnection(server) {
  const socket = net.connect(server.port, server.host);
  let text = '';
  const onData = (d) => { text += d.toString('latin1'); };
  socket.on('data', onData);
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  await withTimeout(new Promise((resolve) => {
    const check = () => (text.endsWith('{"status":"ok"}') ? resolve() : setTimeout(check, 10));
    check();
  }), 'the first answer on the kept-alive connection');
  socket.off('data', onData);
  assert.doesNotMatch(text, /Connection: close/i);
  return socket;
}

// Opens /app/{key} over `socket` and waits for connection_established.
function connectOver(server, socket) {
  const ws = new WebSocket(server.wsUrl(`/app/${server.app.key}${PUSHER_QUERY}`), { createConnection: () => socket });
  const frames = [];
  let wake = () => {};
  ws.on('message', (m) => { frames.push(JSON.parse(m)); wake(); });
  const next = (event) => withTimeout(new Promise((resolve) => {
    const look = () => {
      const i = frames.findIndex((f) => f.event === event);
      if (i >= 0) return resolve(frames.splice(i, 1)[0]);
      wake = look;
    };
    look();
  }), event);
  return { ws, next };
}

serverSuite('WebSocket upgrade on a kept-alive plain connection', { args: ['--config', loopbackOnly] }, (server, { stillServing }) => {
  it('switches to WebSocket after an HTTP answer and carries events both ways', async () => {
    const { ws, next } = connectOver(server, await keptAliveConnection(server));
    await next('pusher:connection_established'); // admitted: the bridge kept the client's address
    ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'bridged' } }));
    await next('pusher_internal:subscription_succeeded');
    await serverSdk(server).trigger('bridged', 'through', { ok: 1 });
    assert.deepEqual(JSON.parse((await next('through')).data), { ok: 1 });
    ws.send(JSON.stringify({ event: 'pusher:ping', data: {} }));
    await next('pusher:pong');
    ws.close();
    await stillServing();
  });
});

serverSuite('WebSocket over TLS', { tls: selfSignedCertificate(), args: ['--config', loopbackOnly] }, (server, { stillServing }) => {
  it('admits by the client address and delivers events', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('secure');
    await serverSdk(server).trigger('secure', 'sealed', { n: 1 });
    assert.deepEqual((await client.next('sealed', 'secure')).payload, { n: 1 });
    await stillServing();
  });

  it('passes the server\'s close code through to the client', async () => {
    const client = await RawClient.connect(server);
    client.sendRaw('x'.repeat(70 * 1024)); // over the message limit: closed with 1009 by the server
    const { code } = await withTimeout(client.closed, 'the close through the bridge');
    assert.equal(code, 1009);
    await stillServing();
  });
});
