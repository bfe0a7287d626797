// What README and docs/cluster.md promise about sharing one Redis: deployments with different
// --redis-prefix values (same app ids, same channel names) hear nothing of each other, and a
// Redis URL's /db puts a deployment's keys in that database only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { presenceMember } from './lib/clients.mjs';
import { assertStopsCleanly, clusterNode, clusterState, fenceThenNothingElse, publisher, subscribersOn } from './lib/cluster.mjs';
import { RedisServer } from './lib/redis.mjs';

// The key names of database `db`, read by a script (SELECT inside a script touches only it).
const keysIn = (redis, db) => redis.command('EVAL', `redis.call('SELECT', ${db}) return redis.call('KEYS', '*')`, 0);

describe('two deployments on one Redis, told apart by --redis-prefix', () => {
  const redis = new RedisServer();
  let staging;
  let production;
  before(async () => {
    await redis.start();
    staging = clusterNode(redis, 'staging-1', ['--redis-prefix', 'staging:']);
    production = clusterNode(redis, 'production-1', ['--redis-prefix', 'production:']);
    await Promise.all([staging.start(), production.start()]);
    await Promise.all([clusterState(staging, 'up'), clusterState(production, 'up')]);
  });
  after(async () => {
    await Promise.all([staging, production].map((n) => n.closeClients()));
    await assertStopsCleanly([staging, production]);
    await redis.stop();
  });

  it('delivers an event only within the deployment it was published in', async () => {
    const [onStaging, onProduction] = await subscribersOn([staging, production], 'orders');
    await publisher(staging).trigger('orders', 'e', { from: 'staging' });
    assert.equal((await onStaging.inbox.take(undefined, 'the staging event')).data.from, 'staging');
    await publisher(production).trigger('orders', 'e', { from: 'production' });
    assert.equal((await onProduction.inbox.take(undefined, 'the production event')).data.from, 'production');
    // A fence on each side: had the other deployment's event crossed, it would be in front of it.
    await fenceThenNothingElse(staging, 'orders', [onStaging.inbox]);
    await fenceThenNothingElse(production, 'orders', [onProduction.inbox]);
  });

  it('keeps presence rosters apart, and every key under its own prefix', async () => {
    const ann = await presenceMember(staging, 'presence-room', { user_id: 'ann' });
    const bob = await presenceMember(production, 'presence-room', { user_id: 'bob' });
    assert.deepEqual(ann.ids, ['ann']);
    assert.deepEqual(bob.ids, ['bob'], 'production does not see the staging member');
    const keys = await keysIn(redis, 0);
    assert.ok(keys.some((k) => k.startsWith('staging:presence:')), `staging keys: ${keys}`);
    assert.ok(keys.some((k) => k.startsWith('production:presence:')), `production keys: ${keys}`);
    assert.deepEqual(keys.filter((k) => !k.startsWith('staging:') && !k.startsWith('production:')), [],
      'no key outside the two prefixes');
  });
});

describe('a Redis URL with /db', () => {
  const redis = new RedisServer();
  let node;
  before(async () => {
    await redis.start();
    node = clusterNode({ url: `${redis.url}/3` }, 'in-db-3');
    await node.start();
    await clusterState(node, 'up');
  });
  after(async () => {
    await node.closeClients();
    await assertStopsCleanly([node]);
    await redis.stop();
  });

  it('keeps the cluster state in that database and none in database 0', async () => {
    await presenceMember(node, 'presence-db', { user_id: 'carol' });
    const inThree = await keysIn(redis, 3);
    assert.ok(inThree.some((k) => k.startsWith('raptor:presence:')), `keys in db 3: ${inThree}`);
    assert.deepEqual(await keysIn(redis, 0), [], 'database 0 untouched');
  });
});
