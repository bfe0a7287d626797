// permessage-deflate (--compression on): clients that ask get compressed frames, whole and in
// order at every size, and may send compressed messages; without the flag nobody gets it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { assertBurstDelivered } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const DEFLATE = { threshold: 0 }; // ws compresses every message it sends, however small
const negotiated = (client) => client.ws.extensions;

// Compressible and incompressible data, across the 1 KB receive chunk lws uses with deflate, and
// under Pusher's 10 KB limit for event data.
const payloads = () => [
  '', 'x', 'y'.repeat(1000), 'z'.repeat(1100), 'text '.repeat(1900), randomBytes(7000).toString('base64'),
];

serverSuite('compression on', { args: ['--compression', 'on'] }, (server, { stillServing }) => {
  it('agrees permessage-deflate with a client that asks, and delivers every event whole and in order', async () => {
    const subscribers = await Promise.all(Array.from({ length: 3 }, () => RawClient.connect(server, { perMessageDeflate: DEFLATE })));
    for (const s of subscribers) {
      assert.match(negotiated(s), /permessage-deflate/);
      await s.subscribe('squeezed');
    }
    const sent = [];
    for (let round = 0; round < 5; round++) for (const p of payloads()) sent.push(`${sent.length}:${p}`);
    await assertBurstDelivered(server, subscribers, 'squeezed', sent);
    await stillServing();
  });

  it('really compresses: repetitive events take a fraction of their size on the wire', async () => {
    const client = await RawClient.connect(server, { perMessageDeflate: DEFLATE });
    await client.subscribe('wire');
    const before = client.ws._socket.bytesRead;
    const data = 'the same words again '.repeat(450); // 9,450 bytes
    for (let i = 0; i < 20; i++) await serverSdk(server).trigger('wire', 'e', data);
    for (let i = 0; i < 20; i++) assert.equal((await client.next('e', 'wire')).data, data);
    const onWire = client.ws._socket.bytesRead - before;
    assert.ok(onWire < 20 * data.length / 10, `${onWire} bytes on the wire for ${20 * data.length} bytes of data`);
  });

  it('takes compressed client messages of every size, beyond the 1 KB inflate chunk', async () => {
    const [sender, receiver] = await Promise.all([0, 1].map(() => RawClient.connect(server, { perMessageDeflate: DEFLATE })));
    await sender.subscribe('private-squeezed');
    await receiver.subscribe('private-squeezed');
    for (const p of payloads()) {
      sender.trigger('private-squeezed', 'client-blob', { p });
      assert.equal((await receiver.next('client-blob', 'private-squeezed')).data.p, p);
    }
  });

  it('serves clients that do not ask for compression alongside those that do', async () => {
    const plain = await RawClient.connect(server, { perMessageDeflate: false });
    const squeezed = await RawClient.connect(server, { perMessageDeflate: DEFLATE });
    assert.equal(negotiated(plain), '');
    assert.match(negotiated(squeezed), /permessage-deflate/);
    for (const c of [plain, squeezed]) await c.subscribe('mixed');
    const data = 'm'.repeat(5000);
    await serverSdk(server).trigger('mixed', 'e', data);
    for (const c of [plain, squeezed]) assert.equal((await c.next('e', 'mixed')).data, data);
  });

  it('works with unmodified pusher-js', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'news');
    const inbox = inboxOf((cb) => channel.bind('headline', cb));
    await serverSdk(server).trigger('news', 'headline', { title: 't'.repeat(3000) });
    assert.deepEqual((await inbox.take()).data, { title: 't'.repeat(3000) });
  });
});

serverSuite('compression off (the default)', {}, (server) => {
  it('declines permessage-deflate and still serves the client that asked', async () => {
    const client = await RawClient.connect(server, { perMessageDeflate: DEFLATE });
    assert.equal(negotiated(client), '');
    await client.subscribe('plain');
    await serverSdk(server).trigger('plain', 'e', { ok: true });
    assert.deepEqual((await client.next('e', 'plain')).payload, { ok: true });
  });
});
