// The configuration the Debian package ships (packaging/raptor.rb as /etc/raptor/raptor.rb) with
// the /etc/default/raptor its postinst writes: `raptor check` accepts it, and the service serves
// the installation's own app, never the development app's public credentials.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Raptor, runRaptor } from './lib/raptor.mjs';
import { assertServesOnly } from './lib/refusals.mjs';

const SHIPPED = fileURLToPath(new URL('../../packaging/raptor.rb', import.meta.url));
// As postinst makes them: RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET.
const INSTALLED = { id: 'app-5f0c2a9e', key: '4be07d51c3a9e8f21d06', secret: '9c2f4e6a81d03b5f7e90a2c4d6e8f1a3b5c7d9e0f2a4b6c8' };

describe('the packaged raptor.rb', () => {
  it('passes raptor check with /etc/default/raptor\'s variables, or --no-env: loopback port 6001, no app of its own', async () => {
    const installed = { RAPTOR_APP_ID: INSTALLED.id, RAPTOR_APP_KEY: INSTALLED.key, RAPTOR_APP_SECRET: INSTALLED.secret };
    for (const [args, env] of [[['check', SHIPPED], installed], [['check', '--no-env', SHIPPED], {}]]) {
      const { code, stdout, stderr } = await runRaptor(args, env);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /: OK: listens on ws:\/\/127\.0\.0\.1:6001; 0 apps: the default app comes from RAPTOR_APP_ID, RAPTOR_APP_KEY and RAPTOR_APP_SECRET\[_FILE\]\n$/);
    }
  });

  it('is refused by raptor check without them: it would serve no app of the installation', async () => {
    const { code, stderr } = await runRaptor(['check', SHIPPED]);
    assert.equal(code, 2);
    assert.match(stderr, /raptor\.rb: defines no app: .*check with --no-env/);
  });

  it('serves the app of /etc/default/raptor and refuses the development app', async () => {
    // 'env': the app (and the test's port) come as RAPTOR_* variables, as systemd passes them.
    const server = new Raptor({ apps: [INSTALLED], configVia: 'env', args: ['--config', SHIPPED] });
    await server.start();
    try {
      await assertServesOnly(server, INSTALLED, 'no development app on an installed server');
    } finally {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
    }
  });
});
