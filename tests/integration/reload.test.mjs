// SIGHUP: raptor reads raptor.rb again while it serves. Under a steady stream of events to
// pusher-js subscribers on two workers, no connection drops and every event arrives exactly once,
// in order; the new hooks and app settings apply from then on. A broken file is refused with
// file:line and the running configuration stays; restart-only settings are kept with a warning;
// repeated reloads leave no thread, descriptor or memory behind.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { request } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const CHAT = { id: 'chat', key: 'chat-key', secret: 'chat-secret-for-tests' };
const CHAT_RENEWED = { ...CHAT, secret: 'chat-secret-renewed-for-tests' };
const OLD = { id: 'old', key: 'old-key', secret: 'old-secret-for-tests' };
const ADDED = { id: 'added', key: 'added-key', secret: 'added-secret-for-tests' };

// raptor.rb as each test wants it. `closed`: the authorize hook refuses private-closed-*.
function ruby({ closed = false, clientEvents = true, secret = 'env("RAPTOR_CHAT_SECRET")', apps = [OLD],
                workers = 2, host = '127.0.0.1', extra = '' } = {}) {
  return `listen "${host}"
workers ${workers}
app "chat", key: "chat-key", secret: ${secret}, client_events: ${clientEvents} do |app|
  app.authorize do |subscription|
    ${closed ? 'next deny("closed by the reload") if subscription.channel.start_with?("private-closed-")' : ''}
    pass
  end
end
${apps.map((a) => `app "${a.id}", key: "${a.key}", secret: "${a.secret}"`).join('\n')}
${extra}
`;
}

const file = configFile('reloaded.rb', ruby());
const rewrite = (options) => configFile('reloaded.rb', ruby(options));

serverSuite('configuration reload (SIGHUP)', {
  apps: [CHAT, OLD, ADDED, CHAT_RENEWED], configVia: 'defaults', args: ['--config', file],
  env: {
    RAPTOR_CHAT_SECRET: CHAT.secret,
    // Under ASan, freed memory waits in a quarantine (256 MB by default) before it is reused,
    // which would look like growth to the RSS check below; other builds ignore the variable.
    ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=1'].filter(Boolean).join(':'),
  },
}, (server, { stillServing }) => {
  it('under load: no connection dropped, no event lost or repeated; new hooks and settings apply', async () => {
    rewrite();
    // pusher-js subscribers of a public and a private channel, spread over both workers.
    const CHANNELS = ['news', 'private-feed'];
    const clients = [];
    for (let i = 0; i < 6; i++) {
      const pusher = await pusherClient(server, { app: CHAT });
      const states = [];
      pusher.connection.bind('state_change', ({ current }) => states.push(current));
      const received = Object.fromEntries(CHANNELS.map((c) => [c, []]));
      for (const name of CHANNELS) {
        const [channel] = await subscribed(pusher, name);
        channel.bind('tick', ({ n }) => received[name].push(n));
      }
      clients.push({ pusher, socketId: pusher.connection.socket_id, states, received });
    }
    // A raw client subscribed before the reload to a channel the new hook closes, and one that
    // sends client events, which the new file disables.
    const early = await RawClient.connect(server, { app: CHAT });
    await early.subscribe('private-closed-early');
    await early.subscribe('private-talk');

    // A steady publisher: each event to both channels, one after the other, until told to stop.
    const sdk = serverSdk(server, CHAT);
    let sent = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        sent += 1;
        const res = await sdk.trigger(CHANNELS, 'tick', { n: sent });
        assert.equal(res.status, 200);
      }
    })();
    await waitFor(() => sent >= 100, '100 events before the reload', 15000);

    rewrite({ closed: true, clientEvents: false });
    const outcome = await server.reload();
    assert.match(outcome, /reload: done in \d+ ms: apps: changed chat \(client_events\); hooks reloaded/);
    const atReload = sent;
    await waitFor(() => sent >= atReload + 100, '100 events after the reload', 15000);
    stop = true;
    await publishing;

    const all = Array.from({ length: sent }, (_, i) => i + 1);
    for (const c of clients) {
      for (const name of CHANNELS) {
        await waitFor(() => c.received[name].length >= sent, `all ${sent} events on ${name}`, 15000);
        // Exactly once each. Not necessarily in publishing order: two HTTP requests of one
        // publisher may land on different workers (SO_REUSEPORT), and raptor does not order
        // events across workers (see docs/configuration.md#reloading-sighup).
        const got = [...c.received[name]].sort((a, b) => a - b);
        const missing = all.filter((n) => !got.includes(n));
        const repeated = got.filter((n, i) => got[i - 1] === n);
        assert.deepEqual({ missing, repeated }, { missing: [], repeated: [] }, `every event exactly once on ${name}`);
      }
      assert.deepEqual(c.states, [], 'the connection never changed state');
      assert.equal(c.pusher.connection.socket_id, c.socketId, 'the same connection');
    }

    // The new hook decides new subscriptions; the one made before the reload stays.
    const { subscriptionError } = await early.subscribeRefused('private-closed-late', {}, 4304);
    assert.equal(subscriptionError.data.error, 'Subscription refused by policy: closed by the reload');
    await early.subscribe('private-open-late');
    await sdk.trigger('private-closed-early', 'still-here', { ok: true });
    assert.deepEqual((await early.next('still-here', 'private-closed-early')).payload, { ok: true });
    // The app's new settings apply to connections that were open before the reload.
    early.trigger('private-talk', 'client-hello', {});
    assert.match((await early.nextError(4306)).data.message, /Client events are disabled/);
    // And a pusher-js client that connects now gets the same.
    const late = await pusherClient(server, { app: CHAT });
    const refused = inboxOf((cb) => late.subscribe('private-closed-x').bind('pusher:subscription_error', cb));
    assert.equal((await refused.take()).data.status, 403);
    await stillServing();
  });

  it('closes the connections of a removed app with 4001, serves an added one', async () => {
    rewrite();
    await server.reload();
    const old = await RawClient.connect(server, { app: OLD });
    await old.subscribe('old-news');
    rewrite({ apps: [ADDED] });
    assert.match(await server.reload(), /apps: added added; removed old \(1 connections closed with 4001\)/);
    assert.equal((await old.nextError(4001)).data.message, 'Application does not exist (removed by a configuration reload)');
    assert.equal((await old.closed).code, 4001);
    const refused = await RawClient.open(server, `/app/${OLD.key}?protocol=7`);
    assert.equal((await refused.closed).code, 4001, 'its key is no longer served');
    assert.equal((await request(server, { path: `/apps/${OLD.id}/channels` })).status, 404);
    const added = await RawClient.connect(server, { app: ADDED });
    await added.subscribe('added-news');
    await serverSdk(server, ADDED).trigger('added-news', 'hi', {});
    await added.next('hi', 'added-news');
    // Back again under the same id: served as before.
    rewrite();
    assert.match(await server.reload(), /apps: added old; removed added/);
    await (await RawClient.connect(server, { app: OLD })).subscribe('old-again');
  });

  it('signs with a changed secret at once: the HTTP API and subscriptions', async () => {
    const client = await RawClient.connect(server, { app: CHAT });
    rewrite({ secret: `"${CHAT_RENEWED.secret}"` });
    assert.match(await server.reload(), /changed chat \(secret\)/);
    const before = await serverSdk(server, CHAT).trigger('news', 'x', {}).catch((err) => err);
    assert.equal(before.status, 401, 'the old secret is refused');
    assert.equal((await serverSdk(server, CHAT_RENEWED).trigger('news', 'x', {})).status, 200);
    // The connection opened before the reload: its subscriptions are checked with the new secret.
    client.app = CHAT_RENEWED;
    await client.subscribe('private-renewed');
    client.app = CHAT;
    await client.subscribeRefused('private-with-old-secret', {}, 4304);
    rewrite();
    await server.reload();
  });

  it('refuses a broken file with file:line and keeps the running configuration', async () => {
    rewrite({ closed: true });
    await server.reload();
    const client = await RawClient.connect(server, { app: CHAT });
    const broken = configFile('reloaded.rb', `${ruby({ closed: false })}\napp "x", key: "y",\n  secret: 42\n`);
    const outcome = await server.reload();
    assert.match(outcome, /^reload refused, the running configuration stays as it was: /);
    assert.match(server.stderr, /error reload refused/);
    assert.ok(outcome.includes(`${broken}:`), outcome);
    assert.match(outcome, /app x: secret must be a non-empty String/);
    // The hooks of before: private-closed-* still refused, by the policy of before.
    const { subscriptionError } = await client.subscribeRefused('private-closed-1', {}, 4304);
    assert.equal(subscriptionError.data.error, 'Subscription refused by policy: closed by the reload');
    for (const [what, source, pattern] of [
      ['a syntax error', 'app "chat" do\n', /reloaded\.rb:\d+: syntax error/],
      ['a hook that raises at load', `${ruby()}\nraise "not today"\n`, /reloaded\.rb:\d+: not today \(RuntimeError\)/],
      ['a file that never finishes', `${ruby()}\nloop { }\n`, /stopped after its time budget/],
    ]) {
      configFile('reloaded.rb', source);
      assert.match(await server.reload(), pattern, what);
    }
    await client.subscribeRefused('private-closed-2', {}, 4304);
    await stillServing();
    rewrite();
    assert.match(await server.reload(), /reload: done/);
    await client.subscribe('private-closed-3');
  });

  it('keeps restart-only settings, with a warning naming each', async () => {
    rewrite({ workers: 3, host: '127.0.0.2', extra: 'compression true\nactivity_timeout 60' });
    const outcome = await server.reload();
    assert.match(outcome, /reload: done .*; activity_timeout 120 -> 60/);
    assert.match(server.stderr, /warn reload: listen address changed from "127\.0\.0\.1" to "127\.0\.0\.2", which needs a restart: still "127\.0\.0\.1"/);
    assert.match(server.stderr, /warn reload: workers changed from 2 to 3, which needs a restart: still 2/);
    assert.match(server.stderr, /warn reload: compression changed from false to true, which needs a restart: still false/);
    // Still on the old address, and the new activity timeout is what new connections are told.
    const client = await RawClient.connect(server, { app: CHAT });
    assert.equal(client.established.payload.activity_timeout, 60);
    rewrite();
    await server.reload();
  });

  it('leaves no thread, descriptor or memory behind after 20 reloads', async () => {
    const client = await RawClient.connect(server, { app: CHAT });
    await client.subscribe('private-counted');
    const warm = async (n) => {
      for (let i = 0; i < n; i++) {
        rewrite({ closed: i % 2 === 0, apps: i % 3 === 0 ? [OLD, ADDED] : [OLD] });
        assert.match(await server.reload(), /reload: done/);
      }
    };
    await warm(5); // allocators settle
    const before = server.resources();
    await warm(20);
    const after = server.resources();
    assert.equal(after.threads, before.threads, 'threads');
    // Fewer is fine: sockets of the previous tests' clients may still have been closing.
    assert.ok(after.fds <= before.fds, `file descriptors: ${before.fds} before, ${after.fds} after`);
    // Each reload builds and frees one Ruby VM per worker plus one for reading the file.
    assert.ok(after.rssKb - before.rssKb < 16 * 1024, `RSS grew from ${before.rssKb} kB to ${after.rssKb} kB`);
    await serverSdk(server, CHAT).trigger('private-counted', 'after-20', {});
    await client.next('after-20', 'private-counted');
    assert.ok(client.isOpen);
  });
});

// A hook stuck in C code on one worker, which the first stage of the time budget cannot stop: a
// SIGHUP must not pause the other worker behind it. The reload is refused (it would change what
// the busy worker reads) and the node goes on serving; once the hook has been stopped, the next
// SIGHUP applies.
const stuck = configFile('stuck.rb', `workers 2
hook_time_budget 2000
authorize do |subscription|
  next pass unless subscription.channel == "hang"
  Raptor.log("hanging on #{subscription.channel}")
  ("a" * 4_000_000).index("a" * 2_000_000 + "b")
end
`);

serverSuite('reload while a hook hangs on one worker', { args: ['--config', stuck] }, (server, { stillServing }) => {
  it('refuses the reload rather than freeze; a new connection and /health are still answered', async () => {
    const hanging = await RawClient.connect(server);
    hanging.send({ event: 'pusher:subscribe', data: { channel: 'hang' } });
    await server.logged(/script: hanging on hang/);
    assert.match(await server.reload(),
      /^reload refused, the running configuration stays as it was: 1 of 2 workers did not pause within 2000 ms/);
    // While the hook still runs: the kernel spreads connections over both workers, and those on
    // the busy one wait for it, so of a few attempts the first answered is from the other.
    const attempts = Array.from({ length: 8 }, () => RawClient.connect(server));
    const fresh = await Promise.any(attempts);
    await fresh.subscribe('fine');
    await Promise.any(Array.from({ length: 8 }, async () => {
      assert.equal((await request(server, { path: '/health' })).status, 200);
    }));
    // Stopped after twice its budget of CPU time (docs/configuration.md#limits).
    await waitFor(() => /stuck\.rb:6: stopped after its time budget of 2000 ms inside a C method/.test(server.stderr),
      'the hook to be stopped', 30000);
    await Promise.allSettled(attempts);
    assert.match(await server.reload(), /^reload: done/);
    await stillServing();
  });
});
