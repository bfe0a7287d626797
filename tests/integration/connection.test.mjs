// WebSocket connection: handshake, heartbeats, fatal close codes and non-fatal invalid messages.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { assertClosedWith } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { nextEmit } from './lib/wait.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

serverSuite('connection', {}, (server, { stillServing }) => {
  it('sends connection_established with a double-encoded socket_id and activity_timeout', async () => {
    const client = await RawClient.connect(server);
    const frame = client.established;
    assert.equal(typeof frame.data, 'string', 'data is a JSON string');
    assert.match(frame.payload.socket_id, /^\d+\.\d+$/);
    assert.equal(frame.payload.activity_timeout, 120);
  });

  it('gives every connection its own socket_id', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(server)));
    assert.equal(new Set(clients.map((c) => c.socketId)).size, 3);
  });

  it('answers pusher:ping with pusher:pong', async () => {
    const client = await RawClient.connect(server);
    client.send({ event: 'pusher:ping', data: {} });
    const pong = await client.next('pusher:pong');
    assert.deepEqual(pong.data, {});
  });

  it('answers a WebSocket protocol ping with a pong carrying the same payload', async () => {
    const client = await RawClient.connect(server);
    client.ws.ping('are-you-there');
    const [payload] = await nextEmit(client.ws, 'pong');
    assert.equal(payload.toString(), 'are-you-there');
  });

  for (const protocol of [4, 5, 6, 7]) {
    it(`accepts protocol=${protocol}`, async () => {
      const client = await RawClient.connect(server, { query: `?protocol=${protocol}&client=js&version=8.6.0` });
      assert.match(client.socketId, /^\d+\.\d+$/);
    });
  }

  const refusals = [
    ['an unknown app key', `/app/no-such-key${PUSHER_QUERY}`, 4001],
    ['a non-integer protocol', '/app/app-key?protocol=abc&client=js&version=8.6.0', 4006],
    ['a protocol with trailing junk', '/app/app-key?protocol=7x&client=js&version=8.6.0', 4006],
    ['protocol 3', '/app/app-key?protocol=3&client=js&version=8.6.0', 4007],
    ['protocol 0', '/app/app-key?protocol=0&client=js&version=8.6.0', 4007],
    ['protocol 8', '/app/app-key?protocol=8&client=js&version=8.6.0', 4007],
    ['no protocol parameter', '/app/app-key?client=js&version=8.6.0', 4008],
    ['a path other than /app/{key}', `/socket${PUSHER_QUERY}`, 4005],
    ['a path below /app/{key}', `/app/app-key/extra${PUSHER_QUERY}`, 4005],
  ];
  for (const [what, path, code] of refusals) {
    it(`closes with ${code} on ${what}, and keeps serving others`, async () => {
      const client = await RawClient.open(server, path);
      await assertClosedWith(client, code);
      await stillServing();
    });
  }

  const invalidMessages = [
    ['malformed JSON', '{"event":"pusher:ping",'],
    ['a binary frame', Buffer.from('{"event":"pusher:ping","data":{}}'), { binary: true }],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"pusher:ping"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['a message without event', '{"data":{}}'],
    ['a non-string event', '{"event":42,"data":{}}'],
    ['an unknown pusher: event', '{"event":"pusher:teleport","data":{}}'],
    ['a subscribe without data', '{"event":"pusher:subscribe"}'],
    ['a subscribe without channel', '{"event":"pusher:subscribe","data":{"auth":""}}'],
    ['a subscribe with a non-string channel', '{"event":"pusher:subscribe","data":{"channel":7,"auth":""}}'],
  ];
  for (const [what, message, options] of invalidMessages) {
    it(`answers ${what} with pusher:error 4300 and stays open`, async () => {
      const client = await RawClient.connect(server);
      client.sendRaw(message, options);
      const error = await client.nextError(4300);
      assert.equal(typeof error.data.message, 'string');
      await client.sync();
      await stillServing();
    });
  }

  it('still subscribes and delivers on a connection after every kind of invalid message', async () => {
    const client = await RawClient.connect(server);
    for (const [, message, options] of invalidMessages) client.sendRaw(message, options);
    for (let i = 0; i < invalidMessages.length; i++) await client.nextError(4300);
    await client.subscribe('after-garbage');
    await serverSdk(server).trigger('after-garbage', 'news', { ok: true });
    const frame = await client.next('news', 'after-garbage');
    assert.deepEqual(frame.payload, { ok: true });
  });

  it('accepts a message of exactly 64 KiB', async () => {
    const client = await RawClient.connect(server);
    client.sendRaw(padded({ event: 'pusher:ping', data: {} }, 64 * 1024));
    await client.next('pusher:pong');
  });

  it('closes with 1009 on a message larger than 64 KiB, and keeps serving others', async () => {
    const client = await RawClient.connect(server);
    client.sendRaw(padded({ event: 'pusher:ping', data: {} }, 64 * 1024 + 1));
    assert.equal((await client.closed).code, 1009);
    await stillServing();
  });
});

// The message as JSON, padded through data.pad to exactly `bytes` bytes.
function padded(message, bytes) {
  const empty = JSON.stringify({ ...message, data: { ...message.data, pad: '' } });
  return JSON.stringify({ ...message, data: { ...message.data, pad: 'x'.repeat(bytes - empty.length) } });
}
