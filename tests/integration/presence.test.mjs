// Presence channels: roster, per-user member_added/member_removed, limits and channel_data checks.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet } from './lib/clients.mjs';
import { AUTH_ERROR, LIMIT_REACHED, assertSubscribeRefused } from './lib/refusals.mjs';
import { channelAuth } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

// Connects and joins `channel` as `user`; resolves {client, presence} (the roster it was given).
async function join(server, channel, user) {
  const client = await RawClient.connect(server);
  const ok = await client.subscribe(channel, { channelData: JSON.stringify(user) });
  assert.equal(typeof ok.data, 'string', 'subscription_succeeded data is a JSON string');
  return { client, presence: ok.payload.presence };
}

const memberEvents = (client) => client.frames.pending((f) => /^pusher_internal:member_/.test(f.event));

serverSuite('presence', {}, (server, { stillServing }) => {
  it('gives the joiner the roster: ids, hash and count', async () => {
    const { presence } = await join(server, 'presence-roster', { user_id: 'ann', user_info: { name: 'Ann' } });
    assert.deepEqual(presence, { ids: ['ann'], hash: { ann: { name: 'Ann' } }, count: 1 });
    const second = await join(server, 'presence-roster', { user_id: 'bob', user_info: { name: 'Bob' } });
    assert.deepEqual([...second.presence.ids].sort(), ['ann', 'bob']);
    assert.deepEqual(second.presence.hash, { ann: { name: 'Ann' }, bob: { name: 'Bob' } });
    assert.equal(second.presence.count, 2);
  });

  it('announces a new member to the others only, as a JSON string', async () => {
    const { client: ann } = await join(server, 'presence-hello', { user_id: 'ann', user_info: { name: 'Ann' } });
    const { client: bob } = await join(server, 'presence-hello', { user_id: 'bob', user_info: { name: 'Bob' } });
    const added = await ann.next('pusher_internal:member_added', 'presence-hello');
    assert.equal(typeof added.data, 'string');
    assert.deepEqual(added.payload, { user_id: 'bob', user_info: { name: 'Bob' } });
    await bob.sync();
    assert.deepEqual(memberEvents(bob), [], 'the joiner gets no member_added about itself');
  });

  it('reports a numeric user_id as a string', async () => {
    const { client: watcher } = await join(server, 'presence-numeric', { user_id: 'w' });
    const { presence } = await join(server, 'presence-numeric', { user_id: 42, user_info: {} });
    assert.ok(presence.ids.includes('42'));
    assert.ok('42' in presence.hash);
    assert.equal((await watcher.next('pusher_internal:member_added')).payload.user_id, '42');
  });

  it('counts a user once however many connections it has', async () => {
    const { client: watcher } = await join(server, 'presence-tabs', { user_id: 'w' });
    await join(server, 'presence-tabs', { user_id: 'tab-user' });
    const { presence } = await join(server, 'presence-tabs', { user_id: 'tab-user' });
    assert.equal(presence.count, 2);
    assert.deepEqual([...presence.ids].sort(), ['tab-user', 'w']);
    await watcher.sync();
    assert.equal(memberEvents(watcher).length, 1, 'one member_added for two connections');
    assert.deepEqual(await apiGet(server, '/channels/presence-tabs', { info: 'user_count' }), { occupied: true, user_count: 2 });
  });

  it('sends member_removed only when the last connection of a user disconnects', async () => {
    const { client: watcher } = await join(server, 'presence-bye', { user_id: 'w' });
    const { client: tab1 } = await join(server, 'presence-bye', { user_id: 'leaver' });
    const { client: tab2 } = await join(server, 'presence-bye', { user_id: 'leaver' });
    await watcher.next('pusher_internal:member_added');
    await tab1.close();
    await watcher.sync();
    assert.deepEqual(memberEvents(watcher), [], 'no member_removed while another tab is open');
    await tab2.close();
    const removed = await watcher.next('pusher_internal:member_removed', 'presence-bye');
    assert.equal(typeof removed.data, 'string');
    assert.deepEqual(removed.payload, { user_id: 'leaver' });
  });

  it('sends member_removed when the last connection unsubscribes', async () => {
    const { client: watcher } = await join(server, 'presence-unsub', { user_id: 'w' });
    const { client: tab1 } = await join(server, 'presence-unsub', { user_id: 'u' });
    const { client: tab2 } = await join(server, 'presence-unsub', { user_id: 'u' });
    await watcher.next('pusher_internal:member_added');
    tab1.unsubscribe('presence-unsub');
    await tab1.sync();
    await watcher.sync();
    assert.deepEqual(memberEvents(watcher), []);
    tab2.unsubscribe('presence-unsub');
    assert.deepEqual((await watcher.next('pusher_internal:member_removed')).payload, { user_id: 'u' });
  });

  it('does not add a member twice on a duplicate subscribe', async () => {
    const { client: watcher } = await join(server, 'presence-dup', { user_id: 'w' });
    const { client } = await join(server, 'presence-dup', { user_id: 'dup' });
    await client.subscribe('presence-dup', { channelData: JSON.stringify({ user_id: 'dup' }) });
    await client.sync();
    await watcher.sync();
    assert.equal(memberEvents(watcher).length, 1);
  });

  it('takes 100 distinct users, refuses the 101st (4305), still admits a known user', async () => {
    const channel = 'presence-full';
    for (let batch = 0; batch < 100; batch += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => join(server, channel, { user_id: `u${batch + i}` })));
    }
    const late = await RawClient.connect(server);
    await assertSubscribeRefused(late, channel, { channelData: JSON.stringify({ user_id: 'u100' }) }, LIMIT_REACHED);
    const { presence } = await join(server, channel, { user_id: 'u7' });
    assert.equal(presence.count, 100);
    await stillServing();
  });

  const userInfoOf = (bytes) => ({ pad: 'x'.repeat(bytes - JSON.stringify({ pad: '' }).length) });
  it('accepts user_info of 1024 bytes and a user_id of 128 characters', async () => {
    await join(server, 'presence-sizes', { user_id: 'a', user_info: userInfoOf(1024) });
    await join(server, 'presence-sizes', { user_id: 'u'.repeat(128) });
  });

  const overLimit = [
    ['user_info over 1024 bytes', { user_id: 'big', user_info: userInfoOf(1025) }],
    ['a user_id over 128 characters', { user_id: 'u'.repeat(129) }],
    ['no user_id', { user_info: { name: 'nobody' } }],
  ];
  for (const [what, user] of overLimit) {
    it(`refuses ${what} (4305), and keeps serving others`, async () => {
      const client = await RawClient.connect(server);
      await assertSubscribeRefused(client, 'presence-limits', { channelData: JSON.stringify(user) }, LIMIT_REACHED);
      await stillServing();
    });
  }

  const badChannelData = [
    ['no channel_data', () => ({})],
    ['channel_data that is not JSON', () => ({ channelData: '{"user_id":' })],
    ['channel_data that is not an object', () => ({ channelData: '"just-a-string"' })],
    ['a signature over other channel_data', (c) => ({
      channelData: JSON.stringify({ user_id: 'mallory' }),
      auth: channelAuth(server.app, c.socketId, 'presence-auth', JSON.stringify({ user_id: 'alice' })),
    })],
    ['a private-style signature without channel_data', (c) => ({
      channelData: JSON.stringify({ user_id: 'eve' }),
      auth: channelAuth(server.app, c.socketId, 'presence-auth'),
    })],
  ];
  for (const [what, options] of badChannelData) {
    it(`refuses presence with ${what} (4304), and keeps serving others`, async () => {
      const client = await RawClient.connect(server);
      await assertSubscribeRefused(client, 'presence-auth', options(client), AUTH_ERROR);
      await stillServing();
    });
  }
});
