// Redis as managed services hand it out (docs/cluster.md, "Host names" and "TLS"): by a host
// name (mapped here in a hosts file of the test's own, given as CARES_HOSTS), looked up again when
// the connection is lost so a Redis that moved is found; by an IPv6 address; over TLS
// (rediss://, a real redis-server with tls-port on and a certificate made by the test), with its
// certificate checked against the name and a CA file; and the clear errors: a certificate nobody
// vouches for, a name that does not resolve (logged while running, refused by `raptor check`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { assertStopsCleanly, clusterState, health, publisher, subscribersOn } from './lib/cluster.mjs';
import { configFile } from './lib/config-files.mjs';
import { HostsFile } from './lib/hosts-file.mjs';
import { Raptor, freePort, runRaptor } from './lib/raptor.mjs';
import { RedisServer } from './lib/redis.mjs';

const hosts = new HostsFile();
const node = (redisUrl, nodeId, env = {}) => {
  const n = new Raptor({ args: ['--redis', redisUrl, '--node-id', nodeId, '--workers', '2'], env: { ...hosts.env, ...env } });
  n.nodeId = nodeId;
  return n;
};

// Publishes on nodes[0] and checks that subscribers on every node get the event.
async function eventCrosses(nodes, channel) {
  const subs = await subscribersOn(nodes, channel);
  await publisher(nodes[0]).trigger(channel, 'e', { across: channel });
  for (const { inbox } of subs) assert.equal((await inbox.take()).data.across, channel);
}

describe('Redis by host name and by IPv6 address', () => {
  const redis = new RedisServer({ host: '::1' });
  const nodes = [];
  before(async () => {
    await redis.start();
    hosts.write({ 'redis.raptor.test': '::1' });
    nodes.push(node(`redis://redis.raptor.test:${redis.port}`, 'by-name'), node(redis.url, 'by-ipv6'));
    await Promise.all(nodes.map((n) => n.start()));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await redis.stop();
  });

  it('connects to both and carries events between them', async () => {
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await eventCrosses(nodes, 'named');
    await Promise.all(nodes.map((n) => n.closeClients()));
  });

  it('looks the name up again after losing Redis: a Redis that moved to another address is found', async () => {
    const port = redis.port;
    await redis.kill();
    await clusterState(nodes[0], 'down');
    // The same port at another address; the old one now refuses connections.
    const moved = new RedisServer({ host: '127.0.0.1' });
    await moved.start(port);
    try {
      hosts.write({ 'redis.raptor.test': '127.0.0.1' });
      await clusterState(nodes[0], 'up');
      await eventCrosses([nodes[0]], 'moved');
      await nodes[0].closeClients();
      await assertStopsCleanly([nodes[0]]);
    } finally {
      await moved.stop();
    }
  });
});

describe('Redis over TLS (rediss://)', () => {
  const NAME = 'redis-tls.raptor.test';
  const certificate = selfSignedCertificate([`DNS:${NAME}`, 'IP:127.0.0.1']);
  const redis = new RedisServer();
  let tlsPort;
  before(async () => {
    tlsPort = await freePort();
    await redis.start(undefined, ['--tls-port', String(tlsPort), '--tls-cert-file', certificate.certFile,
      '--tls-key-file', certificate.keyFile, '--tls-ca-cert-file', certificate.certFile, '--tls-auth-clients', 'no']);
    hosts.write({ [NAME]: '127.0.0.1' });
  });
  after(() => redis.stop());

  it('connects through TLS with the CA given in the URL, checked against the name, and carries events', async () => {
    const nodes = [
      node(`rediss://${NAME}:${tlsPort}?ca=${encodeURIComponent(certificate.certFile)}`, 'tls-by-name'),
      node(`rediss://127.0.0.1:${tlsPort}/0?ca=${encodeURIComponent(certificate.certFile)}`, 'tls-by-ip'),
    ];
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => clusterState(n, 'up')));
    await eventCrosses(nodes, 'secure');
    const clients = await redis.command('CLIENT', 'LIST');
    assert.ok(clients.split('\n').filter((line) => line.includes('cmd=')).length >= 4, clients);
    await Promise.all(nodes.map((n) => n.closeClients()));
    await assertStopsCleanly(nodes);
  });

  it('refuses a certificate nobody vouches for, says why, and connects with verify=none', async () => {
    const refusing = node(`rediss://${NAME}:${tlsPort}`, 'tls-untrusted'); // the system's CAs only
    const trusting = node(`rediss://${NAME}:${tlsPort}?verify=none`, 'tls-unverified');
    await Promise.all([refusing.start(), trusting.start()]);
    await refusing.logged(/cannot reach Redis at redis-tls\.raptor\.test:\d+ \(TLS: the certificate of Redis is refused: self-signed certificate\)/);
    await clusterState(trusting, 'up');
    assert.notEqual((await health(refusing)).cluster.redis, 'up');
    await assertStopsCleanly([refusing, trusting]);
  });

});

describe('a Redis host name that does not resolve', () => {
  const NOWHERE = 'no-such-redis.invalid';

  it('is logged with the reason while the node serves on its own', async () => {
    const lonely = node(`redis://${NOWHERE}:6379`, 'unresolved');
    await lonely.start();
    await lonely.logged(new RegExp(`cannot reach Redis at ${NOWHERE.replace(/\./g, '\\.')}:6379 \\(cannot resolve the host name '${NOWHERE.replace(/\./g, '\\.')}': `));
    await assertStopsCleanly([lonely]);
  });

  it('makes raptor check exit 2, saying which name', async () => {
    const file = configFile('redis-nowhere.rb', `listen "127.0.0.1"\napp "a", key: "k", secret: "s-0123456789abcdef"\nredis "redis://${NOWHERE}:6379"\n`);
    const { code, stderr } = await runRaptor(['check', file], hosts.env);
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`redis: cannot resolve the host name '${NOWHERE.replace(/\./g, '\\.')}'`));
  });
});
