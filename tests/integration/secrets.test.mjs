// App secrets: never in raptor's logs, even while it reports the errors a secret is used to detect
// (bad channel signatures, bad API signatures); the development secret never live beside real
// credentials; a secret read from a file instead of the command line; a process other users'
// processes cannot dump; log lines a client cannot forge or flood; /health details for signed
// requests only (docs/security.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { describe, it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { assertApiError, healthDetails, postEvents, request, signedRequest } from './lib/http-api.mjs';
import { BIN, DEFAULT_APP, freePort, runRaptor } from './lib/raptor.mjs';
import { AUTH_ERROR, assertSubscribeRefused } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const MAIN = { id: 'main-app', key: 'main-key', secret: 'S3CRET-main-do-not-log-4711' };
const OTHER = { id: 'other-app', key: 'other-key', secret: 'S3CRET-other-do-not-log-0815' };

serverSuite('secrets stay out of the logs', { apps: [MAIN, OTHER] }, (server) => {
  it('logs no secret while refusing bad signatures of every kind', async () => {
    for (const app of [MAIN, OTHER]) {
      const client = await RawClient.connect(server, { app });
      await assertSubscribeRefused(client, 'private-x', { auth: `${app.key}:${'0'.repeat(64)}` }, AUTH_ERROR);
      await assertSubscribeRefused(client, 'presence-x', { channelData: '{"user_id":1}', auth: 'bad' }, AUTH_ERROR);
      const event = { name: 'e', channel: 'x', data: '{}' };
      assertApiError(await postEvents(server, event, { app: { ...app, secret: 'wrong' } }), 401);
      assertApiError(await postEvents(server, event, { app, timestamp: 1 }), 401);
      assertApiError(await signedRequest(server, { path: `/apps/${app.id}/channels`, app: { ...app, key: 'nope' } }), 401);
    }
    const leaks = [MAIN, OTHER].filter(({ secret }) => server.stderr.includes(secret) || server.stdout.includes(secret));
    assert.deepEqual(leaks, []);
  });
});

describe('the development app beside real credentials', () => {
  const partial = [
    ['--app-id and --app-key without a secret', ['--app-id', 'prod', '--app-key', 'pk']],
    ['--app-secret alone', ['--app-secret', 'S3CRET-alone']],
    ['RAPTOR_APP_ID and RAPTOR_APP_KEY without a secret', [], { RAPTOR_APP_ID: 'prod', RAPTOR_APP_KEY: 'pk' }],
  ];
  for (const [what, args, env] of partial) {
    it(`exits 2 for ${what}, saying all three are needed`, async () => {
      const { code, stderr } = await runRaptor(['--port', String(await freePort()), ...args], env);
      assert.equal(code, 2);
      assert.match(stderr, /all three of --app-id, --app-key and --app-secret/);
    });
  }
});

const PROD = { id: 'prod-app', key: 'prod-key', secret: 'S3CRET-prod-do-not-log-2718' };

serverSuite('--app apps without --app-id', { apps: [PROD], configVia: 'defaults', args: ['--app', `${PROD.id}:${PROD.key}:${PROD.secret}`] }, (server) => {
  it('serves them and not the development app: its key is refused (4001), its API requests too (404)', async () => {
    const client = await RawClient.connect(server, { app: PROD });
    await client.subscribe('private-prod');
    const stranger = await RawClient.open(server, `/app/${DEFAULT_APP.key}${PUSHER_QUERY}`);
    assert.equal((await withTimeout(stranger.closed, 'the development key to be refused')).code, 4001);
    assertApiError(await postEvents(server, { name: 'e', channel: 'x', data: '{}' }, { app: DEFAULT_APP }), 404);
    assert.match(server.stdout, /ids: prod-app\); keys and secrets are not printed/);
  });
});

const FILED = { id: 'filed-app', key: 'filed-key', secret: 'S3CRET-from-a-file-1618' };
const secretFile = configFile('raptor-secret', `${FILED.secret}\n`);

serverSuite('--app-secret-file', { apps: [FILED], configVia: 'defaults', args: ['--app-id', FILED.id, '--app-key', FILED.key, '--app-secret-file', secretFile] }, (server) => {
  it('signs with the secret in the file, which the process list does not show', async () => {
    assert.equal((await postEvents(server, { name: 'e', channel: 'x', data: '{}' })).status, 200);
    const cmdline = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes(secretFile));
    assert.ok(!cmdline.includes(FILED.secret));
  });

  it('exits 2 naming a file it cannot read', async () => {
    const missing = `${secretFile}-missing`;
    const { code, stderr } = await runRaptor(['--port', String(await freePort()), '--app-id', 'a', '--app-key', 'k', '--app-secret-file', missing]);
    assert.equal(code, 2);
    assert.ok(stderr.includes(`cannot read ${missing}: No such file or directory`), stderr);
  });
});

describe('the process', () => {
  it('is not dumpable: its /proc files belong to root, not to the user it runs as', async () => {
    // Run as nobody when the test runs as root, so that the owner tells something.
    const asUser = process.getuid() === 0 ? { uid: 65534, gid: 65534 } : {};
    const child = spawn(BIN, ['--port', String(await freePort())], { ...asUser, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const closed = once(child, 'close');
    try {
      await waitFor(() => out.includes('serving'), 'raptor to start');
      const uid = Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)[1]);
      assert.notEqual(uid, 0, 'raptor runs as an ordinary user');
      assert.equal(statSync(`/proc/${child.pid}/environ`).uid, 0, 'the kernel gives a non-dumpable process\'s /proc files to root');
    } finally {
      child.kill('SIGKILL');
      await closed;
    }
  });
});

const FORGED = '2026-01-01T00:00:00Z error forged by a client';

// A hook that fails with the client's event name in its error: both reach the log line.
const failingFilter = configFile('failing-filter.rb', 'filter_client_events { |event| raise "refused #{event.event}" }\n');
const logArgs = ['--workers', '1', '--config', failingFilter, '--webhook', 'http://127.0.0.1:9/unused;events=cache_miss'];

serverSuite('logs and /health', { args: logArgs }, (server) => {
  it('/health tells anyone only the status; a request signed by an app also the details', async () => {
    const open = await request(server, { path: '/health' });
    assert.equal(open.status, 200);
    assert.deepEqual(open.json, { status: 'ok' });
    const details = await healthDetails(server);
    assert.equal(details.status, 'ok');
    assert.equal(typeof details.webhooks.queued, 'number');
    assertApiError(await signedRequest(server, { path: '/health', app: { ...server.app, secret: 'wrong' } }), 401);
  });

  it('escapes a line break in a client event\'s name: a client cannot forge a log line', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-log');
    client.trigger('private-log', `client-x\n${FORGED}`, {});
    await client.nextError(4306);
    await server.logged(/filter_client_events hook .*event client-x\\n2026-01-01T00:00:00Z error forged by a client on private-log refused: .*refused client-x\\n2026-01-01T00:00:00Z error forged/);
    assert.ok(!server.stderr.split('\n').some((line) => line.startsWith(FORGED)));
  });

  it('logs at most 10 refused requests a second per worker, and then how many it left out', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const n = 50;
    try {
      for (let i = 0; i < n; i++) assertApiError(await request(server, { path: `/flood-${i}`, agent }), 404);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the next second
      assertApiError(await request(server, { path: '/flood-last', agent }), 404);
    } finally {
      agent.destroy();
    }
    await server.logged(/http 127\.0\.0\.1 GET \/flood-last -> 404\n/);
    const logged = server.stderr.match(/http 127\.0\.0\.1 GET \/flood-\S+ -> 404\n/g).length;
    const heldBack = [...server.stderr.matchAll(/http: (\d+) more requests answered with errors were not logged/g)];
    assert.ok(heldBack.length > 0, 'a line says how many were left out');
    assert.ok(logged < n, `${logged} of ${n + 1} logged`);
    assert.equal(logged + heldBack.reduce((sum, m) => sum + Number(m[1]), 0), n + 1, 'every refusal logged or counted');
  });
});
