// Hand-made HTTP API requests, for the bad paths the SDK would refuse to produce, and the shape
// every API error must have.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { signedQuery } from './signature.mjs';
import { withTimeout } from './wait.mjs';

// Query strings keep the unescaped characters Pusher signs (",") readable to the server.
const queryString = (query) => Object.entries(query)
  .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/g, ',')}`).join('&');

// The suite's requests take turns at the framings and connections real clients use (issue 14):
// a body with Content-Length or chunked (Node sends chunked when written before end()), on a
// connection of its own or one kept alive between requests. A test that passes an agent keeps
// its own; one that passes `framing` ('length' or 'chunked') or a Content-Length gets that framing.
let turn = 0;
const keptAlive = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

// One request; resolves {status, text, json, reusedSocket}.
export function request(server, { method = 'GET', path, query = {}, body = '', headers = {}, agent, framing }) {
  const style = turn++;
  const lengthGiven = Object.keys(headers).some((h) => /^content-length$/i.test(h));
  const chunked = body !== '' && !lengthGiven && (framing ? framing === 'chunked' : style % 2 === 1);
  const reuse = agent === undefined && style % 4 >= 2;
  return withTimeout(send(server, { method, path, query, body, headers, agent: reuse ? keptAlive[server.scheme] : agent ?? false, chunked })
    .catch((err) => {
      // A kept-alive connection the server closed as it was reused: retried once, as clients do.
      if (!(reuse && err.reusedSocket && err.code === 'ECONNRESET')) throw err;
      return send(server, { method, path, query, body, headers, agent: false, chunked });
    }), `${method} ${path}`);
}

function send(server, { method, path, query, body, headers, agent, chunked }) {
  const qs = queryString(query);
  const client = server.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(server.url(qs ? `${path}?${qs}` : path), {
      method, agent, ...server.tlsOptions,
      headers: { ...(body !== '' && { 'content-type': 'application/json' }), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { /* left undefined: tests assert JSON bodies */ }
        resolve({ status: res.statusCode, text, json, reusedSocket: req.reusedSocket, headers: res.headers });
      });
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    if (chunked) req.write(body);
    req.end(chunked ? undefined : body);
  });
}

// The request target of a signed API request (path and query), for requests written by hand.
export function signedTarget(app, method, path, { params = {}, body = '' } = {}) {
  return `${path}?${queryString(signedQuery(app, method, path, { params, body }))}`;
}

// A request signed like the SDKs sign it. `tamper(query)` may spoil the signed query afterwards.
export function signedRequest(server, { method = 'GET', path, params = {}, body = '', app = server.app, timestamp, tamper = (q) => q, ...rest }) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const query = tamper(signedQuery(app, method, path, { params, body: text, timestamp }));
  return request(server, { method, path, query, body: text, ...rest });
}

// GET /health signed by the server's app: the JSON with the webhook and cluster details, which
// an unsigned request does not get.
export const healthDetails = async (server) => (await signedRequest(server, { path: '/health' })).json;

// POST /apps/{id}/events with a body object (or raw string).
export const postEvents = (server, body, options = {}) =>
  signedRequest(server, { method: 'POST', path: `/apps/${(options.app ?? server.app).id}/events`, body, ...options });

// Publishes one event per item of `datas` over one keep-alive connection without awaiting each, so
// frames pile up in subscribers' queues; one socket makes them one publisher, whose order every
// subscriber must keep. Then checks that each subscriber got them all, whole and in that order.
export async function assertBurstDelivered(server, subscribers, channel, datas, name = 'n') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const responses = await Promise.all(datas.map((data) => postEvents(server, { name, channel, data }, { agent })));
  agent.destroy();
  for (const res of responses) assert.equal(res.status, 200, res.text);
  for (const s of subscribers) {
    const got = [];
    while (got.length < datas.length) got.push((await s.next(name, channel)).data);
    assert.deepEqual(got, datas, 'every event arrives once, whole, in publish order');
  }
}

// An API error: the status and a JSON body {"error": "..."}.
export function assertApiError(res, status) {
  assert.equal(res.status, status, `HTTP status (body: ${res.text.slice(0, 300)})`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(typeof res.json?.error, 'string', 'JSON body with an "error" string');
}

// One sample of /metrics (read with the admin token `token`): `series` is its name and labels as
// the page writes them, e.g. 'raptor_connections_refused_total{code="4004"}'; 0 when absent.
export async function metricSample(server, token, series) {
  const res = await request(server, { path: '/metrics', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, res.text);
  const line = res.text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : 0;
}
