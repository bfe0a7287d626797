// Fan-out as the write path sees it: queued frames leave coalesced, several per send(), with
// WebSocket headers Raptor writes itself. Every subscriber must still get every frame whole, in
// order, at every header size (7-bit, 16-bit and 64-bit lengths).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertBurstDelivered } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

serverSuite('fan-out', {}, (server, { stillServing }) => {
  it('delivers a burst of mixed-size events from one publisher to every subscriber whole and in order', async () => {
    const subscribers = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(server)));
    for (const s of subscribers) await s.subscribe('burst');
    // Sizes straddle the 125- and 65535-byte header boundaries of one frame.
    const sizes = [0, 1, 70, 100, 124, 125, 126, 200, 1000, 9000, 10000];
    const sent = [];
    for (let i = 0; i < 60; i++) {
      const data = `${i}:`.padEnd(2 + sizes[i % sizes.length], 'x');
      sent.push(data);
    }
    // Queued behind each other, the frames go out coalesced, whichever worker a subscriber is on.
    await assertBurstDelivered(server, subscribers, 'burst', sent);
  });

  it('sends a presence roster over 64 KiB (a 64-bit length header) intact', async () => {
    const info = { bio: 'y'.repeat(900) };
    const members = [];
    for (let i = 0; i < 80; i++) {
      const m = await RawClient.connect(server);
      await m.subscribe('presence-big', { channelData: JSON.stringify({ user_id: `u${i}`, user_info: info }) });
      members.push(m);
    }
    const last = await RawClient.connect(server);
    const ok = await last.subscribe('presence-big', { channelData: JSON.stringify({ user_id: 'last', user_info: info }) });
    assert.ok(ok.raw.length > 65535, `roster frame is ${ok.raw.length} bytes`);
    assert.equal(ok.payload.presence.count, 81);
    assert.deepEqual(ok.payload.presence.hash.u42, info);
    // The first member hears about "last" too, with its full user_info.
    const added = await members[0].next((f) => f.event === 'pusher_internal:member_added' && f.payload?.user_id === 'last');
    assert.deepEqual(added.payload.user_info, info);
    await stillServing();
  });
});
