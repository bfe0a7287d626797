// Per-connection subscription limits (docs/protocol.md#limits, docs/security.md#limits): a cap on
// the channels and patterns one connection holds (4305, LimitReached, 403) and a subscribe rate
// (4301, LimitReached, 429). Both refusals leave the connection open, and the rate is per connection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runRaptor } from './lib/raptor.mjs';
import { LIMIT_REACHED, assertSubscribeRefused } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const RATE_LIMITED = { code: 4301, type: 'LimitReached', status: 429 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

serverSuite('subscription limits: --max-subscriptions', { args: ['--max-subscriptions', '5'] }, (server, { stillServing }) => {
  it('refuses the 6th subscription of a connection with 4305 until one is left', async () => {
    const client = await RawClient.connect(server);
    const held = ['one', 'private-two', 'cache-three', 'four.*', '/channels/public/five'];
    for (const channel of held) client.sendSubscribe(channel);
    for (const channel of held) await client.next('pusher_internal:subscription_succeeded', channel);
    await assertSubscribeRefused(client, 'six', {}, LIMIT_REACHED);
    await assertSubscribeRefused(client, 'private-six', {}, LIMIT_REACHED);
    await client.subscribe('one'); // held already: acknowledged again
    client.unsubscribe('one');
    await client.subscribe('six');
    const other = await RawClient.connect(server); // the cap is per connection
    await other.subscribe('one');
    await stillServing();
  });

  it('names the limit in the refusal', async () => {
    const client = await RawClient.connect(server);
    for (let i = 0; i < 5; i++) client.sendSubscribe(`c-${i}`);
    client.sendSubscribe('over');
    const refused = await client.next('pusher:subscription_error', 'over');
    assert.match(refused.data.error, /at most 5 subscriptions/);
  });
});

const RATE = ['--subscriptions-per-second', '1', '--max-subscriptions', '4'];
serverSuite('subscription limits: --subscriptions-per-second', { args: RATE }, (server, { stillServing }) => {
  it('takes a burst as large as the cap, then refuses with 4301 until the rate allows one more', async () => {
    const client = await RawClient.connect(server);
    const burst = ['a', 'b', 'private-c', 'a']; // a repeated subscribe counts too
    for (const channel of burst) client.sendSubscribe(channel);
    for (const channel of burst) await client.next('pusher_internal:subscription_succeeded', channel);
    await assertSubscribeRefused(client, 'd', {}, RATE_LIMITED);
    const other = await RawClient.connect(server); // per connection
    await other.subscribe('d');
    await sleep(1100); // one more a second
    await client.subscribe('d');
    await stillServing();
  });
});

describe('subscription limits: settings', () => {
  for (const [flag, value] of [['--max-subscriptions', '0'], ['--subscriptions-per-second', 'many']]) {
    it(`refuses ${flag} ${value} with exit status 2 and the flag named`, async () => {
      const { code, stderr } = await runRaptor([flag, value]);
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(`invalid value '${value}' for ${flag}`));
    });
  }
});
