// The examples a new user copies: examples/publish.rb (Ruby standard library only, signed as the
// `pusher` gem signs) must publish to a real subscriber, by channel name or URL resource, and be
// refused with a wrong secret.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../examples/publish.rb', import.meta.url));

function publishRb(server, args, env = {}) {
  return run('ruby', [script, ...args], {
    env: { ...process.env, RAPTOR_HOST: server.host, RAPTOR_PORT: String(server.port), RAPTOR_APP_ID: server.app.id,
           RAPTOR_APP_KEY: server.app.key, RAPTOR_APP_SECRET: server.app.secret, ...env },
  });
}

serverSuite('examples', {}, (server, { stillServing }) => {
  it('examples/publish.rb publishes an event a subscriber receives', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('orders');
    const { stdout } = await publishRb(server, ['orders', 'created', '{"id":42}']);
    assert.match(stdout, /^200 \{\}/);
    const frame = await client.next('created', 'orders');
    assert.deepEqual(frame.payload, { id: 42 });
  });

  it('examples/publish.rb publishes to a URL resource', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-galleries.123.comments');
    const { stdout } = await publishRb(server, ['/channels/private/galleries/123/comments', 'comment-added', '{"text":"Nice"}']);
    assert.match(stdout, /^200 \{\}/);
    assert.deepEqual((await client.next('comment-added', 'private-galleries.123.comments')).payload, { text: 'Nice' });
  });

  it('examples/publish.rb with a wrong secret gets 401 and exits 1', async () => {
    await assert.rejects(publishRb(server, ['orders'], { RAPTOR_APP_SECRET: 'wrong' }), (err) => {
      assert.equal(err.code, 1);
      assert.match(err.stdout, /^401 \{"error":"Invalid signature/);
      return true;
    });
    await stillServing();
  });
});
