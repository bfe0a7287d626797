// TLS: with --tls-cert/--tls-key the same port serves wss:// and https://.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { apiGet, inboxOf, pusherClient, serverSdk } from './lib/clients.mjs';
import { request } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { assertRejected } from './lib/tcp.mjs';
import { RawClient } from './lib/ws-client.mjs';

// pusher-js's Node transport takes no CA option; trust the self-signed certificate in this
// test process only (node --test runs every file in its own process).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

serverSuite('TLS', { tls: selfSignedCertificate() }, (server, { stillServing }) => {
  it('answers /health over https', async () => {
    const res = await request(server, { path: '/health' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  it('serves the HTTP API over https to the SDK', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-secure');
    await serverSdk(server).trigger('private-secure', 'sealed', { ok: true });
    assert.deepEqual((await client.next('sealed', 'private-secure')).payload, { ok: true });
    assert.ok('private-secure' in (await apiGet(server, '/channels')).channels);
  });

  it('connects pusher-js over wss and delivers private and presence events', async () => {
    const pusher = await pusherClient(server, { user: { user_id: 'tls-user', user_info: {} } });
    const privateChannel = pusher.subscribe('private-wss');
    const presence = pusher.subscribe('presence-wss');
    await Promise.all([privateChannel, presence].map((c) => inboxOf((cb) => c.bind('pusher:subscription_succeeded', cb)).take()));
    const inbox = inboxOf((cb) => privateChannel.bind('hello', cb));
    await serverSdk(server).trigger('private-wss', 'hello', { over: 'wss' });
    assert.deepEqual((await inbox.take()).data, { over: 'wss' });
    assert.equal(presence.members.count, 1);
  });

  it('refuses plain HTTP on the TLS port without disturbing anyone', async () => {
    await assertRejected(server, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', /^(?!HTTP\/1\.[01] 200)/);
    await stillServing();
  });
});
