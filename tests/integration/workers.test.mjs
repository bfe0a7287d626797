// Several event-loop workers behave as one server: with --workers 4 the kernel spreads these
// clients over all of them, and events, presence and counts must not notice.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const CLIENTS = 16;

async function clients(server, n = CLIENTS) {
  return Promise.all(Array.from({ length: n }, () => RawClient.connect(server)));
}

serverSuite('workers', { args: ['--workers', '4'] }, (server, { stillServing }) => {
  it('delivers an API event to subscribers on every worker, except the excluded socket', async () => {
    const subs = await clients(server);
    for (const s of subs) await s.subscribe('everywhere');
    const res = await serverSdk(server).trigger('everywhere', 'hello', { n: 1 }, { socket_id: subs[3].socketId });
    assert.equal(res.status, 200);
    for (const [i, s] of subs.entries()) {
      if (i === 3) continue;
      assert.deepEqual((await s.next('hello', 'everywhere')).payload, { n: 1 });
    }
    await subs[3].sync();
    assert.equal(subs[3].frames.pending((f) => f.event === 'hello').length, 0, 'the excluded socket got nothing');
    const info = await apiGet(server, '/channels/everywhere', { info: 'subscription_count' });
    assert.deepEqual(info, { occupied: true, subscription_count: CLIENTS });
  });

  it('keeps one presence roster: each member announced once, in join order, to the others', async () => {
    const members = await clients(server);
    for (const [i, m] of members.entries()) {
      const ok = await m.subscribe('presence-shared', { channelData: JSON.stringify({ user_id: `u${i}` }) });
      assert.equal(ok.payload.presence.count, i + 1, `u${i} sees everyone who joined before it`);
    }
    for (const [i, m] of members.entries()) {
      const added = [];
      for (let j = i + 1; j < CLIENTS; j++) added.push((await m.next('pusher_internal:member_added', 'presence-shared')).payload.user_id);
      assert.deepEqual(added, Array.from({ length: CLIENTS - i - 1 }, (_, k) => `u${i + 1 + k}`));
      await m.sync();
      assert.equal(m.frames.pending((f) => f.event === 'pusher_internal:member_added').length, 0, 'no duplicates');
    }
    const users = await apiGet(server, '/channels/presence-shared/users');
    assert.equal(users.users.length, CLIENTS);
  });

  it('counts a user with connections on several workers once, until the last one leaves', async () => {
    const [watcher, ...tabs] = await clients(server, 9);
    await watcher.subscribe('presence-tabs', { channelData: JSON.stringify({ user_id: 'watcher' }) });
    for (const tab of tabs) await tab.subscribe('presence-tabs', { channelData: JSON.stringify({ user_id: 'ann' }) });
    assert.equal((await watcher.next('pusher_internal:member_added', 'presence-tabs')).payload.user_id, 'ann');
    for (const tab of tabs.slice(1)) await tab.close();
    await watcher.sync();
    assert.equal(watcher.frames.pending((f) => f.event.startsWith('pusher_internal:member_')).length, 0);
    assert.equal((await apiGet(server, '/channels/presence-tabs', { info: 'user_count' })).user_count, 2);
    await tabs[0].close();
    assert.equal((await watcher.next('pusher_internal:member_removed', 'presence-tabs')).payload.user_id, 'ann');
  });

  it('forwards client events to the other subscribers on every worker', async () => {
    const peers = await clients(server);
    for (const p of peers) await p.subscribe('private-chat');
    peers[0].trigger('private-chat', 'client-typing', { who: 0 });
    for (const p of peers.slice(1)) assert.deepEqual((await p.next('client-typing', 'private-chat')).data, { who: 0 });
    await peers[0].sync();
    assert.equal(peers[0].frames.pending((f) => f.event === 'client-typing').length, 0, 'not echoed');
    await stillServing();
  });
});
