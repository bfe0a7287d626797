// Unmodified pusher-js (v8) against raptor, with the `pusher` SDK authorizing channels and
// publishing: what a browser app sees.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Pusher from 'pusher-js';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';

// A ping/pong round trip on the connection: the server has handled everything pusher-js sent before.
async function roundTrip(pusher) {
  const messages = inboxOf((cb) => pusher.connection.bind('message', cb));
  pusher.send_event('pusher:ping', {});
  await messages.take(({ data }) => data.event === 'pusher:pong', 'pusher:pong');
}

serverSuite('pusher-js', {}, (server, { stillServing }) => {
  it('connects and gets a socket_id', async () => {
    const pusher = await pusherClient(server);
    assert.equal(pusher.connection.state, 'connected');
    assert.match(pusher.connection.socket_id, /^\d+\.\d+$/);
  });

  it('receives API events on a public channel as parsed data', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'news');
    const inbox = inboxOf((cb) => channel.bind('headline', cb));
    await serverSdk(server).trigger('news', 'headline', { title: 'Raptor ships' });
    assert.deepEqual((await inbox.take()).data, { title: 'Raptor ships' });
  });

  it('receives non-JSON API data as the string sent', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'plain');
    const inbox = inboxOf((cb) => channel.bind('text', cb));
    await serverSdk(server).trigger('plain', 'text', 'just words, not JSON');
    assert.equal((await inbox.take()).data, 'just words, not JSON');
  });

  it('subscribes to private channels through the auth handler', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'private-orders');
    const inbox = inboxOf((cb) => channel.bind('shipped', cb));
    await serverSdk(server).trigger('private-orders', 'shipped', { id: 7 });
    assert.deepEqual((await inbox.take()).data, { id: 7 });
  });

  it('decrypts events on private-encrypted- channels (the server passes ciphertext through)', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'private-encrypted-secrets');
    const inbox = inboxOf((cb) => channel.bind('code', cb));
    await serverSdk(server).trigger('private-encrypted-secrets', 'code', { launch: 1234 });
    assert.deepEqual((await inbox.take()).data, { launch: 1234 });
  });

  it('tracks presence members: me, count, added, removed', async () => {
    const ann = await pusherClient(server, { user: { user_id: 'ann', user_info: { name: 'Ann' } } });
    const [annRoom, members] = await subscribed(ann, 'presence-lobby');
    assert.equal(members.count, 1);
    assert.deepEqual(members.me, { id: 'ann', info: { name: 'Ann' } });
    const added = inboxOf((cb) => annRoom.bind('pusher:member_added', cb));
    const removed = inboxOf((cb) => annRoom.bind('pusher:member_removed', cb));
    const bob = await pusherClient(server, { user: { user_id: 'bob', user_info: { name: 'Bob' } } });
    const [, bobMembers] = await subscribed(bob, 'presence-lobby');
    assert.equal(bobMembers.count, 2);
    assert.deepEqual(bobMembers.get('ann'), { id: 'ann', info: { name: 'Ann' } });
    assert.deepEqual((await added.take()).data, { id: 'bob', info: { name: 'Bob' } });
    bob.disconnect();
    assert.deepEqual((await removed.take()).data, { id: 'bob', info: { name: 'Bob' } });
    assert.equal(annRoom.members.count, 1);
  });

  it('fires pusher:subscription_error when the server refuses the signature', async () => {
    const pusher = await pusherClient(server, { tamper: (a) => ({ ...a, auth: `${server.app.key}:${'f'.repeat(64)}` }) });
    const channel = pusher.subscribe('private-denied');
    const { data } = await inboxOf((cb) => channel.bind('pusher:subscription_error', cb)).take();
    assert.equal(data.type, 'AuthError');
    assert.equal(data.status, 401);
    assert.equal(pusher.connection.state, 'connected');
    await stillServing();
  });

  it('stops receiving after unsubscribe', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'private-brief');
    const inbox = inboxOf((cb) => channel.bind('tick', cb));
    const [marker] = await subscribed(pusher, 'marker');
    const done = inboxOf((cb) => marker.bind('done', cb));
    pusher.unsubscribe('private-brief');
    await roundTrip(pusher);
    await serverSdk(server).trigger('private-brief', 'tick', {});
    await serverSdk(server).trigger('marker', 'done', {});
    await done.take(); // events of one connection arrive in order: a "tick" would have come first
    assert.deepEqual(inbox.pending(), []);
  });

  it('is refused for good (4001) with an unknown app key, and the server keeps serving', async () => {
    const pusher = new Pusher('no-such-key', {
      wsHost: server.host, wsPort: server.port, forceTLS: false, enabledTransports: ['ws'], cluster: 'mt1', disableStats: true,
    });
    server.track(async () => pusher.disconnect());
    const states = inboxOf((cb) => pusher.connection.bind('state_change', cb));
    const { data: error } = await inboxOf((cb) => pusher.connection.bind('error', cb)).take(undefined, 'connection error');
    assert.equal(error.error.data.code, 4001);
    await states.take(({ data }) => data.current === 'disconnected', 'pusher-js to give up (disconnected)');
    await stillServing();
  });
});
