// Safe defaults (issue 16): raptor refuses, in `raptor check` and at start, with exit 2 and one
// line before any banner, what would serve credentials anyone knows on an address other machines
// reach: the development app, a raptor.rb without apps, a directory given as the file, a
// placeholder secret. `raptor check` also checks the TLS files, and checks every example
// configuration without its secrets set (--no-env).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { runRaptor } from './lib/raptor.mjs';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
// The examples that are raptor.rb configurations: the Ruby files of examples/ that require
// nothing (a configuration runs in raptor's sandbox, which has no require; the client scripts
// and signers require the standard library).
const CLIENT_SCRIPTS = ['auth_signer.rb', 'publish.rb', 'token.rb'];
const isConfig = (f) => f.endsWith('.rb') && !/^require /m.test(readFileSync(path.join(EXAMPLES, f), 'utf8'));

// Refused as the issue asks: exit 2, nothing on stdout (no banner, no credentials), one line.
function assertRefused({ code, stdout, stderr }, pattern) {
  assert.equal(code, 2, stderr);
  assert.equal(stdout, '', 'no banner before the refusal');
  assert.equal(stderr.trimEnd().split('\n').length, 1, `one line: ${stderr}`);
  assert.match(stderr, pattern);
}

describe('the development app', () => {
  it('is refused off loopback, with how to set real credentials', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const run = await runRaptor(['--host', host, '--port', '1']);
      assertRefused(run, /development app \(app-key \/ app-secret\) is served on loopback only.*--app-id, --app-key and --app-secret-file/);
    }
  });

  it('is refused when RAPTOR_HOST says so too', async () => {
    assertRefused(await runRaptor(['--port', '1'], { RAPTOR_HOST: '0.0.0.0' }), /loopback only/);
  });
});

describe('a raptor.rb that would serve known credentials', () => {
  const noApps = configFile('no-apps.rb', 'listen "0.0.0.0", port: 6001\nworkers 1\n');
  const placeholder = configFile('placeholder.rb', 'listen "0.0.0.0", port: 6001\napp "shop", key: "shop-key", secret: "change-me"\n');
  const placeholderFromEnv = configFile('placeholder-env.rb',
    'listen "0.0.0.0", port: 6001\napp "shop", key: "shop-key", secret: env("RAPTOR_SHOP_SECRET", "change-me")\n');
  const localPlaceholder = configFile('local-placeholder.rb', 'listen "127.0.0.1", port: 6001\napp "shop", key: "shop-key", secret: "change-me"\n');
  const directory = path.dirname(noApps);

  for (const [what, file, pattern] of [
    ['a file without apps', noApps, /^\S+no-apps\.rb: defines no app: add one/],
    ['a directory', directory, /: is a directory, not a configuration file \(e\.g\. .*\/raptor\.rb\)/],
    ['a placeholder secret on 0.0.0.0', placeholder, /placeholder\.rb: app shop has the placeholder secret 'change-me'/],
    ['a placeholder default of env() on 0.0.0.0', placeholderFromEnv, /placeholder-env\.rb: app shop has the placeholder secret/],
  ]) {
    it(`refuses ${what}: in raptor check and at start, naming the file`, async () => {
      const check = await runRaptor(['check', file]);
      assert.equal(check.code, 2, check.stdout);
      assert.match(check.stderr, pattern);
      assert.ok(check.stderr.includes(file), check.stderr);
      assertRefused(await runRaptor(['--config', file, '--port', '1']), pattern);
    });
  }

  it('allows a placeholder secret on loopback, for development', async () => {
    const { code, stderr } = await runRaptor(['check', localPlaceholder]);
    assert.equal(code, 0, stderr);
  });

  it('takes a file without apps when the environment gives the app (the packaged raptor.rb)', async () => {
    const app = { RAPTOR_APP_ID: 'i', RAPTOR_APP_KEY: 'k', RAPTOR_APP_SECRET: 'a-real-secret-4242' };
    const { code, stdout, stderr } = await runRaptor(['check', noApps], app);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /0 apps: the default app comes from RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET/);
  });
});

describe('raptor check --no-env', () => {
  const configs = readdirSync(EXAMPLES).filter(isConfig);

  it('finds the example configurations, and not the client scripts', () => {
    assert.ok(configs.includes('raptor.rb') && configs.length >= 6, configs.join(' '));
    assert.deepEqual(configs.filter((f) => CLIENT_SCRIPTS.includes(f)), []);
  });

  for (const name of configs) {
    it(`accepts examples/${name} without its secrets set`, async () => {
      const { code, stdout, stderr } = await runRaptor(['check', '--no-env', path.join(EXAMPLES, name)]);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      assert.match(stdout, /: OK: listens on /);
    });
  }

  it('ignores the variables that are set, and still refuses a placeholder default', async () => {
    const file = configFile('env-default.rb', 'listen "0.0.0.0"\napp "a", key: "k", secret: env("RAPTOR_A_SECRET", "app-secret")\n');
    const run = await runRaptor(['check', '--no-env', file], { RAPTOR_A_SECRET: 'a-real-secret-4242' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /app a has the placeholder secret 'app-secret'/);
    assert.equal((await runRaptor(['check', file], { RAPTOR_A_SECRET: 'a-real-secret-4242' })).code, 0);
  });

  it('is what raptor check suggests for an unset variable', async () => {
    const file = configFile('env-unset.rb', 'app "a", key: "k", secret: env("RAPTOR_UNSET_IN_CI")\n');
    const run = await runRaptor(['check', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /RAPTOR_UNSET_IN_CI is not set \(KeyError\); set it, or check the file without it: raptor check --no-env \S+env-unset\.rb\n$/);
    assert.equal((await runRaptor(['check', '--no-env', file])).code, 0);
  });

  it('still refuses a variable outside RAPTOR_*', async () => {
    const file = configFile('env-home.rb', 'app "a", key: "k", secret: env("HOME")\n');
    const run = await runRaptor(['check', '--no-env', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /only RAPTOR_\* variables/);
  });
});

describe('TLS files', () => {
  const good = selfSignedCertificate();
  const other = selfSignedCertificate();
  const tlsConfig = (name, cert, key) =>
    configFile(name, `listen "127.0.0.1", port: 6001\ntls cert: "${cert}", key: "${key}"\napp "a", key: "k", secret: "s"\n`);

  it('raptor check accepts a certificate with its key', async () => {
    const { code, stdout, stderr } = await runRaptor(['check', tlsConfig('tls-good.rb', good.certFile, good.keyFile)]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /listens on wss:\/\//);
  });

  const notPem = configFile('not-a-key.pem', 'hello\n');
  for (const [what, cert, key, pattern] of [
    ['a missing certificate', '/nonexistent/cert.pem', good.keyFile, /cannot read the TLS certificate \/nonexistent\/cert\.pem: No such file or directory/],
    ['a missing key', good.certFile, '/nonexistent/key.pem', /cannot read the TLS key \/nonexistent\/key\.pem: No such file or directory/],
    ['a key of another certificate', good.certFile, other.keyFile, /the TLS key \S+ does not match the certificate/],
    ['a key file that holds no key', good.certFile, notPem, /holds no PEM private key/],
  ]) {
    it(`raptor check and the start refuse ${what}`, async () => {
      const check = await runRaptor(['check', tlsConfig('tls-bad.rb', cert, key)]);
      assert.equal(check.code, 2);
      assert.match(check.stderr, pattern);
      assertRefused(await runRaptor(['--tls-cert', cert, '--tls-key', key, '--port', '1']), pattern);
    });
  }
});

it('refuses an empty certificate file', async () => {
  const empty = configFile('empty-cert.pem', '');
  const key = selfSignedCertificate().keyFile;
  assertRefused(await runRaptor(['--tls-cert', empty, '--tls-key', key, '--port', '1']), /holds no PEM certificate/);
});
