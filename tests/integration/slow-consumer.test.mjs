// A client that stops reading is closed with 4100 once its unsent queue passes --max-send-queue,
// while a fast subscriber of the same channels keeps receiving everything.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { RawClient } from './lib/ws-client.mjs';

const CHANNELS = Array.from({ length: 100 }, (_, i) => `firehose-${i}`);
const DATA = { pad: 'x'.repeat(9000) }; // one trigger sends ~1 MB to a subscriber of all channels
const MAX_TRIGGERS = 80; // kernel socket buffers absorb several MB before raptor's queue grows

serverSuite('slow consumer', { args: ['--max-send-queue', '65536'] }, (server, { stillServing }) => {
  it('closes a client that stops reading with 4100 and keeps feeding the others', async () => {
    const [slow, fast] = [await RawClient.connect(server), await RawClient.connect(server)];
    for (const channel of CHANNELS) slow.sendSubscribe(channel);
    for (const channel of CHANNELS) await slow.next('pusher_internal:subscription_succeeded', channel);
    await fast.subscribe(CHANNELS[0]);
    slow.ws.pause(); // stop reading: the kernel buffers fill, then raptor's queue for it

    let triggers = 0;
    const sdk = serverSdk(server);
    const subscribers = async () =>
      (await apiGet(server, `/channels/${CHANNELS[0]}`, { info: 'subscription_count' })).subscription_count;
    const dropped = /websocket \S+ closing with 4100: Client too slow/;
    // Flood until raptor decides to drop it (it logs the decision). Its close frame then waits
    // behind what the kernel's buffers already hold (several MB when its frames were flushed
    // batch by batch) and raptor gives it 5 s to be written (Worker::wake): the client reads
    // again at once, as a slow client that is merely behind would, and must then see 4100.
    await waitFor(async () => {
      if (dropped.test(server.stderr)) return true;
      if (triggers < MAX_TRIGGERS) {
        await sdk.trigger(CHANNELS, 'flood', DATA);
        triggers++;
      }
      return false;
    }, `raptor to drop the slow client (at most ${MAX_TRIGGERS} MB sent)`, 20000);
    slow.ws.resume();
    const { code } = await withTimeout(slow.closed, 'the slow client to see its close', 20000);
    assert.equal(code, 4100);
    // It is gone from the channels, and the fast subscriber got every event.
    await waitFor(async () => (await subscribers()) === 1, 'the slow client to leave the channels');
    for (let i = 0; i < triggers; i++) await fast.next('flood', CHANNELS[0]);
    await stillServing();
  });
});
