// Webhooks to https receivers whose certificates should not be believed (docs/webhooks.md#tls),
// each a real Node https server with a certificate made by openssl for this run: one expired, one
// for another host (by address and by name), all signed by a CA raptor trusts (SSL_CERT_FILE), so that the date or the
// name alone is what fails. Nothing is sent to them; the reason is logged and the POST retried.
// A receiver with a private CA is delivered to when its spec names the CA (ca=), and refused
// without; verify_tls=off delivers to a self-signed receiver and is warned about at start.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { certificateAuthority, selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { HostsFile } from './lib/hosts-file.mjs';
import { healthDetails } from './lib/http-api.mjs';
import { runRaptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'tls-hooks', key: 'tls-hooks-key', secret: 'tls-hooks-secret-7d1e' };

const hosts = new HostsFile({ 'hooks.raptor.test': '127.0.0.1' }); // raptor's resolver reads it (CARES_HOSTS)
const trusted = certificateAuthority('Trusted test CA');
const privateCa = certificateAuthority('Private hooks CA');
const receivers = {
  valid: await new WebhookReceiver(APP, { tls: trusted.issue() }).start(),
  expired: await new WebhookReceiver(APP, { tls: trusted.issue(['IP:127.0.0.1'], { expired: true }) }).start(),
  wrongHost: await new WebhookReceiver(APP, { tls: trusted.issue(['DNS:elsewhere.raptor.test']) }).start(),
  wrongName: await new WebhookReceiver(APP, { tls: trusted.issue(['DNS:elsewhere.raptor.test']) }).start(),
  privateWithCa: await new WebhookReceiver(APP, { tls: privateCa.issue() }).start(),
  privateWithoutCa: await new WebhookReceiver(APP, { tls: privateCa.issue() }).start(),
  unverified: await new WebhookReceiver(APP, { tls: selfSignedCertificate() }).start(),
};
after(() => Promise.all(Object.values(receivers).map((r) => r.stop())));

const failure = (receiver, reason, attempt, host = '127\\.0\\.0\\.1') => new RegExp(`webhook \\d+ \\(https://${host}:${receiver.port}\\) of app ` +
  `${APP.id}: TLS certificate refused: ${reason} at attempt ${attempt}`);

serverSuite('webhooks to https receivers: certificates checked', {
  apps: [APP],
  args: [
    '--webhook', receivers.valid.url,
    '--webhook', receivers.expired.url,
    '--webhook', receivers.wrongHost.url,
    '--webhook', receivers.wrongName.urlVia('hooks.raptor.test'),
    '--webhook', `${receivers.privateWithCa.url};ca=${privateCa.certFile}`,
    '--webhook', receivers.privateWithoutCa.url,
    '--webhook', `${receivers.unverified.url};verify_tls=off`,
    '--webhook-retry-base-ms', '100',
  ],
  // OpenSSL's default CA file: the trusted test CA only
  env: { ...hosts.env, SSL_CERT_FILE: trusted.certFile },
}, (server, { stillServing }) => {
  it('warns at start about the receiver whose certificate is not checked, and only about it', () => {
    const warnings = server.stderr.match(/TLS certificate verification is off[^\n]*/g) ?? [];
    assert.equal(warnings.length, 1, server.stderr);
    assert.match(server.stderr, new RegExp(`app ${APP.id}: webhook https://127\\.0\\.0\\.1:${receivers.unverified.port}: ` +
      'TLS certificate verification is off \\(verify_tls\\): its events go to whoever answers at that address'));
  });

  it('delivers to the receivers it can verify, and to the one it is told not to', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('secure-room');
    for (const name of ['valid', 'privateWithCa', 'unverified']) {
      await receivers[name].take({ name: 'channel_occupied', channel: 'secure-room' });
      assert.deepEqual(receivers[name].invalid(), [], name);
    }
    await stillServing();
  });

  it('sends nothing to an expired certificate, logs why and retries', async () => {
    await server.logged(failure(receivers.expired, 'certificate has expired', 2), 'the expired receiver refused twice');
    assert.deepEqual(receivers.expired.deliveries, []);
  });

  it('sends nothing to a certificate for another host, by address or by name, logs why and retries', async () => {
    await server.logged(failure(receivers.wrongHost, 'IP address mismatch', 2), 'the wrong-host receiver refused twice');
    await server.logged(failure(receivers.wrongName, 'hostname mismatch', 2, 'hooks\\.raptor\\.test'),
      'the receiver named hooks.raptor.test with a certificate for elsewhere.raptor.test refused twice');
    assert.deepEqual(receivers.wrongHost.deliveries, []);
    assert.deepEqual(receivers.wrongName.deliveries, []);
  });

  it('sends nothing to a private-CA receiver without its ca=', async () => {
    await server.logged(failure(receivers.privateWithoutCa, 'unable to get local issuer certificate', 2),
      'the private-CA receiver without ca= refused twice');
    assert.deepEqual(receivers.privateWithoutCa.deliveries, []);
  });

  it('counts the refused POSTs as retried in /health', async () => {
    const health = await waitFor(async () => {
      const json = await healthDetails(server);
      return json.webhooks?.retried >= 8 && json;
    }, 'four receivers retried twice each');
    assert.equal(health.webhooks.dropped, 0); // still within --webhook-retry-for
    await stillServing();
  });
});

describe('webhook TLS options in raptor.rb, checked by raptor check', () => {
  const withWebhook = (name, line) => configFile(name,
    `app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}" do |app|\n  ${line}\nend\n`);

  it('accepts ca: and verify_tls: false on https receivers', async () => {
    const file = withWebhook('hooks-tls-good.rb', `app.webhook "https://127.0.0.1:9443/a", ca: "${privateCa.certFile}"\n` +
      '  app.webhook "https://127.0.0.1:9444/b", verify_tls: false');
    const run = await runRaptor(['check', '--no-env', file]);
    assert.equal(run.code, 0, run.stderr);
  });

  for (const [what, line, pattern] of [
    ['a ca: file that cannot be read', 'app.webhook "https://127.0.0.1/h", ca: "/nonexistent/ca.pem"',
      /:2: app tls-hooks: webhook https:\/\/127\.0\.0\.1: cannot read the TLS CA file \/nonexistent\/ca\.pem/],
    ['verify_tls: false on an http:// receiver', 'app.webhook "http://127.0.0.1/h", verify_tls: false',
      /:2: .*ca and verify_tls are for https:\/\/ receivers/],
    ['verify_tls: "no"', 'app.webhook "https://127.0.0.1/h", verify_tls: "no"', /:2: .*verify_tls must be true or false/],
  ]) {
    it(`refuses ${what} with exit 2 and the line`, async () => {
      const run = await runRaptor(['check', '--no-env', withWebhook('hooks-tls-bad.rb', line)]);
      assert.equal(run.code, 2, run.stdout);
      assert.match(run.stderr, pattern);
    });
  }
});
