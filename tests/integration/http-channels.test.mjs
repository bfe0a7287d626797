// HTTP API queries: GET /apps/{id}/channels, /channels/{name} and /channels/{name}/users.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet } from './lib/clients.mjs';
import { assertApiError, signedRequest } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

async function member(server, channel, userId) {
  const client = await RawClient.connect(server);
  await client.subscribe(channel, userId === undefined ? {} : { channelData: JSON.stringify({ user_id: userId }) });
  return client;
}

const get = (server, path, params) => signedRequest(server, { path: `/apps/${server.app.id}${path}`, params });

serverSuite('HTTP channel queries', {}, (server, { stillServing }) => {
  it('lists only occupied channels, filtered by prefix', async () => {
    await member(server, 'list-a');
    await member(server, 'list-a');
    await member(server, 'list-b');
    const gone = await member(server, 'list-gone');
    gone.unsubscribe('list-gone');
    await gone.sync();
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'list-' }), { channels: { 'list-a': {}, 'list-b': {} } });
    const all = await apiGet(server, '/channels');
    assert.ok('list-a' in all.channels && 'bystander' in all.channels && !('list-gone' in all.channels));
  });

  it('drops a channel from the list when its last subscriber disconnects', async () => {
    const client = await member(server, 'list-closing');
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'list-closing' }), { channels: { 'list-closing': {} } });
    await client.close();
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'list-closing' }), { channels: {} });
  });

  it('lists subscription_count and, for presence prefixes, user_count', async () => {
    await member(server, 'count-me');
    await member(server, 'count-me');
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'count-', info: 'subscription_count' }),
      { channels: { 'count-me': { subscription_count: 2 } } });
    await member(server, 'presence-count', 'a');
    await member(server, 'presence-count', 'a');
    await member(server, 'presence-count', 'b');
    assert.deepEqual(await apiGet(server, '/channels', { filter_by_prefix: 'presence-count', info: 'user_count' }),
      { channels: { 'presence-count': { user_count: 2 } } });
  });

  it('describes one channel: occupied, subscription_count, user_count', async () => {
    assert.deepEqual(await apiGet(server, '/channels/nobody-here'), { occupied: false });
    await member(server, 'one-channel');
    assert.deepEqual(await apiGet(server, '/channels/one-channel', { info: 'subscription_count' }), { occupied: true, subscription_count: 1 });
    await member(server, 'presence-one', 'x');
    await member(server, 'presence-one', 'x');
    const info = await apiGet(server, '/channels/presence-one', { info: 'user_count' });
    assert.deepEqual(info, { occupied: true, user_count: 1 });
  });

  it('lists the distinct users of a presence channel', async () => {
    await member(server, 'presence-users', 'ann');
    await member(server, 'presence-users', 'ann');
    await member(server, 'presence-users', 7);
    const { users } = await apiGet(server, '/channels/presence-users/users');
    assert.deepEqual(users.map((u) => u.id).sort(), ['7', 'ann']);
    assert.deepEqual(await apiGet(server, '/channels/presence-empty/users'), { users: [] });
  });

  const refused = [
    ['user_count on /channels without a prefix', '/channels', { info: 'user_count' }],
    ['user_count on /channels with a non-presence prefix', '/channels', { filter_by_prefix: 'list-', info: 'user_count' }],
    ['user_count of a public channel', '/channels/one-channel', { info: 'user_count' }],
    ['users of a public channel', '/channels/one-channel/users', {}],
    ['users of a private channel', '/channels/private-x/users', {}],
    ['an invalid channel name', '/channels/bad:name', {}],
    ['a channel name over 200 characters', `/channels/${'c'.repeat(201)}`, {}],
    ['an invalid channel name in /users', '/channels/presence-bad:name/users', {}],
  ];
  for (const [what, path, params] of refused) {
    it(`refuses ${what} (400), and keeps serving`, async () => {
      assertApiError(await get(server, path, params), 400);
      await stillServing();
    });
  }
});
