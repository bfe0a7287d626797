// App secrets never reach raptor's logs, even while it reports the errors a secret is used to
// detect (bad channel signatures, bad API signatures).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertApiError, postEvents, signedRequest } from './lib/http-api.mjs';
import { AUTH_ERROR, assertSubscribeRefused } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const MAIN = { id: 'main-app', key: 'main-key', secret: 'S3CRET-main-do-not-log-4711' };
const OTHER = { id: 'other-app', key: 'other-key', secret: 'S3CRET-other-do-not-log-0815' };

serverSuite('secrets stay out of the logs', { apps: [MAIN, OTHER] }, (server) => {
  it('logs no secret while refusing bad signatures of every kind', async () => {
    for (const app of [MAIN, OTHER]) {
      const client = await RawClient.connect(server, { app });
      await assertSubscribeRefused(client, 'private-x', { auth: `${app.key}:${'0'.repeat(64)}` }, AUTH_ERROR);
      await assertSubscribeRefused(client, 'presence-x', { channelData: '{"user_id":1}', auth: 'bad' }, AUTH_ERROR);
      const event = { name: 'e', channel: 'x', data: '{}' };
      assertApiError(await postEvents(server, event, { app: { ...app, secret: 'wrong' } }), 401);
      assertApiError(await postEvents(server, event, { app, timestamp: 1 }), 401);
      assertApiError(await signedRequest(server, { path: `/apps/${app.id}/channels`, app: { ...app, key: 'nope' } }), 401);
    }
    const leaks = [MAIN, OTHER].filter(({ secret }) => server.stderr.includes(secret) || server.stdout.includes(secret));
    assert.deepEqual(leaks, []);
  });
});
