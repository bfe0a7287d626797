// examples/client_event_filter.rb with real pusher-js clients: client events passed, rewritten,
// dropped silently or refused by a Ruby filter before anyone receives them.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inboxOf, pusherClient, subscribed } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';

const CHAT = { id: 'chat', key: 'chat-key', secret: 'chat-secret-for-tests' };
const config = fileURLToPath(new URL('../../examples/client_event_filter.rb', import.meta.url));

serverSuite('client-event filter (examples/client_event_filter.rb)', {
  apps: [CHAT], args: ['--config', config], env: { RAPTOR_CHAT_SECRET: CHAT.secret },
}, (server, { stillServing }) => {
  async function room() {
    const alice = await pusherClient(server, { user: { user_id: 'alice' } });
    const bob = await pusherClient(server, { user: { user_id: 'bob' } });
    const [fromAlice] = await subscribed(alice, 'presence-room');
    const [atBob] = await subscribed(bob, 'presence-room');
    const received = inboxOf((cb) => atBob.bind_global((event, data) => {
      if (event.startsWith('client-')) cb({ event, data });
    }));
    return { alice, fromAlice, received };
  }

  it('passes, rewrites and drops, in the order sent', async () => {
    const { fromAlice, received } = await room();
    fromAlice.trigger('client-message', { text: 'hello', extra: 1 });
    fromAlice.trigger('client-message', { text: 'buy now, cheap' }); // dropped
    fromAlice.trigger('client-typing', { typing: true });
    const first = await received.take(undefined, 'the rewritten message');
    assert.deepEqual(first.data, { event: 'client-message', data: { text: 'hello', extra: 1, from: 'alice', checked: true } });
    const second = await received.take(undefined, 'the typing notice');
    assert.deepEqual(second.data, { event: 'client-typing', data: { typing: true } });
  });

  it('refuses what the filter denies, with pusher:error 4306 to the sender only', async () => {
    const { alice, fromAlice, received } = await room();
    const errors = inboxOf((cb) => alice.connection.bind('error', cb));
    fromAlice.trigger('client-shout', { text: 'HEY' });
    const { data: error } = await errors.take(undefined, 'pusher:error');
    assert.equal(error.data.code, 4306);
    assert.equal(error.data.message, 'Client event refused by policy: client-shout is not allowed here');
    fromAlice.trigger('client-typing', { typing: false });
    const next = await received.take(undefined, 'the typing notice after the refusal');
    assert.equal(next.data.event, 'client-typing');
    await stillServing();
  });
});
