// HTTP API publishing: POST /apps/{id}/events and /batch_events, through the `pusher` SDK for the
// happy paths and by hand for the requests the server must refuse.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { assertApiError, postEvents, signedRequest } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

async function subscriber(server, ...channels) {
  const client = await RawClient.connect(server);
  for (const channel of channels) await client.subscribe(channel, channel.startsWith('presence-') ? { channelData: '{"user_id":"u"}' } : {});
  return client;
}

const postBatch = (server, batch) =>
  signedRequest(server, { method: 'POST', path: `/apps/${server.app.id}/batch_events`, body: { batch } });

serverSuite('HTTP events', {}, (server, { stillServing }) => {
  it('delivers an SDK trigger as {event, channel, data} with data the string sent', async () => {
    const client = await subscriber(server, 'orders');
    const res = await serverSdk(server).trigger('orders', 'created', { id: 1 });
    assert.deepEqual(await res.json(), {});
    const frame = await client.next('created', 'orders');
    assert.deepEqual(JSON.parse(frame.raw), { event: 'created', channel: 'orders', data: '{"id":1}' });
  });

  for (const data of ['{ "spaced" :  true ,"n":1.50 }', 'not JSON at all — ünïcödé ✓', '']) {
    it(`passes data ${JSON.stringify(data)} through verbatim`, async () => {
      const client = await subscriber(server, 'verbatim');
      const res = await postEvents(server, { name: 'raw', channel: 'verbatim', data });
      assert.equal(res.status, 200, res.text);
      assert.equal((await client.next('raw', 'verbatim')).data, data);
    });
  }

  it('publishes to several channels at once, up to 100', async () => {
    const client = await subscriber(server, 'multi-0', 'multi-57', 'multi-99');
    const channels = Array.from({ length: 100 }, (_, i) => `multi-${i}`);
    await serverSdk(server).trigger(channels, 'fanout', { ok: 1 });
    for (const channel of ['multi-0', 'multi-57', 'multi-99']) await client.next('fanout', channel);
  });

  it('excludes the connection named by socket_id, and only that one', async () => {
    const [excluded, other] = [await subscriber(server, 'excl'), await subscriber(server, 'excl')];
    await serverSdk(server).trigger('excl', 'not-for-you', {}, { socket_id: excluded.socketId });
    await serverSdk(server).trigger('excl', 'marker', {});
    await other.next('not-for-you', 'excl');
    await excluded.next('marker', 'excl');
    assert.deepEqual(excluded.frames.pending((f) => f.event === 'not-for-you'), [], 'frames of one connection stay in order');
  });

  it('answers info=user_count,subscription_count with per-channel counts', async () => {
    await subscriber(server, 'presence-counted', 'counted');
    await subscriber(server, 'counted');
    const res = await serverSdk(server).trigger(['presence-counted', 'counted'], 'e', {}, { info: 'user_count,subscription_count' });
    const { channels } = await res.json();
    assert.equal(channels['presence-counted'].user_count, 1);
    assert.equal(channels.counted.subscription_count, 2);
    assert.equal(channels.counted.user_count, undefined, 'user_count only for presence channels');
  });

  it('delivers a batch and answers {}', async () => {
    const client = await subscriber(server, 'batch-a', 'batch-b');
    const res = await serverSdk(server).triggerBatch([
      { channel: 'batch-a', name: 'one', data: { n: 1 } },
      { channel: 'batch-b', name: 'two', data: { n: 2 } },
    ]);
    assert.deepEqual(await res.json(), {});
    assert.deepEqual((await client.next('one', 'batch-a')).payload, { n: 1 });
    assert.deepEqual((await client.next('two', 'batch-b')).payload, { n: 2 });
  });

  it('answers a batch with info index-aligned under "batch"', async () => {
    await subscriber(server, 'batch-info');
    const res = await serverSdk(server).triggerBatch([
      { channel: 'batch-info', name: 'x', data: {}, info: 'subscription_count' },
      { channel: 'batch-info', name: 'y', data: {} },
    ]);
    assert.deepEqual(await res.json(), { batch: [{ subscription_count: 1 }, {}] });
  });

  it('accepts data of exactly 10240 bytes', async () => {
    const client = await subscriber(server, 'sized');
    const res = await postEvents(server, { name: 'big', channel: 'sized', data: 'é'.repeat(5120) });
    assert.equal(res.status, 200, res.text);
    assert.equal((await client.next('big', 'sized')).data.length, 5120);
  });

  const tooMany = Array.from({ length: 101 }, (_, i) => `c${i}`);
  const badEvents = [
    ['malformed JSON', '{"name":"e","channels":["a"],"data":', 400],
    ['a body that is not an object', '["e"]', 400],
    ['no name', { channels: ['a'], data: '{}' }, 400],
    ['no data', { name: 'e', channels: ['a'] }, 400],
    ['no channels', { name: 'e', data: '{}' }, 400],
    ['an empty channel list', { name: 'e', channels: [], data: '{}' }, 400],
    ['101 channels', { name: 'e', channels: tooMany, data: '{}' }, 400],
    ['an invalid channel name', { name: 'e', channels: ['bad name'], data: '{}' }, 400],
    ['a channel name over 200 characters', { name: 'e', channel: 'c'.repeat(201), data: '{}' }, 400],
    ['a socket_id that is not digits.digits', { name: 'e', channels: ['a'], data: '{}', socket_id: 'abc' }, 400],
    ['a socket_id with three parts', { name: 'e', channels: ['a'], data: '{}', socket_id: '1.2.3' }, 400],
    ['data over 10240 bytes', { name: 'e', channels: ['a'], data: 'x'.repeat(10241) }, 413],
  ];
  for (const [what, body, status] of badEvents) {
    it(`refuses an event with ${what} (${status}), and keeps serving`, async () => {
      assertApiError(await postEvents(server, body), status);
      await stillServing();
    });
  }

  const item = (n) => ({ channel: `b${n}`, name: 'e', data: '{}' });
  const badBatches = [
    ['11 items', Array.from({ length: 11 }, (_, i) => item(i)), 400],
    ['an item without name', [item(0), { channel: 'b', data: '{}' }], 400],
    ['an item without data', [{ channel: 'b', name: 'e' }], 400],
    ['an item with an invalid channel', [{ ...item(0), channel: 'no way' }], 400],
    ['an item with data over 10240 bytes', [item(0), { ...item(1), data: 'x'.repeat(10241) }], 413],
    ['no batch array', undefined, 400],
  ];
  for (const [what, batch, status] of badBatches) {
    it(`refuses a batch with ${what} (${status}), delivers none of it, keeps serving`, async () => {
      const client = await subscriber(server, 'b0');
      assertApiError(await postBatch(server, batch), status);
      await serverSdk(server).trigger('b0', 'marker', {});
      await client.next('marker', 'b0');
      assert.deepEqual(client.frames.pending((f) => f.event === 'e'), [], 'a refused batch is not half-delivered');
      await stillServing();
    });
  }
});
