// --proxy-protocol: the client address a TCP load balancer names in a PROXY protocol header.
// Debian's HAProxy runs docs/reverse-proxy.md's config (send-proxy-v2, and send-proxy for version
// 1) in front of raptor, plain and with TLS passed through; raw sockets send what a balancer
// should not (no header, a malformed one, one split across packets, one from an untrusted peer).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { codeBlock } from './lib/doc-blocks.mjs';
import { request } from './lib/http-api.mjs';
import { freePort, Raptor, runRaptor } from './lib/raptor.mjs';
import { serversInFront } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';
import { waitFor } from './lib/wait.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the self-signed certificate, in this process only
const tls = selfSignedCertificate();
const hook = `admit { |connection| deny "from #{connection.remote_address}" }\n`;

// docs/reverse-proxy.md's HAProxy config, its one backend server pointed at `upstream` with the
// given send-proxy option, listening on `port`.
function haproxyConfig({ port, upstream, sendProxy }) {
  let code = codeBlock('docs/reverse-proxy.md', /send-proxy/, 'haproxy');
  const edits = [
    [/bind :443/, `bind 127.0.0.1:${port}`],
    [/ *server raptor2 .*\n/, ''],
    [/server raptor1 10\.0\.0\.11:6001 send-proxy-v2 check/, `server raptor1 127.0.0.1:${upstream} ${sendProxy}`],
  ];
  for (const [from, to] of edits) {
    assert.match(code, from, `docs/reverse-proxy.md's haproxy block has ${from}`);
    code = code.replace(from, to);
  }
  return `global\n    maxconn 256\ndefaults\n    timeout connect 5s\n    timeout client 1h\n${code}`;
}

class HAProxy {
  constructor(raptor, sendProxy) {
    Object.assign(this, { raptor, sendProxy, host: '127.0.0.1', app: raptor.app, tls: raptor.tls });
  }
  async start() {
    this.dir = mkdtempSync(join(tmpdir(), 'raptor-haproxy-'));
    this.port = await freePort();
    const file = join(this.dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConfig({ port: this.port, upstream: this.raptor.port, sendProxy: this.sendProxy }));
    this.process = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.process.stderr.on('data', (d) => (this.stderr += d));
    await waitFor(() => new Promise((resolve) => {
      const s = net.connect(this.port, this.host, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), `haproxy listening on ${this.port} (${this.stderr})`, 10_000);
  }
  async stop() {
    this.process.kill('SIGTERM');
    await once(this.process, 'exit');
    rmSync(this.dir, { recursive: true, force: true });
  }
  get scheme() { return this.tls ? 'https' : 'http'; }
  get tlsOptions() { return this.raptor.tlsOptions; }
  url(path) { return `${this.scheme}://${this.host}:${this.port}${path}`; }
  wsUrl(path) { return `${this.tls ? 'wss' : 'ws'}://${this.host}:${this.port}${path}`; }
  track(close) { return this.raptor.track(close); }
}

// The address the admit hook saw for a client on `localAddress` (it names it in its deny reason).
async function remoteAddress(server, localAddress = '127.0.0.2') {
  const client = await RawClient.open(server, `/app/${server.app.key}${PUSHER_QUERY}`, { localAddress });
  const { code, reason } = await client.closed;
  assert.equal(code, 4009);
  return reason.replace('Connection refused by policy: from ', '');
}

// Sends `chunks` (written `gap` ms apart) on a new connection from `localAddress`, then the
// HTTP request; what comes back before raptor closes the connection.
async function exchange(server, chunks, { localAddress = '127.0.0.1', gap = 0, path = '/no-such-path' } = {}) {
  const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress });
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (d) => (answer += d));
  socket.on('error', () => {}); // a reset, when raptor closes with the request unread
  const closed = new Promise((resolve) => socket.on('close', resolve));
  for (const chunk of chunks) {
    socket.write(chunk);
    if (gap) await sleep(gap);
  }
  socket.write(`GET ${path} HTTP/1.1\r\nHost: raptor\r\nConnection: close\r\n\r\n`);
  await closed;
  return answer;
}

describe('PROXY protocol behind HAProxy', () => {
  const policy = configFile('proxy-protocol.rb', hook);
  const plain = new Raptor({ proxyProtocol: true, args: ['--config', policy, '--proxy-protocol', 'on', '--trusted-proxy', '127.0.0.1'] });
  const secure = new Raptor({ proxyProtocol: true, tls, args: ['--config', policy, '--trusted-proxy', '127.0.0.1/32'],
    env: { RAPTOR_PROXY_PROTOCOL: 'on' } });
  const byFile = new Raptor({ proxyProtocol: true, args: ['--config', configFile('proxy-protocol-file.rb',
    `proxy_protocol true\ntrusted_proxies "127.0.0.1"\n${hook}`)] });
  const raptors = [plain, secure, byFile];
  const v2 = new HAProxy(plain, 'send-proxy-v2');
  const v1 = new HAProxy(plain, 'send-proxy');
  const passthrough = new HAProxy(secure, 'send-proxy-v2');
  const v1ToFile = new HAProxy(byFile, 'send-proxy');
  const proxies = [v2, v1, passthrough, v1ToFile];

  serversInFront(raptors, proxies);

  it('gives the hooks the client HAProxy names, by version 2 and version 1 headers, flag, env or raptor.rb', async () => {
    assert.equal(await remoteAddress(v2, '127.0.0.2'), '127.0.0.2');
    assert.equal(await remoteAddress(v2, '127.0.0.3'), '127.0.0.3');
    assert.equal(await remoteAddress(v1, '127.0.0.4'), '127.0.0.4');
    assert.equal(await remoteAddress(v1ToFile, '127.0.0.5'), '127.0.0.5');
  });

  it('reads the header before the TLS handshake when TLS passes through the balancer', async () => {
    assert.equal(await remoteAddress(passthrough, '127.0.0.6'), '127.0.0.6');
  });

  it('serves HTTP behind it, and logs a refused request with the named client', async () => {
    const agent = new http.Agent({ localAddress: '127.0.0.7' });
    const res = await request(v2, { path: '/proxied-nowhere', agent });
    agent.destroy();
    assert.equal(res.status, 404);
    await plain.logged(/info http 127\.0\.0\.7 GET \/proxied-nowhere -> 404\n/);
  });

  it('closes a connection without a header, or with a malformed one, with a log line and no answer', async () => {
    assert.equal(await exchange(plain, []), '');
    await plain.logged(/info proxy protocol: closed a connection from [:f.0-9]*127\.0\.0\.1: no PROXY protocol header\n/);
    assert.equal(await exchange(plain, ['PROXY TCP4 203.0.113.7 10.0.0.1 99999 443\r\n']), '');
    await plain.logged(/proxy protocol: closed a connection from .*: a version 1 header that is not 'PROXY TCP4 SOURCE DESTINATION PORT PORT'\n/);
    // Still serving: the next, well-formed one is answered.
    const answer = await exchange(plain, ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n']);
    assert.match(answer, /^HTTP\/1\.1 404 /);
    await plain.logged(/info http 203\.0\.113\.7 GET \/no-such-path -> 404\n/);
  });

  it('waits for a header that arrives in pieces', async () => {
    const header = 'PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n';
    const answer = await exchange(plain, [header.slice(0, 3), header.slice(3, 20), header.slice(20)],
      { gap: 50, path: '/in-pieces' });
    assert.match(answer, /^HTTP\/1\.1 404 /);
    await plain.logged(/info http 2001:db8::7 GET \/in-pieces -> 404\n/);
  });

  it('reads but does not believe the header of a peer that is not a trusted proxy', async () => {
    const answer = await exchange(plain, ['PROXY TCP4 198.51.100.1 10.0.0.1 51234 443\r\n'],
      { localAddress: '127.0.0.8', path: '/untrusted-header' });
    assert.match(answer, /^HTTP\/1\.1 404 /);
    await plain.logged(/info http 127\.0\.0\.8 GET \/untrusted-header -> 404\n/);
  });

  it('takes a LOCAL header (a health check) as naming nobody', async () => {
    const local = Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary'), Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    const answer = await exchange(plain, [local], { path: '/health-check' });
    assert.match(answer, /^HTTP\/1\.1 404 /);
    await plain.logged(/info http 127\.0\.0\.1 GET \/health-check -> 404\n/);
  });

  it('closes a connection whose header does not come within the head timeout', async () => {
    const slow = new Raptor({ proxyProtocol: true, args: ['--proxy-protocol', 'on', '--trusted-proxy', '127.0.0.1', '--http-head-timeout-ms', '300'] });
    await slow.start();
    try {
      const socket = net.connect(slow.port, '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (d) => (answer += d)); // read: a paused socket would never see the close
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write('PROXY TCP4 203.0.');
      const started = Date.now();
      await closed;
      assert.ok(Date.now() - started < 5000);
      assert.equal(answer, ''); // no HTTP answer: nothing it sent was HTTP
      await slow.logged(/proxy protocol: closed a connection from .*: no complete PROXY protocol header within the head timeout/);
    } finally {
      await slow.stop();
    }
  });

  it('refuses --proxy-protocol without a trusted proxy, and keeps it through a reload', async () => {
    const refused = await runRaptor(['--proxy-protocol', 'on']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--proxy-protocol needs --trusted-proxy/);
    configFile('proxy-protocol-file.rb', `trusted_proxies "127.0.0.1"\n${hook}`);
    assert.match(await byFile.reload(), /reload: done/);
    await byFile.logged(/warn reload: proxy_protocol changed from true to false, which needs a restart: still true/);
    assert.equal(await remoteAddress(v1ToFile, '127.0.0.9'), '127.0.0.9');
  });
});
