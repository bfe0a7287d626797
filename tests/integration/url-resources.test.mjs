// URL resources: POST /channels/{type}/… publishes to the channel the address names, GET reads its
// counts and /members its roster, signed like the HTTP API by the app's key; clients may subscribe
// by address; bad addresses get 400/404 (4303 on subscribe) saying which rule they break.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { assertApiError, request, signedRequest } from './lib/http-api.mjs';
import { DEFAULT_APP } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const OTHER_APP = { id: 'other-id', key: 'other-key', secret: 'other-secret' };

serverSuite('URL resources', { apps: [DEFAULT_APP, OTHER_APP] }, (server, { stillServing }) => {
  it('POST /channels/private/galleries/123/comments reaches pusher-js on private-galleries.123.comments', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'private-galleries.123.comments');
    const inbox = inboxOf((cb) => channel.bind('comment-added', cb));
    const res = await signedRequest(server, { method: 'POST', path: '/channels/private/galleries/123/comments',
      body: { name: 'comment-added', data: JSON.stringify({ text: 'Nice shot' }) } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {});
    assert.deepEqual((await inbox.take()).data, { text: 'Nice shot' });
  });

  it('pusher-js may subscribe by address and hears the channel\'s events under that address', async () => {
    const pusher = await pusherClient(server);
    const [byAddress] = await subscribed(pusher, '/channels/public/galleries/5/comments');
    const inbox = inboxOf((cb) => byAddress.bind('comment-added', cb));
    await serverSdk(server).trigger('galleries.5.comments', 'comment-added', { text: 'by name' });
    assert.deepEqual((await inbox.take()).data, { text: 'by name' });
    const counts = await signedRequest(server, { path: '/channels/public/galleries/5/comments' });
    assert.deepEqual(counts.json, { occupied: true, subscription_count: 1 });
  });

  it('refuses a subscription to a bad address with the rule broken', async () => {
    const client = await RawClient.connect(server);
    client.sendSubscribe('/channels/public/private-x');
    const error = await client.next('pusher:error');
    assert.equal(error.data.code, 4303);
    assert.match(error.data.message, /reserved prefix/);
    await stillServing();
  });

  it('GET reads occupancy and counts, and /members the roster of a presence channel', async () => {
    const pusher = await pusherClient(server, { user: { user_id: 'ada', user_info: { name: 'Ada' } } });
    await subscribed(pusher, 'presence-gallery.9');
    const counts = await signedRequest(server, { path: '/channels/presence/gallery/9' });
    assert.deepEqual(counts.json, { occupied: true, subscription_count: 1, user_count: 1 });
    const members = await signedRequest(server, { path: '/channels/presence/gallery/9/members' });
    assert.deepEqual(members.json, { users: [{ id: 'ada' }] });
    const empty = await signedRequest(server, { path: '/channels/public/nobody/here' });
    assert.deepEqual(empty.json, { occupied: false, subscription_count: 0 });
  });

  it('belongs to the app whose key signs the request', async () => {
    const theirs = await pusherClient(server, { app: OTHER_APP });
    const mine = await pusherClient(server);
    const [theirChannel] = await subscribed(theirs, 'news');
    const [myChannel] = await subscribed(mine, 'news');
    const theirInbox = inboxOf((cb) => theirChannel.bind('e', cb));
    const myInbox = inboxOf((cb) => myChannel.bind('e', cb));
    const res = await signedRequest(server, { method: 'POST', path: '/channels/public/news', app: OTHER_APP, body: { name: 'e', data: '1' } });
    assert.equal(res.status, 200, res.text);
    assert.equal((await theirInbox.take()).data, 1);
    await signedRequest(server, { method: 'POST', path: '/channels/public/news', body: { name: 'e', data: '2' } });
    assert.equal((await myInbox.take()).data, 2, 'the first event did not reach the other app');
  });

  const refusals = [
    ['an unknown type', '/channels/secret/x', 404, /Unknown channel type 'secret'/],
    ['no segment', '/channels/public', 400, /at least one segment/],
    ['a dot inside a segment', '/channels/public/a.b', 400, /Segment 'a\.b'/],
    ['a public path spelling a reserved prefix', '/channels/public/private-x', 400, /reserved prefix/],
    ['a private path spelling an encrypted channel', '/channels/private/encrypted-x', 400, /encrypted-/],
    ['members of a public channel', '/channels/public/news/members', 400, /presence/],
  ];
  for (const [what, path, status, message] of refusals) {
    it(`refuses ${what} with ${status} and the rule`, async () => {
      const res = await signedRequest(server, { path });
      assertApiError(res, status);
      assert.match(res.json.error, message);
      await stillServing();
    });
  }

  it('refuses unsigned, wrongly signed and foreign-key requests with 401, and other methods with 405', async () => {
    assertApiError(await request(server, { path: '/channels/public/news' }), 401);
    const tampered = await signedRequest(server, { path: '/channels/public/news', tamper: (q) => ({ ...q, auth_signature: '0'.repeat(64) }) });
    assertApiError(tampered, 401);
    const stranger = await signedRequest(server, { path: '/channels/public/news', app: { id: 'x', key: 'nobody', secret: 's' } });
    assertApiError(stranger, 401);
    assertApiError(await signedRequest(server, { method: 'DELETE', path: '/channels/public/news' }), 405);
    const named = await signedRequest(server, { method: 'POST', path: '/channels/public/news', body: { name: 'e', data: 'x', channel: 'other' } });
    assertApiError(named, 400);
    await stillServing();
  });
});
