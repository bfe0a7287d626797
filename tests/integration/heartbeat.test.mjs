// Server-side liveness: a silent connection is pinged after --activity-timeout and closed with
// 4201 when no pong follows within --pong-timeout. Short timeouts keep the file fast.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertClosedWith } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const WAIT_MS = 6000; // activity (1 s) + pong (1 s) timeouts, with room for a sanitizer build

serverSuite('heartbeat', { args: ['--activity-timeout', '1', '--pong-timeout', '1'] }, (server, { stillServing }) => {
  it('announces the configured activity_timeout', async () => {
    const client = await RawClient.connect(server);
    assert.equal(client.established.payload.activity_timeout, 1);
  });

  it('pings a silent connection and closes it with 4201 when no pong comes', async () => {
    const client = await RawClient.connect(server, { autoPong: false });
    const ping = await client.next('pusher:ping', undefined, WAIT_MS);
    assert.deepEqual(ping.data, {});
    await assertClosedWith(client, 4201);
    await stillServing();
  });

  it('keeps a connection that answers every ping', async () => {
    const client = await RawClient.connect(server); // answers pusher:ping with pusher:pong
    for (let i = 0; i < 3; i++) await client.next('pusher:ping', undefined, WAIT_MS);
    await client.sync();
    assert.ok(client.isOpen);
  });
});
