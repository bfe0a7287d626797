// An anonymous client floods the webhook queue (docs/webhooks.md#when-a-receiver-falls-behind):
// every new public channel it subscribes and leaves makes a channel_occupied and a
// channel_vacated, every cache- channel a cache_miss too, while the receiver does not answer.
// The receiver must still get every member event, no vacated without its occupied and no
// flood of cache_miss; /health counts what was dropped and the pairs left untold.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { healthDetails } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'flood-app', key: 'flood-key', secret: 'flood-secret-77aa' };
const PAIRS = 100;
const MEMBERS = ['bob', 'carol', 'dave'];

// Answers nothing until released: the first POST stays in flight and everything else waits.
let release;
const released = new Promise((resolve) => { release = () => resolve(200); });
const receiver = await new WebhookReceiver(APP, { answer: () => released }).start();
after(() => receiver.stop());

const options = {
  apps: [APP],
  args: ['--webhook', receiver.url, '--webhook-queue-limit', '30', '--webhook-timeout-ms', '60000'],
};

async function webhookHealth(server) {
  return (await healthDetails(server)).webhooks;
}

function join(server, user) {
  return RawClient.connect(server).then(async (client) => {
    await client.subscribe('presence-room', { channelData: JSON.stringify({ user_id: user }) });
    return client;
  });
}

serverSuite('webhooks: a flood of channels while the receiver does not answer', options, (server, { stillServing }) => {
  it('keeps every member event and drops cache_miss and untold occupied/vacated pairs first', async () => {
    await join(server, 'alice');
    await waitFor(() => receiver.deliveries.length === 1, 'the first POST to be in flight');

    const flooder = await RawClient.connect(server);
    for (let i = 0; i < PAIRS; i++) {
      for (const channel of [`flood-${i}`, `cache-flood-${i}`]) {
        flooder.sendSubscribe(channel);
        flooder.unsubscribe(channel);
      }
    }
    await flooder.sync();
    // The 2 * PAIRS departures come 3 s later: each goes with its occupied, still waiting (a
    // pair untold) or dropped before (the vacated dropped too). Counted from now, well before.
    const settled = ({ dropped, coalesced = 0 }) => dropped + coalesced / 2;
    const before = settled(await webhookHealth(server));
    for (const user of MEMBERS) await join(server, user);
    await waitFor(async () => settled(await webhookHealth(server)) - before >= 2 * PAIRS, 'the departures', 15000);

    release();
    for (const user of MEMBERS) await receiver.take({ name: 'member_added', channel: 'presence-room', user_id: user }, 15000);
    await waitFor(async () => (await webhookHealth(server)).pending === 0, 'the queue to drain', 15000);
    const flooded = receiver.accepted.filter((e) => e.channel.includes('flood-'));
    assert.deepEqual(flooded.filter((e) => e.name === 'cache_miss'), [], 'cache_miss makes room first');
    for (let i = 0; i < PAIRS; i++) {
      for (const channel of [`flood-${i}`, `cache-flood-${i}`]) {
        const history = receiver.history(channel);
        assert.ok(history.length === 0 || history.join() === 'channel_occupied,channel_vacated', `${channel}: ${history}`);
      }
    }
    const h = await webhookHealth(server);
    assert.ok(h.dropped >= PAIRS, `every cache_miss counted as dropped: ${JSON.stringify(h)}`);
    assert.ok(h.coalesced > 0);
    assert.deepEqual(receiver.invalid(), []);
    await stillServing();
  });
});
