// docs/reverse-proxy.md's nginx and Caddy configs, run by the real servers in front of raptor,
// terminating TLS: pusher-js connects over wss:// and the `pusher` SDK publishes over https://
// through the proxy, and an idle WebSocket outlives the proxy's read timeout because raptor's
// pings (--activity-timeout) cross it.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { configFile } from './lib/config-files.mjs';
import { inboxOf, pusherClient, serverSdk, subscribed } from './lib/clients.mjs';
import { request } from './lib/http-api.mjs';
import { Raptor, runRaptor } from './lib/raptor.mjs';
import { ReverseProxy } from './lib/reverse-proxy.mjs';
import { serversInFront } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

// pusher-js's Node transport takes no CA option; trust the self-signed certificate in this
// test process only (node --test runs every file in its own process).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const tls = selfSignedCertificate();

// Short on purpose: nginx cuts a proxied WebSocket that is silent for this long.
const READ_TIMEOUT_S = 3;

// The local ports of the established TCP connections to `port` on this host (/proc/net/tcp,
// IPv4): the upstream connections a proxy holds open to raptor.
function connectionsTo(port) {
  const ports = new Set();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (state === '01' && remote && parseInt(remote.split(':')[1], 16) === port) ports.add(local.split(':')[1]);
  }
  return ports;
}

for (const kind of ['nginx', 'caddy']) {
  describe(`behind ${kind}`, () => {
    // --activity-timeout 1: raptor pings a silent client every second, below the read timeout.
    const raptor = new Raptor({ args: ['--activity-timeout', '1'] });
    const proxy = new ReverseProxy(kind, raptor, { readTimeout: `${READ_TIMEOUT_S}s`, tls });

    before(async () => {
      await raptor.start();
      await proxy.start();
    });
    afterEach(() => raptor.closeClients());
    after(async () => {
      await proxy.stop();
      await raptor.stop();
    });

    it('connects pusher-js and delivers an event the SDK publishes, both through the proxy', async () => {
      const pusher = await pusherClient(proxy);
      const [channel] = await subscribed(pusher, 'private-proxied');
      const inbox = inboxOf((cb) => channel.bind('hello', cb));
      await serverSdk(proxy).trigger('private-proxied', 'hello', { via: kind });
      assert.deepEqual((await inbox.take()).data, { via: kind });
      const res = await serverSdk(proxy).get({ path: '/channels', params: {} });
      assert.ok('private-proxied' in (await res.json()).channels);
    });

    if (kind === 'nginx') {
      // nginx's `keepalive` hands a WebSocket upgrade an upstream connection that carried API
      // requests before; raptor's HTTP side passes it on to the WebSocket server.
      it('upgrades to a WebSocket on an upstream connection that served API requests', async () => {
        await serverSdk(proxy).get({ path: '/channels', params: {} });
        const idle = connectionsTo(raptor.port);
        assert.ok(idle.size > 0, 'nginx keeps its upstream connection open');
        const client = await RawClient.connect(proxy);
        await client.subscribe('reused');
        assert.deepEqual(connectionsTo(raptor.port), idle, 'no new upstream connection');
        await serverSdk(proxy).trigger('reused', 'over', { reused: true });
        assert.deepEqual((await client.next('over', 'reused')).payload, { reused: true });
      });
    }

    it(`keeps an idle WebSocket open past a ${READ_TIMEOUT_S} s proxy read timeout`, async () => {
      const client = await RawClient.connect(proxy);
      await client.subscribe('idle');
      await sleep((READ_TIMEOUT_S + 2) * 1000);
      assert.ok(client.isOpen, 'still connected after the read timeout');
      await serverSdk(proxy).trigger('idle', 'later', { n: 1 });
      assert.deepEqual((await client.next('later', 'idle')).payload, { n: 1 });
    });
  });
}

// --trusted-proxy / trusted_proxies: the admit hook's remote_address is the client nginx (or
// Caddy) saw (127.0.0.2 here) only when raptor trusts nginx (127.0.0.1); an X-Forwarded-For a client writes
// itself is not believed.
describe('trusted proxies', () => {
  const hook = `admit { |connection| deny "from #{connection.remote_address}" }\n`;
  const policy = configFile('remote-address.rb', hook);
  const trustingPolicy = configFile('trusting.rb', `trusted_proxies "::1", "127.0.0.1/32"\n${hook}`);
  const byFlag = new Raptor({ args: ['--config', policy, '--trusted-proxy', '127.0.0.1/32'] });
  const byFile = new Raptor({ args: ['--config', trustingPolicy] });
  const untrusting = new Raptor({ args: ['--config', policy] });
  const raptors = [byFlag, byFile, untrusting];
  const [viaByFlag, viaByFile, viaUntrusting] = raptors.map((raptor) => new ReverseProxy('nginx', raptor));
  const caddy = new ReverseProxy('caddy', byFlag);
  const proxies = [viaByFlag, viaByFile, viaUntrusting, caddy];

  serversInFront(raptors, proxies);

  // The address the admit hook saw for a client on 127.0.0.2 (it names it in its deny reason).
  async function remoteAddress(server, headers = {}) {
    const client = await RawClient.open(server, `/app/${server.app.key}${PUSHER_QUERY}`, { headers, localAddress: '127.0.0.2' });
    const { code, reason } = await client.closed;
    assert.equal(code, 4009);
    return reason.replace('Connection refused by policy: from ', '');
  }

  it('takes the client address from X-Forwarded-For when the proxy is trusted (flag or raptor.rb)', async () => {
    assert.equal(await remoteAddress(viaByFlag), '127.0.0.2');
    assert.equal(await remoteAddress(viaByFile), '127.0.0.2');
    assert.equal(await remoteAddress(caddy), '127.0.0.2');
  });

  it('sees the proxy when it is not trusted', async () => {
    assert.equal(await remoteAddress(viaUntrusting), '127.0.0.1');
  });

  it('does not believe an X-Forwarded-For the client sends itself', async () => {
    const spoofed = { 'X-Forwarded-For': '198.51.100.7' };
    assert.equal(await remoteAddress(viaByFlag, spoofed), '127.0.0.2'); // nginx appends 127.0.0.2
    assert.equal(await remoteAddress(caddy, spoofed), '127.0.0.2'); // Caddy replaces it
    assert.equal(await remoteAddress(byFlag, spoofed), '127.0.0.2'); // straight to raptor
  });

  it('applies a changed trusted_proxies at a reload (SIGHUP)', async () => {
    configFile('trusting.rb', hook); // the same file, now trusting no proxy
    assert.match(await byFile.reload(), /reload: done/);
    assert.equal(await remoteAddress(viaByFile), '127.0.0.1');
  });

  it('refuses an entry that is no address or network, naming the expected form', async () => {
    const flag = await runRaptor(['--trusted-proxy', '10.0.0.0/33']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /invalid value '10\.0\.0\.0\/33' for --trusted-proxy: expected an IPv4 or IPv6 address or network/);
    const file = await runRaptor(['check', configFile('bad-proxies.rb', 'trusted_proxies "proxy.example"\n')]);
    assert.equal(file.code, 2);
    assert.match(file.stdout + file.stderr, /trusted_proxies: 'proxy\.example' is not an IPv4 or IPv6 address or network/);
  });
});

// RAPTOR_TRUSTED_PROXIES and raptor.rb's forwarded_header :forwarded (RFC 7239), and the client address in
// the log lines of refused requests and connections: the forwarded one from a trusted peer
// (127.0.0.1, the test itself), the peer otherwise (127.0.0.2).
describe('forwarded client addresses in hooks and logs', () => {
  const hook = `admit { |connection| deny "from #{connection.remote_address}" }\n`;
  const policy = configFile('forwarded-remote-address.rb', `forwarded_header :forwarded\n${hook}`);
  const byForwarded = new Raptor({ args: ['--config', policy], env: { RAPTOR_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1/32' } });
  const byXForwardedFor = new Raptor({ env: { RAPTOR_TRUSTED_PROXIES: '127.0.0.1' } });
  const raptors = [byForwarded, byXForwardedFor];
  const fromUntrusted = { localAddress: '127.0.0.2' };
  const FORWARDED = 'for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=https, for="10.1.2.3:80"';

  before(() => Promise.all(raptors.map((r) => r.start())));
  after(() => Promise.all(raptors.map((r) => r.stop())));

  // The address the admit hook saw (it names it in its deny reason).
  async function remoteAddress(server, headers, options = {}) {
    const client = await RawClient.open(server, `/app/${server.app.key}${PUSHER_QUERY}`, { headers, ...options });
    const { code, reason } = await client.closed;
    assert.equal(code, 4009);
    return reason.replace('Connection refused by policy: from ', '');
  }

  it('reads the right-most untrusted for= of Forwarded, and not X-Forwarded-For, from a trusted peer', async () => {
    const headers = { Forwarded: FORWARDED, 'X-Forwarded-For': '203.0.113.5' };
    assert.equal(await remoteAddress(byForwarded, headers), '2001:db8:cafe::17');
    assert.equal(await remoteAddress(byForwarded, { Forwarded: 'for=unknown' }), '127.0.0.1');
    assert.equal(await remoteAddress(byForwarded, headers, fromUntrusted), '127.0.0.2');
  });

  it('logs a refused HTTP request with the forwarded client from a trusted peer, else the peer', async () => {
    await request(byXForwardedFor, { path: '/trusted-hop', headers: { 'X-Forwarded-For': '6.6.6.6, 198.51.100.7' } });
    await byXForwardedFor.logged(/info http 198\.51\.100\.7 GET \/trusted-hop -> 404\n/);
    const agent = new http.Agent(fromUntrusted);
    await request(byXForwardedFor, { path: '/untrusted-hop', headers: { 'X-Forwarded-For': '198.51.100.7' }, agent });
    agent.destroy();
    await byXForwardedFor.logged(/info http 127\.0\.0\.2 GET \/untrusted-hop -> 404\n/);
    await request(byForwarded, { path: '/by-forwarded', headers: { Forwarded: FORWARDED } });
    await byForwarded.logged(/info http 2001:db8:cafe::17 GET \/by-forwarded -> 404\n/);
  });

  it('logs a refused WebSocket connection with the forwarded client', async () => {
    const client = await RawClient.open(byXForwardedFor, `/app/no-such-key${PUSHER_QUERY}`,
      { headers: { 'X-Forwarded-For': '198.51.100.8' } });
    assert.equal((await client.closed).code, 4001);
    await byXForwardedFor.logged(/info websocket 198\.51\.100\.8 refused with 4001: Application does not exist\n/);
    await remoteAddress(byForwarded, { Forwarded: 'for=198.51.100.9' });
    await byForwarded.logged(/info websocket 198\.51\.100\.9 refused with 4009: Connection refused by policy: from 198\.51\.100\.9\n/);
  });

  it('refuses a RAPTOR_TRUSTED_PROXIES entry or a --forwarded-header that is not one, naming the expected form', async () => {
    const env = await runRaptor([], { RAPTOR_TRUSTED_PROXIES: '127.0.0.1,proxy.example' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /invalid value 'proxy\.example' for RAPTOR_TRUSTED_PROXIES: expected an IPv4 or IPv6 address or network/);
    const header = await runRaptor(['--forwarded-header', 'x-real-ip']);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /invalid value 'x-real-ip' for --forwarded-header: expected x-forwarded-for or forwarded/);
  });
});
