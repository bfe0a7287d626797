// The listener's TLS as operators set it (docs/security.md#tls): the oldest version a client may
// use (--tls-min-version, default 1.2) and the ciphers offered with TLS 1.2 (--tls-ciphers),
// each handshake made by a real client, `openssl s_client`; and `raptor check` refusing a value
// OpenSSL would not serve, naming the line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { runRaptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';

const certificate = selfSignedCertificate();

// One handshake with `openssl s_client` and the given options: whether it was made, and the
// protocol and cipher agreed (s_client prints them) or why not.
function handshake(server, options) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, ...options],
      { timeout: 10000 }, (error, stdout, stderr) => {
        const cipher = /Cipher is (\S+)/.exec(stdout)?.[1];
        resolve({
          made: !error && cipher !== undefined && cipher !== '(NONE)',
          protocol: /^\s*Protocol\s*:\s*(\S+)/m.exec(stdout)?.[1] ?? /^New, (TLSv[\d.]+),/m.exec(stdout)?.[1],
          cipher,
          output: `${stdout}\n${stderr}`,
        });
      });
    child.stdin.end(); // s_client ends its session at the end of its input
  });
}

// Debian's OpenSSL leaves TLS 1.0 and 1.1 out of the client's own offer (security level 2):
// level 0 makes s_client really offer TLS 1.1, so that the refusal is the server's.
const TLS11_OFFER = ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'];
// The server's alert for a version below its minimum, as s_client reports it.
const VERSION_REFUSED = /alert protocol version|unsupported protocol|wrong version number/;

serverSuite('TLS at the defaults: 1.2 and 1.3, nothing older', { tls: certificate }, (server, { stillServing }) => {
  it('refuses a client that offers TLS 1.1 only', async () => {
    const result = await handshake(server, TLS11_OFFER);
    assert.equal(result.made, false, result.output);
    assert.match(result.output, VERSION_REFUSED);
    await stillServing();
  });

  it('accepts TLS 1.2 with an ECDHE AEAD cipher of the default list, and TLS 1.3', async () => {
    const tls12 = await handshake(server, ['-tls1_2']);
    assert.equal(tls12.made, true, tls12.output);
    assert.equal(tls12.protocol, 'TLSv1.2');
    assert.match(tls12.cipher, /^ECDHE-RSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
    const tls13 = await handshake(server, ['-tls1_3']);
    assert.equal(tls13.made, true, tls13.output);
    assert.equal(tls13.protocol, 'TLSv1.3');
  });

  it('refuses a TLS 1.2 client whose ciphers are all outside the default list (CBC, no forward secrecy)', async () => {
    const result = await handshake(server, ['-tls1_2', '-cipher', 'AES128-SHA:AES256-SHA256']);
    assert.equal(result.made, false, result.output);
    assert.match(result.output, /handshake failure/);
    await stillServing();
  });
});

serverSuite('TLS with --tls-min-version 1.3', { tls: certificate, args: ['--tls-min-version', '1.3'] }, (server, { stillServing }) => {
  it('refuses TLS 1.2 and accepts TLS 1.3', async () => {
    const tls12 = await handshake(server, ['-tls1_2']);
    assert.equal(tls12.made, false, tls12.output);
    assert.match(tls12.output, VERSION_REFUSED);
    const tls13 = await handshake(server, ['-tls1_3']);
    assert.equal(tls13.made, true, tls13.output);
    assert.equal(tls13.protocol, 'TLSv1.3');
    await stillServing();
  });
});

serverSuite('TLS with RAPTOR_TLS_CIPHERS naming one cipher', {
  tls: certificate, env: { RAPTOR_TLS_CIPHERS: 'ECDHE-RSA-AES256-GCM-SHA384' },
}, (server, { stillServing }) => {
  it('refuses a TLS 1.2 client offering only a cipher outside the list, accepts one offering it', async () => {
    const outside = await handshake(server, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
    assert.equal(outside.made, false, outside.output);
    assert.match(outside.output, /handshake failure/);
    const listed = await handshake(server, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384']);
    assert.equal(listed.made, true, listed.output);
    assert.equal(listed.cipher, 'ECDHE-RSA-AES256-GCM-SHA384');
    await stillServing();
  });
});

describe('raptor check and the flags refuse TLS settings OpenSSL would not serve', () => {
  const withTls = (name, line) => configFile(name,
    `listen "127.0.0.1", port: 6001\n${line}\napp "a", key: "k", secret: "s"\n`);

  for (const [what, line, pattern] of [
    ['TLS 1.1 as the minimum', 'tls min_version: "1.1"', /:2: tls: min_version must be "1\.2" or "1\.3", not "1\.1"/],
    ['a misspelt cipher', 'tls ciphers: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA348"',
      /:2: tls: ciphers: 'ECDHE-RSA-AES256-GCM-SHA348' is no TLS 1\.2 cipher or cipher group OpenSSL knows/],
    ['a comma-separated list', 'tls ciphers: "ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384"', /:2: tls: ciphers: names are separated by ':'/],
    ['a key without its certificate', 'tls key: "/etc/raptor/key.pem"', /:2: tls: cert: and key: go together/],
  ]) {
    it(`raptor check refuses ${what} with exit 2 and the line`, async () => {
      const run = await runRaptor(['check', '--no-env', withTls('tls-settings.rb', line)]);
      assert.equal(run.code, 2, run.stdout);
      assert.match(run.stderr, pattern);
    });
  }

  it('raptor check accepts min_version and ciphers with the certificate and key', async () => {
    const file = withTls('tls-good-settings.rb', `tls cert: "${certificate.certFile}", key: "${certificate.keyFile}", ` +
      'min_version: "1.3", ciphers: "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"');
    const run = await runRaptor(['check', '--no-env', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /listens on wss:\/\//);
  });

  it('the start refuses --tls-min-version 1.1 and an unknown cipher with exit 2 and the reason', async () => {
    const version = await runRaptor(['--tls-min-version', '1.1']);
    assert.equal(version.code, 2);
    assert.match(version.stderr, /invalid value '1\.1' for --tls-min-version: expected 1\.2 or 1\.3/);
    const cipher = await runRaptor([], { RAPTOR_TLS_CIPHERS: 'ECDHE-RSA-RC4-SHA256' });
    assert.equal(cipher.code, 2);
    assert.match(cipher.stderr, /for RAPTOR_TLS_CIPHERS: 'ECDHE-RSA-RC4-SHA256' is no TLS 1\.2 cipher/);
  });
});
