// Laravel Echo 2 (on pusher-js) against raptor: what a Laravel front end does, and README.md's
// Echo snippet as written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Echo from 'laravel-echo';
import Pusher from 'pusher-js';
import { apiGet, echoClient, inboxOf, serverSdk } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const readmeEcho = readme.match(/Laravel Echo:\n\n(?:<!-- .* -->\n)?```js\n([^]*?)```/)?.[1];
assert.ok(readmeEcho, 'README.md has a js block after "Laravel Echo:"');

// Echo callbacks registered through `register(channel, cb)`, waited for until subscribed.
async function subscribedInbox(channel, register) {
  const subscribed = inboxOf((cb) => channel.subscribed(cb));
  const inbox = inboxOf((cb) => register(cb));
  await subscribed.take(undefined, 'Echo channel subscribed');
  return inbox;
}

serverSuite('Laravel Echo', {}, (server, { stillServing }) => {
  it('listens on a public channel, with and without the App.Events namespace', async () => {
    const echo = await echoClient(server);
    const channel = echo.channel('orders');
    const plain = await subscribedInbox(channel, (cb) => channel.listen('.order-shipped', cb));
    const namespaced = inboxOf((cb) => channel.listen('OrderShipped', cb));
    await serverSdk(server).trigger('orders', 'order-shipped', { id: 1 });
    await serverSdk(server).trigger('orders', 'App\\Events\\OrderShipped', { id: 2 });
    assert.deepEqual((await plain.take()).data, { id: 1 });
    assert.deepEqual((await namespaced.take()).data, { id: 2 });
  });

  it('listens on a private channel authorized through the handler', async () => {
    const echo = await echoClient(server);
    const channel = echo.private('user.7');
    const inbox = await subscribedInbox(channel, (cb) => channel.listen('.notice', cb));
    await serverSdk(server).trigger('private-user.7', 'notice', { text: 'hi' });
    assert.deepEqual((await inbox.take()).data, { text: 'hi' });
  });

  it('joins a presence channel: here, joining, leaving', async () => {
    const ann = await echoClient(server, { user: { user_id: 1, user_info: { id: 1, name: 'Ann' } } });
    const annRoom = ann.join('chat.1');
    const here = inboxOf((cb) => annRoom.here(cb));
    const joining = inboxOf((cb) => annRoom.joining(cb));
    const leaving = inboxOf((cb) => annRoom.leaving(cb));
    assert.deepEqual((await here.take()).data, [{ id: 1, name: 'Ann' }]);

    const bob = await echoClient(server, { user: { user_id: 2, user_info: { id: 2, name: 'Bob' } } });
    const bobHere = inboxOf((cb) => bob.join('chat.1').here(cb));
    const members = (await bobHere.take()).data;
    assert.deepEqual(members.sort((x, y) => x.id - y.id), [{ id: 1, name: 'Ann' }, { id: 2, name: 'Bob' }]);
    assert.deepEqual((await joining.take()).data, { id: 2, name: 'Bob' });
    bob.leave('chat.1');
    assert.deepEqual((await leaving.take()).data, { id: 2, name: 'Bob' });
  });

  it('whispers to the other members of a private channel', async () => {
    const [ann, bob] = [await echoClient(server), await echoClient(server)];
    const annChannel = ann.private('typing.room');
    const bobChannel = bob.private('typing.room');
    // Both waits start before either is awaited: a subscription that succeeds while the test
    // waits for the other would otherwise be missed (Echo does not replay it).
    const [, whispers] = await Promise.all([
      subscribedInbox(annChannel, () => {}),
      subscribedInbox(bobChannel, (cb) => bobChannel.listenForWhisper('typing', cb)),
    ]);
    annChannel.whisper('typing', { name: 'Ann' });
    assert.deepEqual((await whispers.take()).data, { name: 'Ann' });
  });

  it('reports a refused subscription through .error()', async () => {
    const echo = await echoClient(server, { tamper: (a) => ({ ...a, auth: `${server.app.key}:${'0'.repeat(64)}` }) });
    const errors = inboxOf((cb) => echo.private('vault').error(cb));
    const { data } = await errors.take();
    assert.equal(data.type, 'AuthError');
    assert.equal(data.status, 401);
    await stillServing();
  });

  // The snippet runs as a page runs it (window.Pusher, then new Echo), on the test's port, with
  // the authorization a Laravel app's /broadcasting/auth would give (the snippet has no app).
  it('README.md\'s Echo snippet joins presence-room', async () => {
    const user = { user_id: '1', user_info: { id: 1, name: 'Ann' } };
    const sdk = serverSdk(server);
    class PagePusher extends Pusher {
      constructor(key, options) {
        super(key, { ...options, channelAuthorization: {
          customHandler: ({ socketId, channelName }, callback) => callback(null, sdk.authorizeChannel(socketId, channelName, user)),
        } });
        server.track(async () => this.disconnect());
      }
    }
    const logged = inboxOf((cb) => {
      const page = { window: {}, console: { log: cb } };
      globalThis.window = page.window; // Echo finds window.Pusher on the global window, as in a page
      try {
        new Function('window', 'console', 'Pusher', 'Echo', readmeEcho.replace('wsPort: 6001', `wsPort: ${server.port}`))(
          page.window, page.console, PagePusher, Echo);
      } finally {
        delete globalThis.window;
      }
    });
    assert.deepEqual((await logged.take(undefined, 'here() to log the members')).data, [user.user_info]);
    assert.deepEqual(await apiGet(server, '/channels/presence-room/users'), { users: [{ id: '1' }] });
  });
});
