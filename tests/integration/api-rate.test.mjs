// The HTTP API's publish rate per app (docs/security.md#limits): an app's api_events_per_second
// in raptor.rb, or --api-events-per-second for apps without one, up to a second's worth (at least
// a full batch of 10) at once. Events beyond it get 429 with a JSON error and Retry-After, on
// /events and /batch_events alike, are counted per app in /metrics, and are not delivered; other
// apps publish on undisturbed.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { assertApiError, metricSample, postEvents } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';

const TOKEN = 'api-rate-admin-token-for-tests';
const MAIN = { id: 'main', key: 'main-key', secret: 'main-secret-for-tests' };
const LIMITED = { id: 'limited', key: 'limited-key', secret: 'limited-secret-for-tests' };
const config = configFile('api-rate.rb', `
app "main", key: "main-key", secret: env("RAPTOR_MAIN_SECRET")
app "limited", key: "limited-key", secret: env("RAPTOR_LIMITED_SECRET"), api_events_per_second: 1
`);

const batch = (n, name) => Array.from({ length: n }, (_, i) => ({ channel: 'news', name, data: { i } }));

serverSuite('API publish rate per app (429)', {
  apps: [MAIN],
  // main's limit is the flag's; two workers share each app's rate.
  args: ['--config', config, '--api-events-per-second', '1000', '--admin-token', TOKEN, '--workers', '2'],
  env: { RAPTOR_MAIN_SECRET: MAIN.secret, RAPTOR_LIMITED_SECRET: LIMITED.secret },
}, (server, { stillServing }) => {
  it('answers events beyond the app\'s rate with 429, a JSON error and Retry-After, and publishes none of them', async () => {
    const refusedBefore = await metricSample(server, TOKEN, 'raptor_api_events_refused_total{app="limited"}');
    const limited = serverSdk(server, LIMITED);
    const [channel] = await subscribed(await pusherClient(server, { app: LIMITED }), 'news');
    const got = inboxOf((cb) => channel.bind('burst', cb));
    const gotRefused = inboxOf((cb) => channel.bind('refused', cb));
    const [mainChannel] = await subscribed(await pusherClient(server, { app: MAIN }), 'news');
    const gotMain = inboxOf((cb) => mainChannel.bind('burst', cb));

    await limited.triggerBatch(batch(10, 'burst')); // a full batch at once: the burst
    // Then 1 a second: the next within the second is refused (a loop, should a second pass).
    let status;
    let accepted = 0;
    for (let i = 0; i < 20 && status !== 429; i++) {
      status = await limited.trigger('news', 'burst', { extra: i }).then(() => 200, (err) => err.status);
      if (status === 200) accepted++;
    }
    assert.equal(status, 429, 'the SDK sees 429');
    await limited.trigger('news', 'refused', {}).then(() => assert.fail('accepted'), (err) => assert.equal(err.status, 429));
    const res = await postEvents(server, { name: 'refused', channel: 'news', data: '{}' }, { app: LIMITED });
    assertApiError(res, 429);
    assert.match(res.json.error, /^Over the app's limit of 1 events a second: retry after \d+ s$/);
    assert.match(res.headers['retry-after'], /^[1-9]\d*$/);
    const batched = await limited.triggerBatch([{ channel: 'news', name: 'refused', data: {} }]).then(() => 200, (err) => err.status);
    assert.equal(batched, 429, '/batch_events is limited too');
    assert.ok(await metricSample(server, TOKEN, 'raptor_api_events_refused_total{app="limited"}') >= refusedBefore + 4); // 1 + 1 + 1 + a batch of 1

    // Another app's events go out meanwhile, past the limited app's rate.
    await serverSdk(server, MAIN).triggerBatch(batch(10, 'burst'));
    await serverSdk(server, MAIN).triggerBatch(batch(10, 'burst'));
    for (let i = 0; i < 20; i++) await gotMain.take(undefined, `main's event ${i + 1} of 20`);

    // After the wait, the limited app publishes again; nothing refused was delivered.
    await waitFor(() => limited.trigger('news', 'burst', { after: true }).then(() => true, () => false), 'a publish after Retry-After', 10000);
    const seen = [];
    for (;;) {
      const { data } = await got.take(undefined, 'the accepted events');
      seen.push(data);
      if (data.after) break;
    }
    assert.equal(seen.filter((d) => d.i !== undefined).length, 10, 'the batch');
    assert.equal(seen.filter((d) => d.extra !== undefined).length, accepted, 'the accepted ones, not the refused one');
    assert.equal(gotRefused.pending().length, 0, 'no refused event delivered');
    await stillServing();
  });
});
