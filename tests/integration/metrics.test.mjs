// GET /metrics (docs/metrics.md): the Prometheus text format read back by a Prometheus
// exposition parser, its values matching what the test did; the admin token that guards it; and
// /health telling ok, degraded (with reasons) and draining apart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { request, signedRequest } from './lib/http-api.mjs';
import { bearer, scrape as scrapeWith, value } from './lib/prometheus.mjs';
import { freePort, Raptor, runRaptor } from './lib/raptor.mjs';
import { configFile } from './lib/config-files.mjs';
import { POLICY_REFUSED } from './lib/refusals.mjs';
import { channelAuth } from './lib/signature.mjs';
import { waitFor } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'metrics-test-token-0123456789';
const scrape = (server, token = TOKEN) => scrapeWith(server, token);

describe('/metrics', () => {
  // Two workers: each counts in its own block, and the scrape sums them.
  const server = new Raptor({ args: ['--admin-token', TOKEN, '--workers', '2'] });
  before(() => server.start());
  after(() => server.stop());

  it('refuses a request without the admin token or with a wrong one: 401, JSON, WWW-Authenticate', async () => {
    for (const headers of [{}, bearer('not-the-token-at-all'), { authorization: TOKEN }]) {
      const res = await request(server, { path: '/metrics', headers });
      assert.equal(res.status, 401);
      assert.match(res.json.error, /token/i);
      assert.match(res.headers['www-authenticate'], /^Bearer/);
      assert.doesNotMatch(res.text, /raptor_/);
    }
  });

  it('counts connections, subscriptions and publishes as the test made them, summed over workers', async () => {
    const N = 5;
    const M = 7;
    const clients = [];
    for (let i = 0; i < N; i++) clients.push(await RawClient.connect(server));
    for (const c of clients) await c.subscribe('metrics-public');
    const presence = await RawClient.connect(server);
    clients.push(presence);
    await presence.subscribe('presence-metrics', { channelData: JSON.stringify({ user_id: 'u1' }) });

    const before = await scrape(server);
    const sdk = serverSdk(server);
    for (let i = 0; i < M; i++) await sdk.trigger('metrics-public', 'tick', { i });
    await Promise.all(clients.slice(0, N).map((c) => c.next((f) => f.event === 'tick' && f.payload?.i === M - 1)));
    const families = await scrape(server);

    assert.equal(value(families, 'raptor_connections', { app: server.app.id }), N + 1);
    assert.equal(value(families, 'raptor_subscriptions', { type: 'public' }), N);
    assert.equal(value(families, 'raptor_subscriptions', { type: 'presence' }), 1);
    assert.equal(value(families, 'raptor_channels', { type: 'public' }), 1);
    assert.equal(value(families, 'raptor_channels', { type: 'presence' }), 1);
    assert.equal(value(families, 'raptor_presence_members'), 1);
    const delta = (name, labels) => value(families, name, labels) - value(before, name, labels);
    assert.equal(delta('raptor_api_events_total', { app: server.app.id }), M);
    // Every publish reached N subscribers: N × M event frames at least left the queues.
    assert.ok(delta('raptor_messages_sent_total') >= N * M);
    // The M publishes and the scrape before this one, each answered 200 (the SDK's too).
    assert.equal(delta('raptor_http_requests_total', { status: '200' }), M + 1);
    assert.equal(delta('raptor_http_request_duration_seconds'), M + 1);

    await clients[0].close();
    await clients[1].close();
    await waitFor(async () => value(await scrape(server), 'raptor_connections', { app: server.app.id }) === N - 1,
      'the gauge to count the two closed connections out');
    const closed = await scrape(server);
    assert.equal(value(closed, 'raptor_connections_opened_total', { app: server.app.id }), N + 1);
    assert.equal(value(closed, 'raptor_subscriptions', { type: 'public' }), N - 2);
  });

  it('counts client events and the bytes that came in', async () => {
    const before = await scrape(server);
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    for (const c of [a, b]) await c.subscribe('private-chat', { auth: channelAuth(server.app, c.socketId, 'private-chat') });
    for (let i = 0; i < 3; i++) a.trigger('private-chat', 'client-said', { i });
    await b.next((f) => f.event === 'client-said' && f.data?.i === 2);
    const families = await scrape(server);
    const delta = (name, labels) => value(families, name, labels) - value(before, name, labels);
    assert.equal(delta('raptor_client_events_total', { app: server.app.id }), 3);
    assert.ok(delta('raptor_received_bytes_total') > 0);
  });

  it('exports the process figures every Prometheus client library does', async () => {
    const families = await scrape(server);
    assert.ok(value(families, 'process_resident_memory_bytes') > 1 << 20);
    assert.ok(value(families, 'process_open_fds') >= 3);
    assert.ok(value(families, 'process_max_fds') >= value(families, 'process_open_fds'));
    assert.ok(value(families, 'process_cpu_seconds_total') > 0);
    const started = value(families, 'process_start_time_seconds');
    assert.ok(Math.abs(started - Date.now() / 1000) < 3600, `start time ${started} is about now`);
    assert.equal(families.raptor_health.type, 'GAUGE');
    assert.equal(value(families, 'raptor_health', { status: 'ok' }), 1);
    assert.equal(value(families, 'raptor_draining'), 0);
  });
});

describe('/metrics with raptor.rb hooks and admin_token set in raptor.rb', () => {
  const HOOK_TOKEN = 'hooks-test-token-0123456789';
  const file = configFile('metrics-hooks.rb', `hook_time_budget 50
admin_token "${HOOK_TOKEN}"
authorize do |subscription|
  case subscription.channel
  when "boom" then raise ArgumentError, "boom"
  when "spin" then loop { }
  else pass
  end
end
`);
  const server = new Raptor({ args: ['--config', file, '--workers', '1'] });
  before(() => server.start());
  after(() => server.stop());

  it('counts hook calls, the ones that raised and the ones stopped at their budget', async () => {
    const before = await scrape(server, HOOK_TOKEN);
    const client = await RawClient.connect(server);
    await client.subscribe('calm');
    await client.subscribeRefused('boom', {}, POLICY_REFUSED.code);
    await client.subscribeRefused('spin', {}, POLICY_REFUSED.code);
    const families = await scrape(server, HOOK_TOKEN);
    const delta = (name) => value(families, name) - value(before, name);
    assert.equal(delta('raptor_hook_calls_total'), 3);
    assert.equal(delta('raptor_hook_errors_total'), 1);
    assert.equal(delta('raptor_hook_timeouts_total'), 1);
    assert.ok(delta('raptor_hook_seconds_total') > 0);
  });
});

describe('/metrics with a webhook receiver that is down', () => {
  it('shows the events waiting and how long the oldest has waited', async () => {
    const deadPort = await freePort();
    const server = new Raptor({ args: ['--admin-token', TOKEN, '--webhook', `http://127.0.0.1:${deadPort}/hook`] });
    await server.start();
    try {
      const client = await RawClient.connect(server);
      await client.subscribe('watched'); // channel_occupied, which cannot be delivered
      const families = await waitFor(async () => {
        const f = await scrape(server);
        return value(f, 'raptor_webhook_queue_depth') >= 1 && value(f, 'raptor_webhook_oldest_age_seconds') > 0 && f;
      }, 'the undeliverable event to show as waiting');
      assert.equal(families.raptor_webhook_oldest_age_seconds.type, 'GAUGE');
      assert.equal(value(families, 'raptor_webhook_events_sent_total'), 0);
      await client.close();
    } finally {
      await server.stop();
    }
  });
});

describe('/metrics without an admin token configured', () => {
  const server = new Raptor();
  before(() => server.start());
  after(() => server.stop());

  it('is off: 403 saying how to turn it on, whatever token is sent', async () => {
    for (const headers of [{}, bearer(TOKEN)]) {
      const res = await request(server, { path: '/metrics', headers });
      assert.equal(res.status, 403);
      assert.match(res.json.error, /admin_token|--admin-token/);
    }
  });

  it('refuses a token shorter than 16 characters at start-up', async () => {
    const run = await runRaptor(['--admin-token', 'short']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--admin-token: at least 16 characters/);
    assert.doesNotMatch(run.stderr, /short/);
  });
});

describe('/health', () => {
  it('says degraded, with the reason, while Redis is unreachable; still 200', async () => {
    const deadPort = await freePort();
    const server = new Raptor({ args: ['--redis', `redis://127.0.0.1:${deadPort}`, '--admin-token', TOKEN] });
    await server.start();
    try {
      const res = await request(server, { path: '/health' });
      assert.equal(res.status, 200);
      assert.equal(res.json.status, 'degraded');
      assert.ok(res.json.reasons.some((r) => /^redis: /.test(r)), JSON.stringify(res.json));
      const families = await scrape(server);
      assert.equal(value(families, 'raptor_health', { status: 'degraded' }), 1);
      assert.equal(value(families, 'raptor_redis_connected_workers'), 0);
    } finally {
      await server.stop();
    }
  });

  it('says ok with no reasons on a healthy node', async () => {
    const server = new Raptor();
    await server.start();
    try {
      const res = await request(server, { path: '/health' });
      assert.deepEqual([res.status, res.json], [200, { status: 'ok' }]);
    } finally {
      await server.stop();
    }
  });
});

describe('stats API', () => {
  const other = { id: 'other-app', key: 'other-key', secret: 'other-secret' };
  const server = new Raptor({ apps: [{ id: 'app-id', key: 'app-key', secret: 'app-secret' }, other], args: ['--workers', '2'] });
  before(() => server.start());
  after(() => server.stop());

  it('gives the app its connections now and at peak, messages per channel and the busiest channels', async () => {
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await RawClient.connect(server));
    for (const c of clients) await c.subscribe('prices');
    const member = await RawClient.connect(server);
    await member.subscribe('presence-lobby', { channelData: JSON.stringify({ user_id: 'ann' }) });
    const sdk = serverSdk(server);
    for (let i = 0; i < 4; i++) await sdk.trigger('prices', 'tick', { i });
    await sdk.trigger('news', 'headline', {});
    await clients[2].next((f) => f.event === 'tick' && f.payload?.i === 3);
    await clients[0].close();
    await clients[1].close();

    const stats = await waitFor(async () => {
      const s = await apiGet(server, '/stats');
      return s.connections.current === 2 && s;
    }, 'the app stats to count the two closed connections out');
    assert.deepEqual(stats.connections, { current: 2, peak: 4 });
    assert.equal(stats.app, 'app-id');
    assert.deepEqual([stats.messages.total, stats.messages.last_minute, stats.messages.last_hour], [5, 5, 5]);
    assert.deepEqual(stats.top_channels.map((c) => [c.name, c.messages.last_minute]), [['prices', 4], ['news', 1]]);
    assert.deepEqual(stats.largest_presence_channels, [{ name: 'presence-lobby', user_count: 1 }]);
    assert.equal(stats.channels.occupied, 2);

    const prices = await apiGet(server, '/channels/prices/stats');
    assert.equal(prices.subscription_count, 1);
    assert.equal(prices.occupied, true);
    assert.equal(prices.tracked, true);
    assert.deepEqual([prices.messages.total, prices.messages.last_hour], [4, 4]);
    const quiet = await apiGet(server, '/channels/never-used/stats');
    assert.deepEqual([quiet.occupied, quiet.tracked, quiet.messages.total], [false, false, 0]);

    // The other app sees none of it.
    const theirs = await apiGet(server, '/stats', {}, other);
    assert.deepEqual([theirs.messages.total, theirs.top_channels, theirs.connections.current], [0, [], 0]);
  });

  it('top=N sets the length of the lists, 1 to 100 (10 without it); anything else is a 400 with a JSON error', async () => {
    const sdk = serverSdk(server);
    const names = Array.from({ length: 12 }, (_, i) => `top-${String(i).padStart(2, '0')}`);
    // top-00 gets 22 events, top-01 21, … top-11 11 (more than the earlier test's channels had):
    // a strict order to read back.
    const events = names.flatMap((name, i) => Array.from({ length: 22 - i }, () => ({ channel: name, name: 'e', data: '{}' })));
    for (let i = 0; i < events.length; i += 10) await sdk.triggerBatch(events.slice(i, i + 10));
    const listed = (stats) => stats.top_channels.map((c) => c.name).filter((n) => n.startsWith('top-'));
    assert.deepEqual(listed(await apiGet(server, '/stats', { top: '12' })), names);
    assert.deepEqual(listed(await apiGet(server, '/stats', { top: '100' })), names);
    assert.deepEqual(listed(await apiGet(server, '/stats', { top: '3' })), names.slice(0, 3));
    assert.equal((await apiGet(server, '/stats')).top_channels.length, 10);
    for (const top of ['0', '101', '-1', '1.5', 'ten', '', '0010']) {
      const res = await signedRequest(server, { path: '/apps/app-id/stats', params: { top } });
      assert.equal(res.status, 400, `top=${top}`);
      assert.match(res.json.error, /^top must be a whole number from 1 to 100$/, `top=${top}`);
    }
    const onChannel = await signedRequest(server, { path: '/apps/app-id/channels/top-00/stats', params: { top: '3' } });
    assert.equal(onChannel.status, 400);
    assert.match(onChannel.json.error, /top/);
  });

  it('answers only signed requests, each app for itself', async () => {
    const unsigned = await request(server, { path: '/apps/app-id/stats' });
    assert.equal(unsigned.status, 401);
    assert.ok(unsigned.json.error);
    const foreign = await signedRequest(server, { path: '/apps/app-id/stats', app: other });
    assert.equal(foreign.status, 401);
    const unknown = await signedRequest(server, { path: '/apps/nope/stats' });
    assert.equal(unknown.status, 404);
    const bad = await signedRequest(server, { path: '/apps/app-id/channels/bad*name/stats' });
    assert.equal(bad.status, 400);
    const post = await signedRequest(server, { method: 'POST', path: '/apps/app-id/stats' });
    assert.equal(post.status, 405);
  });
});
