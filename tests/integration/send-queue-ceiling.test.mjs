// The ceiling on every client's unsent bytes together (--max-send-queue-total,
// docs/security.md#limits): once the process's send queues pass it, the clients with the largest
// queues are closed with 4100, the slowest first, until they are under it. Here two clients stop
// reading: the one subscribed to a hundred channels (the slowest: its queue grows a hundred times
// faster) is closed; the other, paused as well but behind by little, stays and gets everything
// once it reads again, and so does a client that never stopped.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { metricSample } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const TOKEN = 'send-queue-ceiling-admin-token-for-tests';
const CHANNELS = Array.from({ length: 100 }, (_, i) => `firehose-${i}`);
const DATA = { pad: 'x'.repeat(9000) }; // one trigger queues ~1 MB for a subscriber of all channels
const MAX_TRIGGERS = 80; // kernel socket buffers absorb several MB before raptor's queues grow

serverSuite('send queue ceiling', {
  // Each client may queue 16 MiB, all of them together 1 MiB: the ceiling is what acts.
  args: ['--max-send-queue', String(16 << 20), '--max-send-queue-total', String(1 << 20), '--admin-token', TOKEN],
}, (server, { stillServing }) => {
  it('closes the slowest reader with 4100 when the total passes the ceiling; a paused and a fast client keep receiving', async () => {
    const closes = () => metricSample(server, TOKEN, 'raptor_send_queue_ceiling_closes_total');
    const before = await closes();
    const [slowest, paused, fast] = [await RawClient.connect(server), await RawClient.connect(server), await RawClient.connect(server)];
    for (const channel of CHANNELS) slowest.sendSubscribe(channel);
    for (const channel of CHANNELS) await slowest.next('pusher_internal:subscription_succeeded', channel);
    await paused.subscribe(CHANNELS[0]);
    await fast.subscribe(CHANNELS[0]);
    slowest.ws.pause();
    paused.ws.pause();

    const sdk = serverSdk(server);
    let triggers = 0;
    await waitFor(async () => {
      if ((await closes()) > before) return true;
      if (triggers < MAX_TRIGGERS) {
        await sdk.trigger(CHANNELS, 'flood', DATA);
        triggers++;
      }
      return false;
    }, `the ceiling to close a client (at most ${MAX_TRIGGERS} MB sent)`, 30000);
    // Read again at once: its close frame waits behind the bytes the kernel holds for it, and
    // raptor gives a closing handshake 5 s before it drops the TCP connection.
    slowest.ws.resume();
    const { code } = await withTimeout(slowest.closed, 'the slowest client to see its close', 20000);
    assert.equal(code, 4100);
    assert.equal(await closes(), before + 1, 'one client closed');

    for (let i = 0; i < triggers; i++) await fast.next('flood', CHANNELS[0]);
    paused.ws.resume();
    for (let i = 0; i < triggers; i++) await paused.next('flood', CHANNELS[0]);
    assert.ok(paused.isOpen && fast.isOpen, 'the others stay connected');
    assert.ok(await metricSample(server, TOKEN, 'raptor_send_queue_bytes') < 1 << 20, 'under the ceiling again');
    await stillServing();
  });
});
