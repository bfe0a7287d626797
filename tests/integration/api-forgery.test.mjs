// Issue 21: HTTP API requests forged through an app's channel-auth endpoint, and query strings
// that decode to another split than the one signed. The forgeries are made the way an attacker
// would: a browser sends the app's auth endpoint a socket_id that is the head of an API request's
// string to sign; an endpoint that signs "socket_id:channel" unchecked (as docs/channels.md once
// showed for wildcard patterns) returns a signature valid for that request with
// ":channel" as the tail of its last parameter. The server must refuse every such request.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertApiError, request, signedRequest } from './lib/http-api.mjs';
import { hmacHex, md5Hex, nowSeconds } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

// The pattern the attacker may watch; the auth endpoint signs it for them.
const PATTERN = 'private-users.42.*';

// A request whose signature came from an auth endpoint that signed `${socket_id}:${PATTERN}`.
// `params` are the request's own, in the order they sort; the last gets ":PATTERN" appended, as
// the endpoint appends it to the socket_id. Returns the response.
function forged(server, { method, path, params, body = '' }) {
  const query = { auth_key: server.app.key, auth_timestamp: String(nowSeconds()), auth_version: '1.0' };
  if (body !== '' || 'body_md5' in params) query.body_md5 = md5Hex(body);
  Object.assign(query, params);
  const names = Object.keys(query).sort();
  const head = names.map((k) => `${k}=${query[k]}`).join('&');
  const socketId = `${method}\n${path}\n${head}`;  // what the browser posts to the auth endpoint
  const hmac = hmacHex(server.app.secret, `${socketId}:${PATTERN}`);  // what the endpoint signs
  const last = names[names.length - 1];
  query[last] += `:${PATTERN}`;
  query.auth_signature = hmac;
  return request(server, { method, path, query, body });
}

// Asserts `client` got no `event` (a ping round trip first, so anything sent has arrived).
async function assertNothing(client, event) {
  await client.sync();
  assert.deepEqual(client.frames.pending((f) => f.event === event), []);
}

serverSuite('HTTP API forgery through an auth endpoint (issue 21, finding 1)', {}, (server, { stillServing }) => {
  const base = `/apps/${server.app.id}`;

  it('refuses a forged publish carrying an unknown parameter (400 naming it), and delivers nothing', async () => {
    const admin = await RawClient.connect(server);
    await admin.subscribe('private-admin');
    const body = JSON.stringify({ name: 'forged', channels: ['private-admin'], data: '{}' });
    const res = await forged(server, { method: 'POST', path: `${base}/events`, params: { z: '' }, body });
    assertApiError(res, 400);
    assert.equal(res.json.parameter, 'z');
    await assertNothing(admin, 'forged');
    await stillServing();
  });

  it('refuses a forged channel list: unknown parameter, or a value holding the ":channel" tail', async () => {
    const unknown = await forged(server, { method: 'GET', path: `${base}/channels`, params: { z: '' } });
    assertApiError(unknown, 400);
    assert.equal(unknown.json.parameter, 'z');
    const prefix = await forged(server, { method: 'GET', path: `${base}/channels`, params: { filter_by_prefix: 'x' } });
    assertApiError(prefix, 400);
    assert.equal(prefix.json.parameter, 'filter_by_prefix');
    const info = await forged(server, { method: 'GET', path: `${base}/channels/news`, params: { info: 'x' } });
    assertApiError(info, 400);
    assert.equal(info.json.parameter, 'info');
  });

  it('refuses forged /health details, signed the same way', async () => {
    const res = await forged(server, { method: 'GET', path: '/health', params: { z: '' } });
    assertApiError(res, 400);
    assert.equal(res.json.parameter, 'z');
    assert.equal(res.json.webhooks, undefined);
  });

  it('refuses a forged publish through the deprecated endpoint\'s name parameter', async () => {
    const admin = await RawClient.connect(server);
    await admin.subscribe('private-admin');
    const res = await forged(server, { method: 'POST', path: `${base}/channels/private-admin/events`, params: { name: 'forged' }, body: '{"x":1}' });
    assertApiError(res, 400);
    assert.equal(res.json.parameter, 'name');
    await assertNothing(admin, `forged:${PATTERN}`);
  });

  it('refuses a forged termination whose body_md5 (with no body) holds the tail (401)', async () => {
    const user = await RawClient.connect(server);
    await user.signin({ id: 'victim' });
    const res = await forged(server, { method: 'POST', path: `${base}/users/victim/terminate_connections`, params: { body_md5: '' } });
    assertApiError(res, 401);
    await user.sync();
    assert.ok(user.isOpen, 'the victim stays connected');
  });

  it('still takes every endpoint\'s own parameters, signed as the SDKs sign them', async () => {
    const list = await signedRequest(server, { path: `${base}/channels`, params: { filter_by_prefix: 'presence-', info: 'user_count' } });
    assert.equal(list.status, 200, list.text);
    const one = await signedRequest(server, { path: `${base}/channels/news`, params: { info: 'subscription_count' } });
    assert.equal(one.status, 200, one.text);
    const old = await signedRequest(server, { method: 'POST', path: `${base}/channels/news/events`, params: { name: 'e' }, body: 'd' });
    assert.equal(old.status, 202, old.text);
  });
});

serverSuite('HTTP API query canonicalisation (issue 21, finding 2)', {}, (server, { stillServing }) => {
  const path = `/apps/${server.app.id}/channels/news/events`;

  it('refuses a value whose decoded "&" would sign like another parameter (400), delivering nothing', async () => {
    const [a, b] = [await RawClient.connect(server), await RawClient.connect(server)];
    await a.subscribe('news');
    await b.subscribe('news');
    // name=evt%26socket_id%3D… signs as name=evt&socket_id=… (what a legitimate request signs).
    const res = await signedRequest(server, { method: 'POST', path, params: { name: `evt&socket_id=${b.socketId}` }, body: 'd' });
    assertApiError(res, 400);
    assert.equal(res.json.parameter, 'name');
    await assertNothing(a, `evt&socket_id=${b.socketId}`);
    // The split that signature was made for is still taken, and excludes the sender.
    const split = await signedRequest(server, { method: 'POST', path, params: { name: 'evt', socket_id: b.socketId }, body: 'd' });
    assert.equal(split.status, 202, split.text);
    await a.next('evt', 'news');
    await assertNothing(b, 'evt');
  });

  it('signs names as sent: Socket_id is not socket_id, so a lower-cased signature fails (401)', async () => {
    const b = await RawClient.connect(server);
    await b.subscribe('news');
    // Signed (by the test's signer, as the server used to) over socket_id=…, sent as Socket_id=….
    const res = await signedRequest(server, {
      method: 'POST', path, params: { name: 'evt', socket_id: b.socketId }, body: 'd',
      tamper: ({ socket_id, ...q }) => ({ ...q, Socket_id: socket_id }),
    });
    assertApiError(res, 401);
    await assertNothing(b, 'evt');
  });

  it('refuses a parameter name in another case even when signed as sent (400 naming it)', async () => {
    const res = await signedRequest(server, { path: `/apps/${server.app.id}/channels`, params: { Info: 'subscription_count' } });
    assertApiError(res, 400);
    assert.equal(res.json.parameter, 'Info');
  });

  it('refuses control characters in a value (400)', async () => {
    // %-encoded CR, LF and NUL too: the query is decoded whole, then held to its form.
    for (const name of ['a\tb', 'a\u0001b', 'a\u001fb', 'a\u007fb', 'a\nb', 'a\rb', 'a\u0000b']) {
      const res = await signedRequest(server, { method: 'POST', path, params: { name }, body: 'd' });
      assertApiError(res, 400);
      assert.equal(res.json.parameter, 'name', JSON.stringify(name));
    }
    await stillServing();
  });
});
