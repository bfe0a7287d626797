// Webhook receivers addressed as real deployments address them (docs/webhooks.md, "Host names"):
// by a host name, which raptor looks up before each POST without blocking its loop (the names
// here are mapped in a hosts file of the test's own, given as CARES_HOSTS), over http and over
// https with the certificate checked against the name; by an IPv6 address; and by a name that
// does not resolve, which `raptor check` refuses and the running server logs at each attempt.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { HostsFile } from './lib/hosts-file.mjs';
import { runRaptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'names-app', key: 'names-key', secret: 'names-secret-51ab' };
const UNRESOLVABLE = 'no-such-receiver.invalid';

const NAMES = { 'hooks.raptor.test': '127.0.0.1', 'secure-hooks.raptor.test': '127.0.0.1', 'moving.raptor.test': '127.0.0.1' };
const hosts = new HostsFile(NAMES);
const plain = await new WebhookReceiver(APP).start();
// A receiver that moves: the same port at another loopback address.
const before = await new WebhookReceiver(APP).start();
const moved = await new WebhookReceiver(APP, { host: '127.0.0.2', port: before.port }).start();
const named = selfSignedCertificate(['DNS:secure-hooks.raptor.test']);
const secure = await new WebhookReceiver(APP, { tls: named }).start();
const six = await new WebhookReceiver(APP, { host: '::1' }).start();
after(() => Promise.all([plain, secure, six, before, moved].map((r) => r.stop())));

serverSuite('webhooks to host names and IPv6 addresses', {
  apps: [APP],
  args: ['--webhook', plain.urlVia('hooks.raptor.test'), '--webhook', secure.urlVia('secure-hooks.raptor.test'),
    '--webhook', six.url, '--webhook', `http://${UNRESOLVABLE}:9/webhooks`, '--webhook', before.urlVia('moving.raptor.test'),
    '--webhook-retry-base-ms', '100'],
  env: { ...hosts.env, SSL_CERT_FILE: named.certFile }, // OpenSSL's CA file: the named receiver's certificate
}, (server, { stillServing }) => {
  it('delivers to a receiver named in the hosts file, with its name as Host', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('by-name');
    await plain.take({ name: 'channel_occupied', channel: 'by-name' });
    assert.deepEqual(plain.invalid(), []);
    assert.equal(plain.deliveries.at(-1).headers.host, `hooks.raptor.test:${plain.port}`);
    await stillServing();
  });

  it('delivers over https to a name its certificate is valid for (SNI and the check use the name)', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('by-secure-name');
    await secure.take({ name: 'channel_occupied', channel: 'by-secure-name' });
    assert.deepEqual(secure.invalid(), []);
    assert.equal(secure.deliveries.at(-1).headers.host, `secure-hooks.raptor.test:${secure.port}`);
  });

  it('delivers to an IPv6 address in brackets', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('by-ipv6');
    await six.take({ name: 'channel_occupied', channel: 'by-ipv6' });
    assert.equal(six.deliveries.at(-1).headers.host, `[::1]:${six.port}`);
  });

  it('looks the name up again for every POST: a receiver that moved gets the next one', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('before-move');
    await before.take({ name: 'channel_occupied', channel: 'before-move' });
    hosts.write({ ...NAMES, 'moving.raptor.test': '127.0.0.2' });
    await client.subscribe('after-move');
    await moved.take({ name: 'channel_occupied', channel: 'after-move' });
    assert.deepEqual(before.history('after-move'), []);
  });

  it('logs a name that does not resolve at each attempt, and keeps serving', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('to-nowhere');
    await server.logged(new RegExp(`webhook 4 \\(http://${UNRESOLVABLE.replace(/\./g, '\\.')}:9\\) of app names-app: `
      + `cannot resolve the host name '${UNRESOLVABLE.replace(/\./g, '\\.')}': .* at attempt \\d+`));
    await stillServing();
  });
});

describe('raptor check and webhook host names', () => {
  const withReceiver = (url) => configFile(`names-${url.length}.rb`,
    `listen "127.0.0.1"\napp "${APP.id}", key: "${APP.key}", secret: "${APP.secret}" do |app|\n  app.webhook "${url}"\nend\n`);

  it('accepts a name that resolves', async () => {
    const { code, stdout, stderr } = await runRaptor(['check', withReceiver(plain.urlVia('hooks.raptor.test'))], hosts.env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /: OK: /);
  });

  it('exits 2 on a name that does not resolve, saying which', async () => {
    const file = withReceiver(`https://${UNRESOLVABLE}/hooks`);
    const { code, stderr } = await runRaptor(['check', file], hosts.env);
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`app ${APP.id}: webhook https://${UNRESOLVABLE.replace(/\./g, '\\.')}:443: `
      + `cannot resolve the host name '${UNRESOLVABLE.replace(/\./g, '\\.')}'`));
  });
});
