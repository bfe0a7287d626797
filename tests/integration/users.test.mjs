// User authentication against raptor with four workers: pusher-js signin(), events from the
// SDK's sendToUser on pusher.user, watchlist online/offline on pusher.user.watchlist, the SDK's
// terminateUserConnections, and every bad sign-in or user request refused without disturbing
// anyone else.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inboxOf, pusherClient, serverSdk } from './lib/clients.mjs';
import { assertApiError, signedRequest } from './lib/http-api.mjs';
import { AUTH_ERROR, assertClosedWith, assertSubscribeRefused } from './lib/refusals.mjs';
import { userAuth } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { withTimeout } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

// A pusher-js client signed in with `userData`: resolves once the server acknowledged its
// #server-to-user- subscription. The watchlist inboxes are bound before the sign-in, as an app
// binds them, so the initial statuses are in them.
async function signedIn(server, userData) {
  const pusher = await pusherClient(server, { signin: userData });
  const online = inboxOf((cb) => pusher.user.watchlist.bind('online', cb));
  const offline = inboxOf((cb) => pusher.user.watchlist.bind('offline', cb));
  const messages = inboxOf((cb) => pusher.connection.bind('message', cb));
  pusher.signin();
  const userChannel = `#server-to-user-${userData.id}`;
  await messages.take(({ data }) => data.event === 'pusher_internal:subscription_succeeded' && data.channel === userChannel,
    `${userChannel} subscribed`);
  return { pusher, online, offline, messages };
}

const userIds = (inbox, what) => inbox.take(undefined, what).then(({ data }) => data.user_ids);

// The connection state pusher-js settles in after the server closed it.
function nextState(pusher, state) {
  return withTimeout(new Promise((resolve) => {
    const check = ({ current }) => { if (current === state) { pusher.connection.unbind('state_change', check); resolve(); } };
    pusher.connection.bind('state_change', check);
  }), `pusher-js state ${state}`);
}

serverSuite('users', { args: ['--workers', '4'] }, (server, { stillServing }) => {
  it('signs in with pusher-js and gets sendToUser events on every connection of the user, on any worker', async () => {
    const tabs = await Promise.all(Array.from({ length: 6 }, () => signedIn(server, { id: 'ann', user_info: { name: 'Ann' } })));
    const bob = await signedIn(server, { id: 'bob' });
    assert.deepEqual(tabs[0].pusher.user.user_data, { id: 'ann', user_info: { name: 'Ann' } });
    const inboxes = tabs.map(({ pusher }) => inboxOf((cb) => pusher.user.bind('notice', cb)));
    const bobInbox = inboxOf((cb) => bob.pusher.user.bind('notice', cb));
    await serverSdk(server).sendToUser('ann', 'notice', { text: 'hello Ann' });
    for (const inbox of inboxes) assert.deepEqual((await inbox.take(undefined, 'notice for ann')).data, { text: 'hello Ann' });
    await serverSdk(server).sendToUser('bob', 'notice', { text: 'hello Bob' });
    assert.deepEqual((await bobInbox.take()).data, { text: 'hello Bob' });
    for (const inbox of inboxes) assert.equal(inbox.pending().length, 0, 'ann got nothing meant for bob');
  });

  it('does not deliver user events to a connection that subscribes to the user channel by name', async () => {
    const ann = await signedIn(server, { id: 'ann' });
    const intruder = await RawClient.connect(server);
    await assertSubscribeRefused(intruder, '#server-to-user-ann', {}, AUTH_ERROR);
    const other = await RawClient.connect(server);
    await other.signin({ id: 'mallory' });
    await assertSubscribeRefused(other, '#server-to-user-ann', {}, AUTH_ERROR);
    const inbox = inboxOf((cb) => ann.pusher.user.bind('secret', cb));
    await serverSdk(server).sendToUser('ann', 'secret', { pin: 1234 });
    await inbox.take();
    await Promise.all([intruder.sync(), other.sync()]);
    assert.deepEqual([...intruder.frames.pending(), ...other.frames.pending()].filter((f) => f.event === 'secret'), []);
    await stillServing();
  });

  it('sends the watchlist statuses at sign-in, then online and offline as they change', async () => {
    const ann = await signedIn(server, { id: 'wl-ann' });
    const watcher = await signedIn(server, { id: 'wl-watcher', watchlist: ['wl-ann', 'wl-bob'] });
    assert.deepEqual(await userIds(watcher.online, 'initial online'), ['wl-ann']);
    assert.deepEqual(await userIds(watcher.offline, 'initial offline'), ['wl-bob']);
    const bob1 = await signedIn(server, { id: 'wl-bob' });
    assert.deepEqual(await userIds(watcher.online, 'wl-bob online'), ['wl-bob']);
    const bob2 = await signedIn(server, { id: 'wl-bob' });
    bob1.pusher.disconnect();
    ann.pusher.disconnect();
    assert.deepEqual(await userIds(watcher.offline, 'wl-ann offline'), ['wl-ann']);
    bob2.pusher.disconnect();
    assert.deepEqual(await userIds(watcher.offline, 'wl-bob offline'), ['wl-bob']);
    // One offline for bob although two of his connections closed: watch a little longer.
    await stillServing();
    assert.deepEqual([watcher.online.pending(), watcher.offline.pending()], [[], []]);
  });

  it('terminateUserConnections closes the user\'s connections with 4009 and pusher-js stays disconnected', async () => {
    const tabs = await Promise.all([signedIn(server, { id: 'term' }), signedIn(server, { id: 'term' })]);
    const raw = await RawClient.connect(server);
    await raw.signin({ id: 'term' });
    const bob = await signedIn(server, { id: 'term-bob' });
    const presenceOnly = await RawClient.connect(server); // 'term' in presence, never signed in
    await presenceOnly.subscribe('presence-term', { channelData: JSON.stringify({ user_id: 'term' }) });
    const errors = tabs.map(({ pusher }) => inboxOf((cb) => pusher.connection.bind('error', cb)));
    const disconnected = tabs.map(({ pusher }) => nextState(pusher, 'disconnected'));
    const res = await serverSdk(server).terminateUserConnections('term');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    await assertClosedWith(raw, 4009);
    await Promise.all(disconnected); // 'disconnected', not 'connecting': pusher-js does not retry
    for (const inbox of errors) {
      const { data } = await inbox.take();
      assert.equal(data.error?.data?.code ?? data.data?.code, 4009);
    }
    for (const { pusher } of tabs) assert.equal(pusher.connection.state, 'disconnected');
    assert.equal(bob.pusher.connection.state, 'connected');
    await presenceOnly.sync();
    assert.ok(presenceOnly.isOpen, 'a presence member of that id who did not sign in stays');
    await stillServing();
  });

  it('answers terminate_connections for a user with no connections with 200 {}', async () => {
    const res = await serverSdk(server).terminateUserConnections('nobody-here');
    assert.equal(res.status, 200);
    await stillServing();
  });

  const badTerminations = [
    ['an invalid user id', { method: 'POST', path: '/apps/app-id/users/a%20b/terminate_connections', body: '{}' }, 400],
    ['a user id over 128 characters', { method: 'POST', path: `/apps/app-id/users/${'u'.repeat(129)}/terminate_connections`, body: '{}' }, 400],
    ['GET', { method: 'GET', path: '/apps/app-id/users/ann/terminate_connections' }, 405],
    ['no action', { method: 'POST', path: '/apps/app-id/users/ann', body: '{}' }, 404],
  ];
  for (const [what, request, status] of badTerminations) {
    it(`refuses terminate_connections with ${what} (${status}), and keeps serving others`, async () => {
      const ann = await RawClient.connect(server);
      await ann.signin({ id: 'ann' });
      const path = decodeURIComponent(request.path);
      assertApiError(await signedRequest(server, { ...request, path }), status);
      await ann.sync();
      assert.ok(ann.isOpen);
      await stillServing();
    });
  }

  const badSignins = [
    ['a signature over other user_data', (c) => ({ userData: { id: 'ann' }, auth: userAuth(server.app, c.socketId, JSON.stringify({ id: 'eve' })) }), 4304],
    ['a signature for another socket', () => ({ userData: { id: 'ann' }, auth: userAuth(server.app, '1.1', JSON.stringify({ id: 'ann' })) }), 4304],
    ['a channel-style signature', (c) => ({ userData: { id: 'ann' }, auth: `${server.app.key}:${userAuth(server.app, c.socketId, '').split(':')[1]}` }), 4304],
    ['no id in user_data', () => ({ userData: { user_info: { name: 'nobody' } } }), 4308],
    ['a numeric id', () => ({ userData: { id: 42 } }), 4308],
    ['user_data that is not JSON', () => ({ userData: '{"id":"ann"' }), 4308],
    ['user_data that is not an object', () => ({ userData: '["ann"]' }), 4308],
    ['a watchlist that is not a list of ids', () => ({ userData: { id: 'ann', watchlist: 'bob' } }), 4308],
    ['user_info over 1 KiB', () => ({ userData: { id: 'ann', user_info: { pad: 'x'.repeat(1100) } } }), 4308],
  ];
  for (const [what, make, code] of badSignins) {
    it(`refuses a sign-in with ${what} (${code}), and keeps serving others`, async () => {
      const client = await RawClient.connect(server);
      const { userData, auth } = make(client);
      client.sendSignin(userData, { auth });
      const error = await client.nextError(code);
      assert.equal(typeof error.data.message, 'string');
      await client.sync();
      assert.deepEqual(client.frames.pending((f) => f.event === 'pusher:signin_success'), []);
      assert.ok(client.isOpen, 'a refused sign-in leaves the connection open');
      await stillServing();
    });
  }

  it('refuses pusher:signin without data (4300) and a second user on one connection (4309)', async () => {
    const client = await RawClient.connect(server);
    client.send({ event: 'pusher:signin' });
    await client.nextError(4300);
    await client.signin({ id: 'first' });
    client.sendSignin({ id: 'second' });
    await client.nextError(4309);
    await client.signin({ id: 'first' }); // the same user again is acknowledged
    await stillServing();
  });

  it('watches the first 100 ids of a longer watchlist and says so with 4302', async () => {
    const watchlist = Array.from({ length: 101 }, (_, i) => `many-${i}`);
    const client = await RawClient.connect(server);
    await client.signin({ id: 'many-watcher', watchlist });
    await client.nextError(4302);
    const statuses = await client.next('pusher_internal:watchlist_events');
    assert.deepEqual(statuses.data.events, [{ name: 'offline', user_ids: watchlist.slice(0, 100) }]);
    const late = await RawClient.connect(server);
    await late.signin({ id: 'many-100' }); // the 101st: not watched
    const first = await RawClient.connect(server);
    await first.signin({ id: 'many-0' });
    const change = await client.next('pusher_internal:watchlist_events');
    assert.deepEqual(change.data.events, [{ name: 'online', user_ids: ['many-0'] }]);
    await client.sync();
    assert.equal(client.frames.pending((f) => f.event === 'pusher_internal:watchlist_events').length, 0);
    assert.ok(client.isOpen);
    await stillServing();
  });
});

serverSuite('authorized connections', { args: ['--user-authentication-timeout', '1'] }, (server, { stillServing }) => {
  it('closes a connection that neither signs in nor joins a private channel with 4009', async () => {
    const anonymous = await RawClient.connect(server);
    await anonymous.subscribe('public-only');
    const signed = await RawClient.connect(server);
    await signed.signin({ id: 'ann' });
    const privateMember = await RawClient.connect(server);
    await privateMember.subscribe('private-room');
    await assertClosedWith(anonymous, 4009);
    await Promise.all([signed.sync(), privateMember.sync()]);
    assert.ok(signed.isOpen && privateMember.isOpen, 'authorized connections stay');
  });

  it('lets pusher-js stay connected once it signed in', async () => {
    const { pusher } = await signedIn(server, { id: 'js-user' });
    const anonymous = await pusherClient(server);
    await nextState(anonymous, 'disconnected'); // 4009: pusher-js does not reconnect
    assert.equal(pusher.connection.state, 'connected');
    const still = inboxOf((cb) => pusher.user.bind('still', cb));
    await serverSdk(server).sendToUser('js-user', 'still', {});
    await still.take();
  });
});
