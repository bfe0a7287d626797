// Several apps (--app) in one server are isolated: channels, presence, client events, API keys.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { assertApiError, postEvents } from './lib/http-api.mjs';
import { AUTH_ERROR, assertSubscribeRefused } from './lib/refusals.mjs';
import { channelAuth } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const A = { id: 'app-a', key: 'key-a', secret: 'secret-a-7f3e' };
const B = { id: 'app-b', key: 'key-b', secret: 'secret-b-91c2' };

serverSuite('several apps', { apps: [A, B] }, (server, { stillServing }) => {
  it('keeps same-named channels of different apps apart', async () => {
    const [inA, inB] = [await RawClient.connect(server, { app: A }), await RawClient.connect(server, { app: B })];
    await inA.subscribe('private-shared');
    await inB.subscribe('private-shared');
    await serverSdk(server, A).trigger('private-shared', 'for-a', {});
    await serverSdk(server, B).trigger('private-shared', 'for-b', {});
    await inA.next('for-a', 'private-shared');
    await inB.next('for-b', 'private-shared'); // sent after for-a: for-a would have arrived first
    assert.deepEqual(inB.frames.pending((f) => f.event === 'for-a'), []);
    await inA.sync();
    assert.deepEqual(inA.frames.pending((f) => f.event === 'for-b'), []);
  });

  it('keeps presence rosters and client events per app', async () => {
    const join = async (app, user_id) => {
      const client = await RawClient.connect(server, { app });
      const ok = await client.subscribe('presence-room', { channelData: JSON.stringify({ user_id }) });
      return { client, presence: ok.payload.presence };
    };
    const a1 = await join(A, 'a1');
    const b1 = await join(B, 'b1');
    assert.deepEqual(b1.presence.ids, ['b1']);
    const a2 = await join(A, 'a2');
    assert.deepEqual([...a2.presence.ids].sort(), ['a1', 'a2']);
    a1.client.trigger('presence-room', 'client-hi', { from: 'a1' });
    await a2.client.next('client-hi', 'presence-room');
    await a1.client.sync();
    await b1.client.sync();
    assert.deepEqual(b1.client.frames.pending((f) => /member_added|client-hi/.test(f.event)), []);
  });

  it('answers channel queries per app', async () => {
    const client = await RawClient.connect(server, { app: B });
    await client.subscribe('only-in-b');
    assert.ok('only-in-b' in (await apiGet(server, '/channels', {}, B)).channels);
    assert.ok(!('only-in-b' in (await apiGet(server, '/channels', {}, A)).channels));
  });

  it('refuses app B\'s key and secret on app A\'s id (401), and keeps serving', async () => {
    const res = await postEvents(server, { name: 'e', channel: 'x', data: '{}' }, { app: { ...B, id: A.id } });
    assertApiError(res, 401);
    await stillServing();
  });

  it('refuses a subscription signed with another app\'s secret (4304)', async () => {
    const client = await RawClient.connect(server, { app: A });
    const auth = channelAuth({ ...A, secret: B.secret }, client.socketId, 'private-x');
    await assertSubscribeRefused(client, 'private-x', { auth }, AUTH_ERROR);
    await stillServing();
  });
});
