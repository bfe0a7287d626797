// Certificate renewal (docs/security.md#certificate-renewal): the certificate and key rewritten
// in place, as an ACME client does, then SIGHUP. Clients connected over wss:// stay connected
// and keep receiving; the next handshake presents the new certificate (its serial and SHA-256
// fingerprint, read from the handshake). A key that does not match, a key of another type, or a
// certificate that cannot be read refuses the reload with the reason; the old certificate serves on.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import tls from 'node:tls';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { inboxOf, pusherClient, serverSdk } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

// pusher-js's Node transport takes no CA option (as in tls.test.mjs); this process only.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const first = selfSignedCertificate();
const renewed = selfSignedCertificate();
const stranger = selfSignedCertificate(); // its key matches neither certificate
const elliptic = selfSignedCertificate(['IP:127.0.0.1'], { keyType: 'ec' });
const dir = mkdtempSync(join(tmpdir(), 'raptor-renewal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const served = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
const install = ({ certFile, keyFile }) => {
  copyFileSync(certFile, served.certFile);
  copyFileSync(keyFile, served.keyFile);
};
install(first);

const identity = ({ cert }) => {
  const x509 = new X509Certificate(cert);
  return { serial: BigInt(`0x${x509.serialNumber}`), fingerprint: x509.fingerprint256 };
};

// The certificate a new client is shown in its handshake.
function presented(server) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ serial: BigInt(`0x${cert.serialNumber}`), fingerprint: cert.fingerprint256 });
    });
    socket.once('error', reject);
  });
}

// The serial as the reload's log line writes it (OpenSSL's hex, whole bytes).
const serialPattern = (cert) => `0?${identity(cert).serial.toString(16).toUpperCase()}`;

serverSuite('certificate and key reloaded on SIGHUP', {
  tls: { ...served, ca: [first.cert, renewed.cert] },
}, (server, { stillServing }) => {
  it('keeps wss clients connected across a renewal and shows new handshakes the new certificate', async () => {
    assert.deepEqual(await presented(server), identity(first));
    const pusher = await pusherClient(server);
    const states = [];
    pusher.connection.bind('state_change', ({ current }) => states.push(current));
    const channel = pusher.subscribe('renewal');
    await inboxOf((cb) => channel.bind('pusher:subscription_succeeded', cb)).take();
    const inbox = inboxOf((cb) => channel.bind('news', cb));
    const raw = await RawClient.connect(server);
    await raw.subscribe('renewal');

    install(renewed);
    const outcome = await server.reload();
    assert.match(outcome, new RegExp(`reload: done .*tls certificate serial ${serialPattern(renewed)}, SHA-256 ` +
      `${identity(renewed).fingerprint}, valid until `));
    assert.deepEqual(await presented(server), identity(renewed));

    await serverSdk(server).trigger('renewal', 'news', { after: 'renewal' });
    assert.deepEqual((await inbox.take()).data, { after: 'renewal' });
    assert.deepEqual((await raw.next('news', 'renewal')).payload, { after: 'renewal' });
    assert.equal(pusher.connection.state, 'connected');
    assert.deepEqual(states, [], 'pusher-js never left the connected state');
    assert.ok(raw.isOpen, 'the raw WebSocket is still open');
    await stillServing();
  });

  it('refuses a reload to a key that does not match, and serves the old certificate on', async () => {
    copyFileSync(stranger.keyFile, served.keyFile);
    const outcome = await server.reload();
    assert.match(outcome, new RegExp('reload refused, the running configuration stays as it was: the TLS key ' +
      `${served.keyFile} does not match the certificate ${served.certFile}`));
    assert.deepEqual(await presented(server), identity(renewed));
    install(renewed);
    await stillServing();
  });

  it('refuses a reload to a key of another type (EC for RSA), which would leave the old one served beside it', async () => {
    install(elliptic);
    const outcome = await server.reload();
    assert.match(outcome, /reload refused, the running configuration stays as it was: the new key is EC where the served one is RSA: a change of key type needs a restart/);
    assert.deepEqual(await presented(server), identity(renewed));
    install(renewed);
    await stillServing();
  });

  it('refuses a reload while the certificate cannot be read, and serves the old certificate on', async () => {
    renameSync(served.certFile, `${served.certFile}.moved`);
    const outcome = await server.reload();
    assert.match(outcome, /reload refused, the running configuration stays as it was: cannot read the TLS certificate \S+: No such file or directory/);
    assert.deepEqual(await presented(server), identity(renewed));
    renameSync(`${served.certFile}.moved`, served.certFile);
    await stillServing();
  });
});
