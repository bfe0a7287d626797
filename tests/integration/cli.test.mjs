// The command line: --help, --version, configuration errors (exit 2), the same settings from
// environment variables, and the built-in defaults.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { DEFAULT_APP, Raptor, freePort, runRaptor, underFileLimit } from './lib/raptor.mjs';
import { waitFor } from './lib/wait.mjs';
import { serverSuite } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const FLAGS = ['--host', '--port', '--app-id', '--app-key', '--app-secret', '--app-secret-file', '--app', '--no-client-events',
  '--tls-cert', '--tls-key', '--activity-timeout', '--pong-timeout', '--max-send-queue', '--help', '--version'];

describe('command line', () => {
  it('--help prints usage naming every flag on stdout and exits 0', async () => {
    const { code, stdout } = await runRaptor(['--help']);
    assert.equal(code, 0);
    for (const flag of FLAGS) assert.match(stdout, new RegExp(`${flag}\\b`), `usage mentions ${flag}`);
  });

  it('--version prints "raptor X.Y.Z" and exits 0', async () => {
    const { code, stdout } = await runRaptor(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^raptor \d+\.\d+\.\d+\n?$/);
  });

  const usageErrors = [
    ['an unknown flag', ['--frobnicate']],
    ['a flag missing its value', ['--port']],
    ['a port that is not a number', ['--port', 'http']],
    ['a port out of range', ['--port', '70000']],
    ['a negative activity timeout', ['--activity-timeout', '-5']],
    ['a pong timeout that is not a number', ['--pong-timeout', 'soon']],
    ['a send queue size that is not a number', ['--max-send-queue', 'lots']],
    ['an --app without three parts', ['--app', 'id-only:key-only']],
    ['a certificate without a key', ['--tls-cert', '/dev/null']],
    ['RAPTOR_PORT that is not a number', [], { RAPTOR_PORT: 'http' }],
    ['RAPTOR_CLIENT_EVENTS that is not a boolean', [], { RAPTOR_CLIENT_EVENTS: 'perhaps' }],
  ];
  for (const [what, args, env] of usageErrors) {
    it(`exits 2 with a message on stderr for ${what}`, async () => {
      const { code, stderr } = await runRaptor(args, env);
      assert.equal(code, 2);
      assert.ok(stderr.trim().length > 0, 'explains the error on stderr');
    });
  }

  it('exits non-zero with a message when the TLS files cannot be read', async () => {
    const { code, stderr } = await runRaptor(['--port', String(await freePort()), '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']);
    assert.notEqual(code, 0);
    assert.match(stderr, /cert|key|TLS/i);
  });

  it('exits non-zero with a message when the port is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const { code, stderr } = await runRaptor(['--port', String(taken.address().port)]);
      assert.notEqual(code, 0);
      assert.ok(stderr.trim().length > 0);
    } finally {
      taken.close();
    }
  });

  it('refuses a port another raptor serves, instead of sharing it through SO_REUSEPORT', async () => {
    const first = new Raptor();
    await first.start();
    try {
      const { code, stderr } = await runRaptor(['--port', String(first.port)]);
      assert.equal(code, 1);
      assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
    } finally {
      assert.deepEqual(first.problems(await first.stop()), []);
    }
  });
});

const ENV_APP = { id: 'env-app', key: 'env-key', secret: 'env-secret-31337' };
const ENV_APP2 = { id: 'env-app-2', key: 'env-key-2', secret: 'env-secret-2-4242' };

serverSuite('configured from the environment', { configVia: 'env', apps: [ENV_APP, ENV_APP2], clientEvents: false }, (server) => {
  it('serves the apps of RAPTOR_APP_* and RAPTOR_APPS, and only those', async () => {
    for (const app of [ENV_APP, ENV_APP2]) {
      const client = await RawClient.connect(server, { app });
      await client.subscribe('private-env');
      await serverSdk(server, app).trigger('private-env', 'hi', {});
      await client.next('hi', 'private-env');
    }
    const stranger = await RawClient.open(server, `/app/${DEFAULT_APP.key}${PUSHER_QUERY}`);
    assert.equal((await stranger.closed).code, 4001);
  });

  it('turns client events off with RAPTOR_CLIENT_EVENTS=false', async () => {
    const client = await RawClient.connect(server, { app: ENV_APP });
    await client.subscribe('private-env');
    client.trigger('private-env', 'client-x', {});
    await client.nextError(4306);
  });
});

serverSuite('built-in defaults', { configVia: 'defaults' }, (server) => {
  it('serves the development app app-id/app-key/app-secret with client events on', async () => {
    const [a, b] = [await RawClient.connect(server), await RawClient.connect(server)];
    assert.equal(a.established.payload.activity_timeout, 120);
    await a.subscribe('private-dev');
    await b.subscribe('private-dev');
    a.trigger('private-dev', 'client-x', { n: 1 });
    await b.next('client-x', 'private-dev');
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'private-dev' }), { channels: { 'private-dev': {} } });
  });

  it('waits on epoll unless --event-loop says otherwise, and says which', () => {
    // TEST_EVENT_LOOP (scripts/test's second pass) adds --event-loop to every server.
    assert.match(server.stderr, new RegExp(`listening on .* on ${process.env.TEST_EVENT_LOOP || 'epoll'}\n`));
  });
});

describe('out of file descriptors', () => {
  it('stops accepting while at the open-file limit, says so once, and serves again after', async () => {
    const server = new Raptor({ args: ['--workers', '1'], launcher: underFileLimit(120) });
    await server.start();
    try {
      assert.match(server.stderr, /open-file limit 120 allows about 56 connections/);
      const sockets = [];
      for (let i = 0; i < 150; i++) {
        const s = net.connect(server.port, '127.0.0.1');
        s.on('error', () => {});
        sockets.push(s);
      }
      await server.logged(/out of file descriptors/, 'the out-of-descriptors warning');
      for (const s of sockets) s.destroy();
      const client = await waitFor(() => RawClient.connect(server).catch(() => null), 'a new client to be served again');
      await client.close();
      assert.equal(server.stderr.match(/out of file descriptors/g).length, 1, 'warned once');
    } finally {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
    }
  });
});
