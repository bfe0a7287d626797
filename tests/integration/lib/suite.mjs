// A describe() block that owns one raptor process: started before its tests, its clients closed
// after each test, and a last test that stops it and fails on a crash, a non-zero exit, a
// sanitizer report or a secret in its output. Also keeps a bystander: an unrelated client connected
// all along, which every bad input is followed by checking (the server keeps serving everyone).
// And serversInFront: raptors and the proxies in front of them, for a suite.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { serverSdk } from './clients.mjs';
import { Raptor } from './raptor.mjs';
import { RawClient } from './ws-client.mjs';

// options: for the Raptor, plus `bystander` (RawClient.connect options, e.g. a query a policy
// wants to see).
export function serverSuite(title, { bystander: bystanderOptions = {}, ...options }, define) {
  describe(title, () => {
    const server = new Raptor(options);
    let bystander;
    let served = 0;

    before(async () => {
      await server.start();
      bystander = await RawClient.connect(server, bystanderOptions);
      bystander.untrack(); // lives for the whole suite, not one test
      await bystander.subscribe('bystander');
    });
    afterEach(() => server.closeClients());
    after(() => server.stop().catch(() => {}));

    async function stillServing() {
      const n = ++served;
      await serverSdk(server).trigger('bystander', 'still-serving', { n });
      await bystander.next((f) => f.event === 'still-serving' && f.channel === 'bystander' && f.payload?.n === n);
      assert.ok(bystander.isOpen, 'bystander connection still open');
    }

    define(server, { stillServing });

    it('stops cleanly on SIGTERM: exit 0, no sanitizer report, no secret in its output', async () => {
      await server.closeClients();
      await bystander?.close();
      const problems = server.problems(await server.stop());
      assert.deepEqual(problems, [], `${problems.join('; ')}\n--- raptor stderr (tail) ---\n${server.stderr.slice(-4000)}`);
    });
  });
}

// Starts `raptors`, then the `proxies` in front of them, before the suite's tests, and stops them
// in the other order after (each proxy needs its raptor's port, and must not outlive it).
export function serversInFront(raptors, proxies) {
  before(async () => {
    await Promise.all(raptors.map((r) => r.start()));
    await Promise.all(proxies.map((p) => p.start()));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all(raptors.map((r) => r.stop()));
  });
}
