// Limits per client address (docs/security.md#limits): connections one address holds open at
// once (--max-connections-per-ip, refused with 4101) and connects a second from one address
// (--connects-per-second-per-ip / raptor.rb connects_per_second_per_ip, refused with 4102), both
// counted over every worker. The address is the one a trusted proxy (127.0.0.1 here) names in
// X-Forwarded-For; loopback itself is never counted. Each refusal is a pusher:error and a close
// in the back-off range (pusher-js tries again a second later), a log line and a counter, and
// other addresses' connections go on.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { connectingPusherClient, withHeaders } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { metricSample } from './lib/http-api.mjs';
import { assertClosedWith } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const TOKEN = 'address-limits-admin-token-for-tests';
const refusals = (server, code) => metricSample(server, TOKEN, `raptor_connections_refused_total{code="${code}"}`);

// A connection from `address`, as the trusted proxy on 127.0.0.1 passes it on.
const from = (server, address) =>
  RawClient.open(server, `/app/${server.app.key}${PUSHER_QUERY}`, { headers: { 'X-Forwarded-For': address } });

async function established(client) {
  const first = await client.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error');
  client.frames.push(first); // left for the assertions on a refusal
  return first.event === 'pusher:connection_established';
}

serverSuite('per-address limits: connections open at once (4101)', {
  // Two workers: the count is the process's, exact over both.
  args: ['--trusted-proxy', '127.0.0.1/32', '--max-connections-per-ip', '3', '--admin-token', TOKEN, '--workers', '2'],
}, (server, { stillServing }) => {
  it('refuses the address\'s fourth connection with 4101, counts the others apart, and admits it again once one closed', async () => {
    const before = await refusals(server, 4101);
    const held = [];
    for (let i = 0; i < 3; i++) {
      held.push(await from(server, '203.0.113.7'));
      assert.ok(await established(held[i]), `connection ${i + 1} of 3 admitted`);
    }
    const fourth = await from(server, '203.0.113.7');
    await assertClosedWith(fourth, 4101);
    await server.logged(/websocket 203\.0\.113\.7 refused with 4101: Too many connections from your address/);
    assert.equal(await refusals(server, 4101), before + 1);

    // Another client behind the same proxy, and clients on loopback itself (not counted), connect.
    assert.ok(await established(await from(server, '203.0.113.8')), 'another address');
    for (let i = 0; i < 4; i++) assert.ok((await RawClient.connect(server)).isOpen, 'loopback is not counted');
    assert.ok(held.every((c) => c.isOpen), 'the address\'s own connections stay open');

    // pusher-js, refused with 4101, tries again a second later, and gets in once a place is free.
    await withHeaders({ 'X-Forwarded-For': '203.0.113.7' }, async () => {
      const pusher = connectingPusherClient(server);
      const error = await withTimeout(new Promise((resolve) => pusher.connection.bind('error', resolve)), 'pusher-js to hear the 4101');
      assert.equal(error.error?.data?.code, 4101, 'the handshake\'s pusher:error, as pusher-js hands it on');
      await held.pop().close();
      await withTimeout(new Promise((resolve) => pusher.connection.bind('connected', resolve)), 'pusher-js to get in', 10000);
    });
    await stillServing();
  });
});

const rateConfig = configFile('address-rate.rb', 'connects_per_second_per_ip 1\nmax_connections_per_ip 0\n');

serverSuite('per-address limits: connects a second (4102), from raptor.rb', {
  args: ['--config', rateConfig, '--trusted-proxy', '127.0.0.1/32', '--admin-token', TOKEN, '--workers', '2'],
}, (server, { stillServing }) => {
  it('refuses connects beyond 1 a second (5 at once) from one address with 4102, closing does not give them back', async () => {
    const before = await refusals(server, 4102);
    const kept = await from(server, '198.51.100.9');
    assert.ok(await established(kept));
    // Connect and close in a loop: 5 at once and 1 a second pass, a loop goes faster.
    let refused;
    for (let i = 0; i < 50 && !refused; i++) {
      const client = await from(server, '198.51.100.9');
      if (await established(client)) await client.close();
      else refused = client;
    }
    assert.ok(refused, 'a connect refused within 50');
    await assertClosedWith(refused, 4102);
    await server.logged(/websocket 198\.51\.100\.9 refused with 4102: Too many connects a second from your address/);
    assert.ok(await refusals(server, 4102) >= before + 1);
    assert.ok(kept.isOpen, 'the address\'s open connection is not touched');
    assert.ok(await established(await from(server, '198.51.100.10')), 'another address connects');
    // A token comes back each second.
    await waitFor(async () => established(await from(server, '198.51.100.9')), 'a connect a second later', 10000);
    await stillServing();
  });
});
