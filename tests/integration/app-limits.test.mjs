// Limits an operator sets per app (docs/security.md#limits): max_connections, the app's
// connections open at once on this node, past which a connection is refused with Pusher's 4004
// "over connection quota"; --max-connections-per-app, the same for apps that set none; and
// allowed_origins, the pages whose Origin may connect, others refused with 4009. Each refusal is
// a pusher:error and a close with its code that pusher-js takes as final, a log line and a
// counter in /metrics.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { it } from 'node:test';
import { pusherClient, refusedPusherClient, withOrigin } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { metricSample } from './lib/http-api.mjs';
import { runRaptor } from './lib/raptor.mjs';
import { assertClosedWith } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'app-limits-admin-token-for-tests';
const MAIN = { id: 'main', key: 'main-key', secret: 'main-secret-for-tests' };
const QUOTA = { id: 'quota', key: 'quota-key', secret: 'quota-secret-for-tests' };
const GUARDED = { id: 'guarded', key: 'guarded-key', secret: 'guarded-secret-for-tests' };
const config = configFile('app-limits.rb', `
app "main", key: "main-key", secret: env("RAPTOR_MAIN_SECRET")
app "quota", key: "quota-key", secret: env("RAPTOR_QUOTA_SECRET"), max_connections: 2
app "guarded", key: "guarded-key", secret: env("RAPTOR_GUARDED_SECRET"),
    allowed_origins: ["https://app.example.com", "https://*.example.org"]
`);

const refusals = (server, code) => metricSample(server, TOKEN, `raptor_connections_refused_total{code="${code}"}`);

serverSuite('per-app limits: max_connections (4004) and allowed_origins (4009)', {
  apps: [MAIN], // the others come from the file only
  // Two workers: the quota counts the app's connections on the node, over every worker.
  args: ['--config', config, '--max-connections-per-app', '3', '--admin-token', TOKEN, '--workers', '2'],
  env: { RAPTOR_MAIN_SECRET: MAIN.secret, RAPTOR_QUOTA_SECRET: QUOTA.secret, RAPTOR_GUARDED_SECRET: GUARDED.secret },
}, (server, { stillServing }) => {
  it('max_connections: the third connection of the app is refused with 4004, pusher-js gives up, a place freed is taken again', async () => {
    const before = await refusals(server, 4004);
    const first = await pusherClient(server, { app: QUOTA });
    await pusherClient(server, { app: QUOTA });
    const raw = await RawClient.open(server, `/app/${QUOTA.key}?protocol=7`);
    await assertClosedWith(raw, 4004);
    const { pusher, states } = await refusedPusherClient(server, { app: QUOTA });
    assert.deepEqual(states.filter((s) => s === 'connected'), [], 'pusher-js never connected');
    assert.equal(pusher.connection.state, 'disconnected');
    await server.logged(/refused with 4004: Application is over connection quota/);
    assert.equal(await refusals(server, 4004), before + 2);
    await pusherClient(server, { app: MAIN }); // another app's connections are not counted

    first.disconnect(); // once its close reached the server, its place is free again
    await waitFor(() => admitted(server, QUOTA), 'a place freed by a disconnect to be taken again');
    await stillServing();
  });

  it('--max-connections-per-app: the default for apps without max_connections', async () => {
    // The suite's bystander holds one connection of the main app: two more make three.
    await pusherClient(server, { app: MAIN });
    await pusherClient(server, { app: MAIN });
    const raw = await RawClient.open(server, `/app/${MAIN.key}?protocol=7`);
    await assertClosedWith(raw, 4004);
    await stillServing();
  });

  it('allowed_origins: a listed origin or a subdomain of a wildcard connects, any other is refused with 4009', async () => {
    const before = await refusals(server, 4009);
    await withOrigin('https://app.example.com', () => pusherClient(server, { app: GUARDED }));
    await withOrigin('https://shop.eu.example.org', () => pusherClient(server, { app: GUARDED }));
    for (const origin of ['https://evil.example.net', 'https://example.org', 'http://app.example.com']) {
      const raw = await RawClient.open(server, `/app/${GUARDED.key}?protocol=7`, { app: GUARDED, origin });
      await assertClosedWith(raw, 4009);
    }
    const { states } = await withOrigin('https://evil.example.net', () => refusedPusherClient(server, { app: GUARDED }));
    assert.deepEqual(states.filter((s) => s === 'connected'), [], 'pusher-js never connected');
    await server.logged(/refused with 4009: Origin not allowed: https:\/\/evil\.example\.net/);
    assert.equal(await refusals(server, 4009), before + 4);
    // No Origin header: not a browser page, which is all the list can tell apart.
    await pusherClient(server, { app: GUARDED });
    await stillServing();
  });
});

// Whether a new connection of `app` is admitted (connection_established, not a pusher:error).
async function admitted(server, app) {
  const raw = await RawClient.open(server, `/app/${app.key}?protocol=7`, { app });
  const first = await raw.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error');
  return first.event === 'pusher:connection_established';
}

it('raptor check: an allowed_origins entry that is not an origin, or a max_connections of 0, fails at its line', async () => {
  const file = configFile('bad-limits.rb', `app "a", key: "k", secret: "s",
    allowed_origins: ["https://app.example.com/page"]
`);
  let run = await runRaptor(['check', file]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /bad-limits\.rb:2: app a: allowed_origins: "https:\/\/app\.example\.com\/page" is not an origin \(scheme:\/\/host\[:port\]/);
  writeFileSync(file, 'app "b", key: "k2", secret: "s2", max_connections: 0\n');
  run = await runRaptor(['check', file]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /app b: max_connections must be an Integer from 1 to 10000000, not 0/);
});
