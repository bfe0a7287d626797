// The HTTP clients users publish with, unmodified (issue 14): Node's http with chunked bodies, with
// and without a keep-alive agent; the `pusher` SDK; curl with Content-Length, chunked and
// Expect: 100-continue (which Debian 12's curl 7.88 sends by itself only for bodies over 1 MiB);
// Ruby's Net::HTTP through examples/publish.rb. Each publish must reach a subscriber.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serverSdk } from './lib/clients.mjs';
import { signedTarget } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';
import { withTimeout } from './lib/wait.mjs';

const run = promisify(execFile);

// Node's http.request as a user writes it: the body written before end(), so Node sends it
// chunked (no Content-Length), signed by `app`. Resolves {status, text, reusedSocket}.
function chunkedPost(server, body, { agent = false, app = server.app } = {}) {
  const target = signedTarget(app, 'POST', `/apps/${server.app.id}/events`, { body });
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request(server.url(target), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 7));
    req.write(body.slice(7));
    req.end();
  }), 'a chunked POST');
}

// curl -v POSTing `body` (from its stdin) to /apps/{id}{path}, signed; resolves {code, stdout, stderr}.
async function curlPost(server, path, body, fields = []) {
  const target = signedTarget(server.app, 'POST', `/apps/${server.app.id}${path}`, { body });
  const curl = run('curl', ['-sS', '-v', '-H', 'Content-Type: application/json', ...fields, '--data-binary', '@-',
    '-w', '\n%{http_code}', server.url(target)]);
  curl.child.stdin.end(body);
  const { stdout, stderr } = await curl;
  const at = stdout.lastIndexOf('\n');
  return { code: stdout.slice(at + 1), stdout: stdout.slice(0, at), stderr };
}

const event = (channel, n) => JSON.stringify({ name: 'n', channel, data: JSON.stringify({ n }) });

serverSuite('real HTTP clients', {}, (server) => {
  it("publishes with Node's http.request and a chunked body, on a connection of its own", async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('node-chunked');
    const res = await chunkedPost(server, event('node-chunked', 1));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await subscriber.next('n', 'node-chunked')).payload, { n: 1 });
  });

  it("publishes with Node's http.request, chunked bodies, several requests on one kept-alive connection", async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('node-keep-alive');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let n = 1; n <= 4; n++) {
        const res = await chunkedPost(server, event('node-keep-alive', n), { agent });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.reusedSocket, n > 1, 'every request after the first reuses the connection');
        assert.deepEqual((await subscriber.next('n', 'node-keep-alive')).payload, { n });
      }
      // A refused chunked request leaves no framing behind: the next one on the connection is read.
      const bad = await chunkedPost(server, event('node-keep-alive', 0), { agent, app: { ...server.app, secret: 'wrong' } });
      assert.equal(bad.status, 401, bad.text);
      const next = await chunkedPost(server, event('node-keep-alive', 5), { agent });
      assert.equal(next.status, 200, next.text);
      assert.ok(next.reusedSocket, 'the connection was kept after the 401');
      assert.deepEqual((await subscriber.next('n', 'node-keep-alive')).payload, { n: 5 });
    } finally {
      agent.destroy();
    }
  });

  it('publishes with the pusher SDK: trigger and triggerBatch', async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('sdk');
    const sdk = serverSdk(server);
    assert.equal((await sdk.trigger('sdk', 'one', { n: 1 })).status, 200);
    assert.equal((await sdk.triggerBatch([{ channel: 'sdk', name: 'two', data: { n: 2 } }, { channel: 'sdk', name: 'three', data: { n: 3 } }])).status, 200);
    for (const [name, n] of [['one', 1], ['two', 2], ['three', 3]]) {
      assert.deepEqual((await subscriber.next(name, 'sdk')).payload, { n });
    }
  });

  it('publishes a batch with curl: Content-Length, chunked, and waiting for 100 Continue', async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('curl');
    const batch = Array.from({ length: 8 }, (_, n) => ({ channel: 'curl', name: 'c', data: JSON.stringify({ n, pad: 'p'.repeat(200) }) }));
    for (const fields of [[], ['-H', 'Transfer-Encoding: chunked'], ['-H', 'Expect: 100-continue']]) {
      const { code, stderr } = await curlPost(server, '/batch_events', JSON.stringify({ batch }), fields);
      assert.equal(code, '200', stderr);
      if (fields.length) assert.match(stderr, new RegExp(`> ${fields[1]}`));
      if (fields[1]?.startsWith('Expect')) assert.match(stderr, /< HTTP\/1\.1 100 Continue/, 'curl was told to send the body');
      for (let n = 0; n < batch.length; n++) assert.equal((await subscriber.next('c', 'curl')).payload.n, n);
    }
  });

  it('answers curl 413 at once for a body over 1 MiB, which curl announces with Expect: 100-continue', async () => {
    const body = JSON.stringify({ name: 'e', channel: 'curl', data: 'x'.repeat(2 * 1024 * 1024) });
    const { code, stderr, stdout } = await curlPost(server, '/events', body);
    assert.match(stderr, /> Expect: 100-continue/, 'curl (7.88 and later) asks first for a body over 1 MiB');
    assert.doesNotMatch(stderr, /< HTTP\/1\.1 100 Continue/);
    assert.equal(code, '413', stderr);
    assert.equal(typeof JSON.parse(stdout).error, 'string');
  });

  it("publishes with Ruby's Net::HTTP (examples/publish.rb)", async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('ruby');
    const script = fileURLToPath(new URL('../../examples/publish.rb', import.meta.url));
    const { stdout } = await run('ruby', [script, 'ruby', 'from-ruby', JSON.stringify({ pad: 'r'.repeat(2000) })], {
      env: { ...process.env, RAPTOR_HOST: server.host, RAPTOR_PORT: String(server.port), RAPTOR_APP_ID: server.app.id,
             RAPTOR_APP_KEY: server.app.key, RAPTOR_APP_SECRET: server.app.secret },
    });
    assert.match(stdout, /^200 \{\}/);
    assert.equal((await subscriber.next('from-ruby', 'ruby')).payload.pad.length, 2000);
  });
});
