// examples/token_policy.rb with real pusher-js clients: connections admitted or refused by a
// token in the WebSocket URL, presence members taken from the token (user_info rewritten), and
// private-user-{id} channels limited to their user, while other private channels keep needing
// the app's signature.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inboxOf, pusherClient, refusedPusherClient, subscribed, withUrlParams } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';
import { assertClosedWith } from './lib/refusals.mjs';

const TOKEN_SECRET = 'token-secret-for-tests';
const CHAT = { id: 'chat', key: 'chat-key', secret: 'chat-secret-for-tests' };
const config = fileURLToPath(new URL('../../examples/token_policy.rb', import.meta.url));

// As examples/token.rb makes them.
function token(userId, { ttl = 3600, secret = TOKEN_SECRET } = {}) {
  const payload = `${userId}.${Math.floor(Date.now() / 1000) + ttl}`;
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

const asUser = (userId, { server, ...options }) => withUrlParams({ token: token(userId) }, () => pusherClient(server, options));

function subscriptionError(pusher, name) {
  const channel = pusher.subscribe(name);
  return inboxOf((cb) => channel.bind('pusher:subscription_error', cb)).take(undefined, `${name} refused`);
}

serverSuite('token policy (examples/token_policy.rb)', {
  apps: [CHAT], args: ['--config', config],
  env: { RAPTOR_TOKEN_SECRET: TOKEN_SECRET, RAPTOR_CHAT_SECRET: CHAT.secret },
  bystander: { query: `${PUSHER_QUERY}&token=${token('bystander')}` },
}, (server, { stillServing }) => {
  it('refuses a connection without a token: pusher:error and close 4009 with the hook\'s reason', async () => {
    const client = await RawClient.open(server, `/app/${CHAT.key}${PUSHER_QUERY}`);
    await assertClosedWith(client, 4009);
    assert.equal((await client.closed).reason, 'Connection refused by policy: a valid token is required');
  });

  it('refuses pusher-js without a token, and pusher-js does not reconnect', async () => {
    const { pusher, states } = await refusedPusherClient(server);
    assert.equal(states.at(-1), 'disconnected');
    assert.ok(!states.includes('connected'), `states: ${states}`);
    await stillServing();
    assert.equal(pusher.connection.state, 'disconnected');
  });

  for (const [what, bad] of [
    ['an expired token', token('7', { ttl: -10 })],
    ['a token signed with another secret', token('7', { secret: 'guess' })],
    ['a token with its user changed', token('7').replace(/^7/, '8')],
    ['garbage', 'not-a-token'],
  ]) {
    it(`refuses pusher-js with ${what}`, async () => {
      const client = await RawClient.open(server, `/app/${CHAT.key}${PUSHER_QUERY}&token=${encodeURIComponent(bad)}`);
      await assertClosedWith(client, 4009);
    });
  }

  it('admits pusher-js with a valid token', async () => {
    const pusher = await asUser('7', { server });
    assert.equal(pusher.connection.state, 'connected');
    await subscribed(pusher, 'public-news');
  });

  it('joins presence as the token\'s user, with the user_info the policy gives', async () => {
    // pusher-js wants channel_data from its auth endpoint for presence; the policy ignores it.
    const watcher = await asUser('1', { server, user: { user_id: 'someone' } });
    const [watched] = await subscribed(watcher, 'presence-room');
    const added = inboxOf((cb) => watched.bind('pusher:member_added', cb));
    // The client claims to be "mallory" in validly signed channel_data; the token wins.
    const joiner = await asUser('42', { server, user: { user_id: 'mallory', user_info: { name: 'Mallory' } } });
    await subscribed(joiner, 'presence-room');
    const { data: member } = await added.take(undefined, 'member_added');
    assert.deepEqual({ id: member.id, info: member.info }, { id: '42', info: { name: 'user 42', verified: true } });
    const ids = [];
    watched.members.each((m) => ids.push(m.id));
    assert.deepEqual(ids.sort(), ['1', '42']);
  });

  it('lets a user into private-user-{own id} only, signature or not', async () => {
    const pusher = await asUser('7', { server });
    await subscribed(pusher, 'private-user-7');
    const { data } = await subscriptionError(pusher, 'private-user-8');
    assert.equal(data.status, 403);
    assert.match(data.error, /refused by policy/);
    await stillServing();
  });

  it('still wants the app\'s signature on other private channels (pass)', async () => {
    const signed = await asUser('7', { server });
    await subscribed(signed, 'private-orders');
    const forged = await asUser('7', { server, tamper: (a) => ({ ...a, auth: `${CHAT.key}:${'0'.repeat(64)}` }) });
    const { data } = await subscriptionError(forged, 'private-orders');
    assert.equal(data.status, 401);
  });
});
