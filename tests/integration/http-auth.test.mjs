// HTTP API authentication (signed query, body_md5, 600 s window), unknown apps and paths, and
// keep-alive.
import assert from 'node:assert/strict';
import http from 'node:http';
import { it } from 'node:test';
import { assertApiError, postEvents, request, signedRequest } from './lib/http-api.mjs';
import { md5Hex, nowSeconds } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const event = { name: 'e', channels: ['auth-check'], data: '{}' };

serverSuite('HTTP authentication', {}, (server, { stillServing }) => {
  it('accepts a correctly signed request', async () => {
    const res = await postEvents(server, event);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {});
  });

  it('accepts signed query parameters that carry commas and are sent escaped', async () => {
    const res = await signedRequest(server, {
      path: `/apps/${server.app.id}/channels`, params: { filter_by_prefix: 'presence-', info: 'user_count' },
    });
    assert.equal(res.status, 200, res.text);
  });

  const unauthorized = [
    ['no signature at all', { tamper: () => ({}) }],
    ['no auth_signature', { tamper: ({ auth_signature, ...q }) => q }],
    ['a wrong signature', { tamper: (q) => ({ ...q, auth_signature: q.auth_signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) }) }],
    ['an unknown auth_key', { app: { id: 'app-id', key: 'who-is-this', secret: 'app-secret' } }],
    ['a signature made with another secret', { app: { id: 'app-id', key: 'app-key', secret: 'not-the-secret' } }],
    ['a body_md5 of another body', { tamper: (q) => ({ ...q, body_md5: md5Hex('{}') }) }],
    ['no body_md5 for a body', { tamper: ({ body_md5, ...q }) => q }],
    ['a timestamp 700 s old', { timestamp: nowSeconds() - 700 }],
    ['a timestamp 700 s ahead', { timestamp: nowSeconds() + 700 }],
    ['auth_version 2.0', { tamper: (q) => ({ ...q, auth_version: '2.0' }) }],
  ];
  for (const [what, options] of unauthorized) {
    it(`refuses ${what} (401), delivers nothing, keeps serving`, async () => {
      const client = await RawClient.connect(server);
      await client.subscribe('auth-check');
      assertApiError(await postEvents(server, event, options), 401);
      await client.sync();
      assert.deepEqual(client.frames.pending((f) => f.event === 'e'), []);
      await stillServing();
    });
  }

  it('refuses a captured request replayed after its timestamp expired (401)', async () => {
    const timestamp = nowSeconds() - 598; // valid now, expired in a few seconds
    let captured;
    const signed = await postEvents(server, event, { timestamp, tamper: (q) => { captured = q; return q; } });
    assert.equal(signed.status, 200, signed.text);
    // Waiting for the clock is the point of this test: the same bytes must stop working.
    while (nowSeconds() - timestamp <= 601) await new Promise((r) => setTimeout(r, 200));
    const body = JSON.stringify(event);
    assertApiError(await request(server, { method: 'POST', path: `/apps/${server.app.id}/events`, query: captured, body }), 401);
    await stillServing();
  });

  it('answers 404 for an unknown app id', async () => {
    const res = await postEvents(server, event, { app: { ...server.app, id: 'no-such-app' } });
    assertApiError(res, 404);
    await stillServing();
  });

  for (const path of ['/apps/app-id/nothing-here', '/apps/app-id/channels/a/b/c', '/nothing', '/apps']) {
    it(`answers 404 for the unknown path ${path}`, async () => {
      assertApiError(await signedRequest(server, { path }), 404);
      await stillServing();
    });
  }

  it('serves several requests on one keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const path = `/apps/${server.app.id}/channels`;
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await signedRequest(server, { path, agent }));
      results.push(await request(server, { path: '/health', agent }));
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
      assert.deepEqual(results.map((r) => r.reusedSocket), [false, true, true, true, true]);
    } finally {
      agent.destroy();
    }
  });

  it('answers GET /health with {"status":"ok"}', async () => {
    const res = await request(server, { path: '/health' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });
});
