// Client events: forwarding rules, refusals (4306, 4307; names over 200 characters), the 10/s
// rate limit (4301), user_id on presence channels, and --no-client-events.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inboxOf, pusherClient } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { withTimeout } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

// Two connections on `channel` (presence channels join as users "sender" and "receiver").
async function pair(server, channel) {
  const [sender, receiver] = await Promise.all([RawClient.connect(server), RawClient.connect(server)]);
  const as = (user_id) => (channel.startsWith('presence-') ? { channelData: JSON.stringify({ user_id }) } : {});
  await sender.subscribe(channel, as('sender'));
  await receiver.subscribe(channel, as('receiver'));
  return { sender, receiver };
}

// Once the sender's messages are handled (its pong arrived) and the receiver's queue is flushed
// (its pong arrived), every client event that was forwarded has reached the receiver.
async function settle(sender, receiver) {
  await sender.sync();
  await receiver.sync();
  return receiver.frames.pending((f) => f.event?.startsWith('client-'));
}

serverSuite('client events', {}, (server, { stillServing }) => {
  for (const data of [{ text: 'hi', nested: { list: [1, 2.5, null, true] } }, 'a plain string']) {
    it(`forwards ${typeof data} data unchanged to others, never back to the sender`, async () => {
      const { sender, receiver } = await pair(server, 'private-chat');
      const bystander = await RawClient.connect(server);
      await bystander.subscribe('private-elsewhere');
      sender.trigger('private-chat', 'client-typing', data);
      const frame = await receiver.next('client-typing', 'private-chat');
      assert.deepEqual(frame.data, data);
      assert.equal(frame.user_id, undefined, 'no user_id outside presence channels');
      assert.deepEqual(await settle(sender, receiver), []);
      assert.deepEqual(sender.frames.pending((f) => f.event === 'client-typing'), [], 'not echoed');
      await bystander.sync();
      assert.deepEqual(bystander.frames.pending((f) => f.event === 'client-typing'), []);
    });
  }

  it('adds the sender\'s user_id on presence channels', async () => {
    const { sender, receiver } = await pair(server, 'presence-room');
    sender.trigger('presence-room', 'client-wave', { hand: 'left' });
    const frame = await receiver.next('client-wave', 'presence-room');
    assert.equal(frame.user_id, 'sender');
    assert.deepEqual(frame.data, { hand: 'left' });
  });

  it('delivers data just under 10 KiB', async () => {
    const { sender, receiver } = await pair(server, 'private-sizes');
    sender.trigger('private-sizes', 'client-big', { pad: 'x'.repeat(10000) });
    assert.equal((await receiver.next('client-big')).data.pad.length, 10000);
  });

  const refused = [
    ['a name without client-', 'private-chat', 'typing', 4306],
    ['a public channel', 'news', 'client-typing', 4306],
    ['a private-encrypted- channel', 'private-encrypted-safe', 'client-typing', 4306],
    ['a channel the socket is not subscribed to', 'private-elsewhere', 'client-typing', 4306, 'private-chat'],
    ['data over 10 KiB', 'private-chat', 'client-huge', 4307],
    ['a name over 200 characters (Pusher\'s limit)', 'private-chat', `client-${'x'.repeat(194)}`, 4306],
  ];
  for (const [what, channel, event, code, subscribed = channel] of refused) {
    it(`refuses ${what} with ${code}, delivers nothing, keeps serving`, async () => {
      const { sender, receiver } = await pair(server, subscribed);
      if (subscribed !== channel) await receiver.subscribe(channel);
      sender.trigger(channel, event, code === 4307 ? { pad: 'x'.repeat(10241) } : { ok: false });
      await sender.nextError(code);
      assert.deepEqual(await settle(sender, receiver), []);
      assert.equal(receiver.frames.pending((f) => f.event === event).length, 0);
      assert.ok(sender.isOpen);
      await stillServing();
    });
  }

  it('forwards a name of exactly 200 characters', async () => {
    const { sender, receiver } = await pair(server, 'private-chat');
    const name = `client-${'x'.repeat(193)}`;
    sender.trigger('private-chat', name, { ok: true });
    assert.deepEqual((await receiver.next(name)).data, { ok: true });
  });

  it('rate-limits a burst of 25 to at most 10 per second with 4301, staying connected', async () => {
    const { sender, receiver } = await pair(server, 'private-burst');
    const burst = 25;
    const started = Date.now();
    for (let i = 0; i < burst; i++) sender.trigger('private-burst', 'client-n', { i });
    await sender.sync(); // answered after the server handled the whole burst
    // The server counts in one-second windows from the burst's first event; however slow this
    // machine, the burst met no more windows than the seconds the test saw it take.
    const windows = Math.floor((Date.now() - started) / 1000) + 1;
    const delivered = await settle(sender, receiver);
    const limited = sender.frames.pending((f) => f.event === 'pusher:error' && f.data?.code === 4301);
    assert.ok(delivered.length <= 10 * windows, `delivered ${delivered.length}, at most 10 in each of ${windows} window(s)`);
    assert.ok(limited.length >= burst - 10 * windows, `${limited.length} refused with 4301`);
    assert.equal(delivered.length + limited.length, burst, 'every event is delivered or refused');
    assert.deepEqual(delivered.map((f) => f.data.i), [...Array(delivered.length).keys()], 'the first ones get through, in order');
    assert.ok(sender.isOpen);
    await stillServing();
  });

  it('hands pusher-js the presence sender as metadata.user_id', async () => {
    const ann = await pusherClient(server, { user: { user_id: 'ann', user_info: {} } });
    const bob = await pusherClient(server, { user: { user_id: 'bob', user_info: {} } });
    const subscribed = (p) => new Promise((resolve) => p.subscribe('presence-js').bind('pusher:subscription_succeeded', resolve));
    await withTimeout(Promise.all([subscribed(ann), subscribed(bob)]), 'both pusher-js clients to subscribe');
    const inbox = inboxOf((cb) => bob.channel('presence-js').bind('client-hello', cb));
    assert.ok(ann.channel('presence-js').trigger('client-hello', { from: 'ann' }));
    const { data, metadata } = await inbox.take();
    assert.deepEqual(data, { from: 'ann' });
    assert.equal(metadata.user_id, 'ann');
  });
});

serverSuite('client events disabled (--no-client-events)', { clientEvents: false }, (server, { stillServing }) => {
  it('refuses client events with 4306 and delivers nothing', async () => {
    const { sender, receiver } = await pair(server, 'private-quiet');
    sender.trigger('private-quiet', 'client-typing', {});
    await sender.nextError(4306);
    assert.deepEqual(await settle(sender, receiver), []);
    await stillServing();
  });
});
