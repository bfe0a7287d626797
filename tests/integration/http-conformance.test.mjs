// RFC 9112 as issue 14 lists it, byte for byte on raw sockets against the real server: chunked
// bodies, request smuggling shapes, Content-Length rules, Expect: 100-continue, keep-alive after
// refusals, pipelining, HTTP/1.0 and Connection: close, the size limits, the read timeouts, HEAD,
// OPTIONS, unknown methods and methods an API path does not take. Every error has a JSON body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { signedTarget } from './lib/http-api.mjs';
import { Raptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { parseResponses, RawHttp } from './lib/tcp.mjs';
import { RawClient } from './lib/ws-client.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

// A signed POST /apps/{id}/events publishing `data` to `channel` as event `name`: its head
// without the framing fields nor the blank line, its body, and the whole request with a
// Content-Length. `app` signs it (another secret makes it a 401).
function publishRequest(server, { channel, name = 'e', data = '{}', app = server.app } = {}) {
  const body = JSON.stringify({ name, channel, data });
  const target = signedTarget(app, 'POST', `/apps/${server.app.id}/events`, { body });
  const head = `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`;
  return { body, head, whole: `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` };
}

const get = (target, fields = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\n${fields}\r\n`;

// An error answer: the status, and a JSON body {"error": "..."}.
function assertError(response, status) {
  assert.equal(response.status, status, `status (body: ${response.body.slice(0, 200)})`);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(typeof JSON.parse(response.body).error, 'string', 'a JSON body {"error": ...}');
}

// Sends `bytes` on a new connection and returns every response once the server closed it.
async function answersThenClose(server, bytes, bodyless) {
  const raw = await RawHttp.open(server);
  raw.send(bytes);
  return raw.all(bodyless);
}

// The same connection still serves: GET /health answered 200.
async function stillKeptAlive(raw, answered) {
  raw.send(get('/health'));
  const responses = await raw.responses(answered + 1);
  assert.equal(responses[answered].status, 200, 'the next request on the same connection is answered');
  assert.equal(JSON.parse(responses[answered].body).status, 'ok', 'and the answer is its own');
}

// No event named `name` reached `subscriber` on `channel`: a marker published after it arrives,
// and nothing before it.
async function assertNothingPublished(server, subscriber, channel, name) {
  await serverSdk(server).trigger(channel, 'marker', {});
  await subscriber.next('marker', channel);
  assert.deepEqual(subscriber.frames.pending((f) => f.event === name), [], `no ${name} event was published`);
}

serverSuite('HTTP/1.1 conformance on raw sockets (RFC 9112)', {}, (server, { stillServing }) => {
  it('decodes a chunked body with chunk extensions and trailers, publishes it, and keeps the connection', async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('chunked');
    const { head, body } = publishRequest(server, { channel: 'chunked', name: 'framed', data: '{"n":1}' });
    const [a, b] = [body.slice(0, 10), body.slice(10)];
    const chunks = `${a.length.toString(16)};ext=1\r\n${a}\r\n${b.length.toString(16)};name="v"\r\n${b}\r\n0\r\nX-Trailer: done\r\n\r\n`;
    const raw = await RawHttp.open(server);
    raw.send(`${head}Transfer-Encoding: chunked\r\n\r\n`);
    raw.send(chunks);
    const [answer] = await raw.responses(1);
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual((await subscriber.next('framed', 'chunked')).payload, { n: 1 });
    await stillKeptAlive(raw, 1);
    raw.close();
  });

  for (const [order, fields] of [['Content-Length first', 'CL\r\nTE'], ['Transfer-Encoding first', 'TE\r\nCL']]) {
    it(`refuses Content-Length with Transfer-Encoding (${order}) with 400, closes, and never runs the smuggled request`, async () => {
      const subscriber = await RawClient.connect(server);
      await subscriber.subscribe('smuggling');
      const smuggled = publishRequest(server, { channel: 'smuggling', name: 'smuggled' }).whole;
      const body = `0\r\n\r\n${smuggled}`;
      const { head } = publishRequest(server, { channel: 'smuggling', name: 'front' });
      const framing = fields.replace('CL', `Content-Length: ${body.length}`).replace('TE', 'Transfer-Encoding: chunked');
      const responses = await answersThenClose(server, `${head}${framing}\r\n\r\n${body}`);
      assert.equal(responses.length, 1, 'one answer, then the connection closed');
      assertError(responses[0], 400);
      await assertNothingPublished(server, subscriber, 'smuggling', 'smuggled');
      await assertNothingPublished(server, subscriber, 'smuggling', 'front');
    });
  }

  for (const [what, fields] of [
    ['a duplicate Content-Length', 'Content-Length: 2\r\nContent-Length: 2\r\n'],
    ['a Content-Length list', 'Content-Length: 2, 2\r\n'],
    ['a non-numeric Content-Length', 'Content-Length: 2x\r\n'],
    ['a negative Content-Length', 'Content-Length: -2\r\n'],
  ]) {
    it(`refuses ${what} with 400 and closes`, async () => {
      const target = signedTarget(server.app, 'POST', `/apps/${server.app.id}/events`, { body: '{}' });
      const responses = await answersThenClose(server, `POST ${target} HTTP/1.1\r\nHost: x\r\n${fields}\r\n{}`);
      assert.equal(responses.length, 1);
      assertError(responses[0], 400);
      await stillServing();
    });
  }

  it('answers Expect: 100-continue with 100 Continue, then the final answer once the body came', async () => {
    const { head, body } = publishRequest(server, { channel: 'expecting' });
    const raw = await RawHttp.open(server);
    raw.send(`${head}Expect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    const [interim] = await raw.responses(1);
    assert.equal(interim.status, 100);
    assert.match(raw.received(), /^HTTP\/1\.1 100 Continue\r\n/);
    raw.send(body);
    const responses = await raw.responses(2);
    assert.equal(responses[1].status, 200, responses[1].body);
    await stillKeptAlive(raw, 2);
    raw.close();
  });

  it('answers Expect: 100-continue with a body over 1 MiB with 413 at once, and closes', async () => {
    const { head } = publishRequest(server, { channel: 'expecting' });
    const raw = await RawHttp.open(server);
    raw.send(`${head}Expect: 100-continue\r\nContent-Length: ${2 * MiB}\r\n\r\n`);
    const responses = await raw.all(); // the body was never sent
    assert.equal(responses.length, 1, 'no 100 Continue, only the final answer');
    assertError(responses[0], 413);
  });

  for (const framing of ['length', 'chunked']) {
    it(`keeps the connection after a 401 for a ${framing} body`, async () => {
      const { head, body } = publishRequest(server, { channel: 'unsigned', app: { ...server.app, secret: 'wrong' } });
      const framed = framing === 'length'
        ? `Content-Length: ${body.length}\r\n\r\n${body}`
        : `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const raw = await RawHttp.open(server);
      raw.send(`${head}${framed}`);
      const [answer] = await raw.responses(1);
      assertError(answer, 401);
      await stillKeptAlive(raw, 1);
      raw.close();
    });
  }

  it('answers a body over 1 MiB 413 before it is sent, skips it exactly, and keeps the connection', async () => {
    const { head } = publishRequest(server, { channel: 'large' });
    const raw = await RawHttp.open(server);
    const length = MiB + 10;
    raw.send(`${head}Content-Length: ${length}\r\n\r\n`);
    const [answer] = await raw.responses(1); // before any of the body was sent
    assertError(answer, 413);
    raw.send('x'.repeat(length));
    await stillKeptAlive(raw, 1);
    raw.close();
  });

  it('answers three pipelined requests in one write in order, each exactly once', async () => {
    const subscriber = await RawClient.connect(server);
    await subscriber.subscribe('pipelined');
    const publish = (n) => publishRequest(server, { channel: 'pipelined', name: 'p', data: JSON.stringify({ n }) }).whole;
    const channels = signedTarget(server.app, 'GET', `/apps/${server.app.id}/channels`);
    const raw = await RawHttp.open(server);
    raw.send(publish(1) + get(channels) + publish(2));
    const responses = await raw.responses(3);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200], responses.map((r) => r.body).join(' | '));
    assert.ok('channels' in JSON.parse(responses[1].body), 'the second answer is the channel list');
    assert.deepEqual((await subscriber.next('p', 'pipelined')).payload, { n: 1 });
    assert.deepEqual((await subscriber.next('p', 'pipelined')).payload, { n: 2 });
    await stillKeptAlive(raw, 3); // and no fourth answer came before this one's
    await assertNothingPublished(server, subscriber, 'pipelined', 'p');
    assert.equal(parseResponses(raw.received()).responses.length, 4, 'no request was answered twice');
    raw.close();
  });

  it('answers an HTTP/1.0 request, then closes', async () => {
    const responses = await answersThenClose(server, 'GET /health HTTP/1.0\r\n\r\n');
    assert.deepEqual(responses.map((r) => r.status), [200]);
  });

  it('answers a request with Connection: close, then closes without reading what follows', async () => {
    const responses = await answersThenClose(server, get('/health', 'Connection: close\r\n') + get('/health'));
    assert.deepEqual(responses.map((r) => r.status), [200]);
  });

  it('refuses a request target over 8 KiB with 414', async () => {
    const responses = await answersThenClose(server, get(`/health?pad=${'a'.repeat(9 * KiB)}`));
    assert.equal(responses.length, 1);
    assertError(responses[0], 414);
    await stillServing();
  });

  it('refuses header fields over 16 KiB with 431', async () => {
    const responses = await answersThenClose(server, get('/health', `X-Big: ${'b'.repeat(17 * KiB)}\r\n`));
    assert.equal(responses.length, 1);
    assertError(responses[0], 431);
  });

  it('refuses more than 100 header fields with 431', async () => {
    const fields = Array.from({ length: 101 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
    const responses = await answersThenClose(server, get('/health', fields));
    assert.equal(responses.length, 1);
    assertError(responses[0], 431);
  });

  it('answers HEAD /health with its headers and a Content-Length but no body', async () => {
    const raw = await RawHttp.open(server);
    raw.send('HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const [answer] = await raw.responses(1, (i) => i === 0);
    assert.equal(answer.status, 200);
    assert.match(answer.headers['content-length'] ?? '', /^[1-9]\d*$/, 'the length a GET would have');
    raw.send(get('/health')); // a body after the HEAD answer would be read as this answer's start
    const responses = await raw.responses(2, (i) => i === 0);
    assert.equal(responses[1].status, 200);
    assert.equal(JSON.parse(responses[1].body).status, 'ok');
    raw.close();
  });

  it('answers OPTIONS with 204 and an Allow header', async () => {
    const raw = await RawHttp.open(server);
    raw.send(`OPTIONS /apps/${server.app.id}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [answer] = await raw.responses(1);
    assert.equal(answer.status, 204);
    assert.match(answer.headers.allow ?? '', /\bPOST\b/);
    raw.close();
  });

  it('refuses an unknown method with 501 and closes', async () => {
    const responses = await answersThenClose(server, 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(responses.length, 1);
    assertError(responses[0], 501);
  });

  it('refuses PUT on an API path with 405 and an Allow header', async () => {
    const target = signedTarget(server.app, 'PUT', `/apps/${server.app.id}/events`, { body: '{}' });
    const raw = await RawHttp.open(server);
    raw.send(`PUT ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`);
    const [answer] = await raw.responses(1);
    assertError(answer, 405);
    assert.match(answer.headers.allow ?? '', /\bPOST\b/);
    raw.close();
  });
});

// The read timeouts, shortened by flags so the test does not wait the real 10 s and 30 s.
describe('HTTP read timeouts', () => {
  const server = new Raptor({
    args: ['--http-head-timeout-ms', '300', '--http-body-timeout-ms', '300', '--http-idle-timeout-ms', '400'],
  });
  before(() => server.start());
  after(() => server.stop().catch(() => {}));

  it('answers a head that stops arriving with 408 and closes', async () => {
    const responses = await answersThenClose(server, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    assert.equal(responses.length, 1);
    assertError(responses[0], 408);
  });

  it('answers a body that stops arriving with 408 and closes', async () => {
    const { head, body } = publishRequest(server, { channel: 'slow' });
    const responses = await answersThenClose(server, `${head}Content-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    assert.equal(responses.length, 1);
    assertError(responses[0], 408);
  });

  it('times each request of a busy kept-alive connection on its own clock', async () => {
    // Each write ends one request and begins the next, so the connection is always reading a
    // head, for three times the head timeout in all: none of them may be answered 408.
    const raw = await RawHttp.open(server);
    const request = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
    const rounds = 9;
    raw.send(request.slice(0, 20));
    for (let i = 1; i < rounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      raw.send(request.slice(20) + request.slice(0, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    raw.send(request.slice(20));
    const responses = await raw.responses(rounds);
    assert.deepEqual(responses.map((r) => r.status), Array(rounds).fill(200));
    raw.socket.destroy();
  });

  it('closes a kept-alive connection that stays idle, quietly', async () => {
    // --http-idle-timeout-ms 400: no 408 or anything else after the answer, only the close.
    const responses = await answersThenClose(server, get('/health'));
    assert.deepEqual(responses.map((r) => r.status), [200], 'one answer, then the close, nothing else');
  });

  it('keeps serving after the timeouts', async () => {
    const responses = await answersThenClose(server, get('/health', 'Connection: close\r\n'));
    assert.deepEqual(responses.map((r) => r.status), [200]);
  });
});
