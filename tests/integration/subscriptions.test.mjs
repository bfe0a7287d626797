// Subscribing and unsubscribing: public, private and private-encrypted channels, signatures,
// channel names, and that every subscribe gets an answer.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { apiGet, serverSdk } from './lib/clients.mjs';
import { AUTH_ERROR, INVALID_CHANNEL, assertSubscribeRefused } from './lib/refusals.mjs';
import { channelAuth, hmacHex } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

serverSuite('subscriptions', {}, (server, { stillServing }) => {
  it('subscribes to a public channel with auth "" and answers data "{}"', async () => {
    const client = await RawClient.connect(server);
    const ok = await client.subscribe('news', { auth: '' });
    assert.equal(ok.data, '{}');
  });

  it('subscribes to a public channel without an auth field', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('news', { auth: null });
  });

  it('subscribes to a private channel with a valid signature and receives its events', async () => {
    const client = await RawClient.connect(server);
    const ok = await client.subscribe('private-chat');
    assert.equal(ok.data, '{}');
    await serverSdk(server).trigger('private-chat', 'hello', { to: 'me' });
    assert.deepEqual((await client.next('hello', 'private-chat')).payload, { to: 'me' });
  });

  it('subscribes to a private-encrypted- channel and passes the ciphertext through', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-encrypted-vault');
    await serverSdk(server).trigger('private-encrypted-vault', 'hello', { to: 'me' });
    const { payload } = await client.next('hello', 'private-encrypted-vault');
    assert.deepEqual(Object.keys(payload).sort(), ['ciphertext', 'nonce']);
  });

  it('accepts every name character Pusher allows, up to 200 characters', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('AZaz09_-=@,.;');
    await client.subscribe('c'.repeat(200));
  });

  const badAuth = [
    ['no auth', () => ({ auth: null })],
    ['an empty auth', () => ({ auth: '' })],
    ['a garbage auth', () => ({ auth: 'nonsense' })],
    ['a signature for another socket', () => ({ auth: channelAuth(server.app, '1.1', 'private-chat') })],
    ['a signature for another channel', (c) => ({ auth: channelAuth(server.app, c.socketId, 'private-other') })],
    ['a signature made with another secret', (c) => ({ auth: channelAuth({ ...server.app, secret: 'wrong' }, c.socketId, 'private-chat') })],
    ['the right signature under another key', (c) => ({ auth: `other-key:${hmacHex(server.app.secret, `${c.socketId}:private-chat`)}` })],
  ];
  for (const [what, options] of badAuth) {
    it(`refuses private-chat with ${what} (4304), and keeps serving others`, async () => {
      const client = await RawClient.connect(server);
      await assertSubscribeRefused(client, 'private-chat', options(client), AUTH_ERROR);
      await stillServing();
    });
  }

  it('refuses private-encrypted- without a valid signature (4304)', async () => {
    const client = await RawClient.connect(server);
    await assertSubscribeRefused(client, 'private-encrypted-vault', { auth: `${server.app.key}:${'0'.repeat(64)}` }, AUTH_ERROR);
    await stillServing();
  });

  const badNames = ['has space', 'ümlaut', 'colon:name', 'quote"name', 'percent%41', '#hash', 'c'.repeat(201), 'private-' + 'c'.repeat(193)];
  for (const name of badNames) {
    it(`refuses the channel name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 12)}…(${name.length} chars)` : name)} (4303), and keeps serving others`, async () => {
      const client = await RawClient.connect(server);
      await assertSubscribeRefused(client, name, {}, INVALID_CHANNEL);
      await stillServing();
    });
  }

  it('answers a duplicate subscribe again without a second membership', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-dup');
    await client.subscribe('private-dup');
    await serverSdk(server).trigger('private-dup', 'once', {});
    await client.sync();
    assert.equal(client.frames.pending((f) => f.event === 'once').length, 1);
    const info = await apiGet(server, '/channels/private-dup', { info: 'subscription_count' });
    assert.equal(info.subscription_count, 1);
  });

  it('answers every subscribe, accepted or refused, on a busy connection', async () => {
    const client = await RawClient.connect(server);
    const channels = [];
    for (let i = 0; i < 10; i++) channels.push(`public-${i}`, `private-${i}`, `bad name ${i}`);
    for (const channel of channels) client.sendSubscribe(channel, channel.startsWith('private-') ? { auth: 'x:y' } : {});
    for (const channel of channels) {
      await client.next((f) => f.channel === channel && /subscription_(succeeded|error)$/.test(f.event), `answer for ${channel}`);
    }
  });

  it('stops delivering after unsubscribe, without replying to it', async () => {
    const client = await RawClient.connect(server);
    await client.subscribe('private-leave');
    client.unsubscribe('private-leave');
    await client.sync();
    await serverSdk(server).trigger('private-leave', 'after-leave', {});
    await client.sync();
    assert.deepEqual(client.frames.pending(), [], 'no reply to unsubscribe and no event after it');
    await client.subscribe('private-leave');
    await serverSdk(server).trigger('private-leave', 'back', {});
    await client.next('back', 'private-leave');
  });

  it('ignores unsubscribing from a channel it never subscribed to', async () => {
    const client = await RawClient.connect(server);
    client.unsubscribe('never-joined');
    client.unsubscribe('private-never-joined');
    await client.sync();
    assert.deepEqual(client.frames.pending(), []);
    await stillServing();
  });
});
