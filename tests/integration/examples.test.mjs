// The examples a new user copies: examples/publish.rb (Ruby standard library only, signed as the
// `pusher` gem signs) must publish to a real subscriber, by channel name or URL resource, and be
// refused with a wrong secret; examples/gallery.rb and examples/broadcast.rb (channel rules) must
// do what their comments say with pusher-js; examples/auth_signer.rb and .mjs (the auth-endpoint
// signers the docs' snippets use) must refuse hostile socket_ids and channels (security issue 21)
// and sign what the server accepts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inboxOf, presenceMember as member, pusherClient, subscribed } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';
import { AuthRefused, authorizeChannel } from '../../examples/auth_signer.mjs';

const run = promisify(execFile);
const example = (name) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const script = example('publish.rb');

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

// socket_ids an attacker posts to an auth endpoint: the head of an API request's string to sign,
// or anything else that is not two integers joined by a dot.
const HOSTILE_SOCKET_IDS = [
  'POST\n/apps/app-id/events\nauth_key=app-key&auth_timestamp=1&auth_version=1.0&body_md5=0&z=',
  '1.2\n', '\n1.2', '1.2&z=', '1.2:private-admin', '1.2=', '1.2 ', '1', '1.2.3', 'a.b', '', '١.٢',
];
const HOSTILE_CHANNELS = ['private-a:b', 'private-a&b', 'private-a\nb', 'news', '#server-to-user-1', 'private-',
  '/channels/public/news', `private-${'a'.repeat(200)}`];

const signerRb = (server, args) => run('ruby', [example('auth_signer.rb'), ...args], {
  env: { ...process.env, RAPTOR_APP_KEY: server.app.key, RAPTOR_APP_SECRET: server.app.secret },
});

serverSuite('examples/auth_signer', { args: ['--workers', '1'] }, (server) => {
  it('auth_signer.mjs refuses hostile socket_ids and channels', () => {
    for (const socketId of HOSTILE_SOCKET_IDS)
      assert.throws(() => authorizeChannel(server.app, socketId, 'private-users.42.*'), AuthRefused, JSON.stringify(socketId));
    for (const channel of HOSTILE_CHANNELS)
      assert.throws(() => authorizeChannel(server.app, '1.2', channel), AuthRefused, JSON.stringify(channel));
    assert.throws(() => authorizeChannel(server.app, undefined, 'private-a'), AuthRefused);
  });

  it('auth_signer.rb refuses hostile socket_ids and channels: exit 2, nothing signed', async () => {
    const refusals = [...HOSTILE_SOCKET_IDS.map((id) => [id, 'private-users.42.*']), ...HOSTILE_CHANNELS.map((c) => ['1.2', c])];
    for (const args of refusals) {
      await assert.rejects(signerRb(server, args), (err) => {
        assert.equal(err.code, 2, JSON.stringify(args));
        assert.equal(err.stdout, '');
        return true;
      });
    }
  });

  for (const [language, sign] of [
    ['mjs', async (socketId, channel, data) => authorizeChannel(server.app, socketId, channel, data)],
    ['rb', async (socketId, channel, data) => JSON.parse((await signerRb(server, [socketId, channel, ...(data ? [JSON.stringify(data)] : [])])).stdout)],
  ]) {
    it(`auth_signer.${language} signs a pattern, a channel and a presence member the server accepts`, async () => {
      const client = await RawClient.connect(server);
      const pattern = await sign(client.socketId, 'private-users.42.*');
      await client.subscribe('private-users.42.*', { auth: pattern.auth });
      const address = await sign(client.socketId, '/channels/private/galleries/5');
      await client.subscribe('/channels/private/galleries/5', { auth: address.auth });
      const member = await sign(client.socketId, 'presence-room', { user_id: '42' });
      await client.subscribe('presence-room', { auth: member.auth, channelData: member.channel_data });
      // And a signature for another socket is refused: the signer signs this socket_id only.
      const other = await sign('1.2', 'private-users.42.x');
      await client.subscribeRefused('private-users.42.x', { auth: other.auth }, 4304);
    });
  }
});

const GALLERY = { id: 'gallery', key: 'gallery-key', secret: 'gallery-secret-for-tests' };

serverSuite('examples/gallery.rb', {
  apps: [GALLERY], args: ['--config', example('gallery.rb')], env: { RAPTOR_GALLERY_SECRET: GALLERY.secret },
}, (server, { stillServing }) => {
  it('shows the visitors to the gallery\'s owner only', async () => {
    const name = 'presence-privileged-gallery.123';
    const visitor = await member(server, name, { user_id: 'v1', user_info: { name: 'Vic' } });
    const owner = await member(server, name, { user_id: 'o1', user_info: { name: 'Ola', role: 'owner' } });
    assert.deepEqual(owner.ids, ['o1', 'v1']);
    const second = await member(server, name, { user_id: 'v2', user_info: { name: 'Val' } });
    assert.deepEqual(second.ids, ['v2']);
    assert.equal((await owner.added.take(undefined, 'the owner hears v2')).data.id, 'v2');
    // "privileged": true signed by the app still counts: the rule passes for non-owners.
    const signed = await member(server, name, { user_id: 'mod', privileged: true });
    assert.deepEqual(signed.ids, ['mod', 'o1', 'v1', 'v2']);
    assert.deepEqual(visitor.added.pending(), []);
  });

  it('delivers comments published from Ruby to the URL resource, and refuses client events on them', async () => {
    const pusher = await pusherClient(server);
    const errors = inboxOf((cb) => pusher.connection.bind('error', cb));
    const [comments] = await subscribed(pusher, 'private-galleries.123.comments');
    const added = inboxOf((cb) => comments.bind('comment-added', cb));
    const { stdout } = await publishRb(server, ['/channels/private/galleries/123/comments', 'comment-added', '{"text":"Nice shot"}'],
      { RAPTOR_APP_ID: GALLERY.id, RAPTOR_APP_KEY: GALLERY.key, RAPTOR_APP_SECRET: GALLERY.secret });
    assert.match(stdout, /^200 \{\}/);
    assert.deepEqual((await added.take(undefined, 'the published comment')).data, { text: 'Nice shot' });
    comments.trigger('client-comment', { text: 'sneaky' });
    const { data: error } = await errors.take(undefined, 'pusher:error');
    assert.equal(error.data.code, 4306);
    assert.equal(error.data.message, 'Client event refused by policy: comments are posted through the app');
    await stillServing();
  });
});

const AUCTION = { id: 'auction', key: 'auction-key', secret: 'auction-secret-for-tests' };

serverSuite('examples/broadcast.rb', {
  apps: [AUCTION], args: ['--config', example('broadcast.rb')], env: { RAPTOR_AUCTION_SECRET: AUCTION.secret },
}, (server, { stillServing }) => {
  it('lets moderators publish client events and refuses the bidders\' with 4306', async () => {
    const name = 'presence-auction.7';
    const auctioneer = await member(server, name, { user_id: 'm', user_info: { role: 'moderator' } });
    const bidder = await member(server, name, { user_id: 'b', user_info: { paddle: 12 } });
    const atBidder = inboxOf((cb) => bidder.channel.bind('client-lot', cb));
    auctioneer.channel.trigger('client-lot', { lot: 1, price: 100 });
    assert.deepEqual((await atBidder.take(undefined, 'the moderator\'s client event')).data, { lot: 1, price: 100 });
    bidder.channel.trigger('client-lot', { lot: 1, price: 1 });
    const { data: error } = await bidder.errors.take(undefined, 'pusher:error');
    assert.equal(error.data.code, 4306);
    assert.equal(error.data.message, `Client event refused by policy: only moderators may publish in ${name}`);
  });

  it('refuses a member without a paddle number: subscription_error 403', async () => {
    const pusher = await pusherClient(server, { user: { user_id: 'x', user_info: { name: 'X' } } });
    const channel = pusher.subscribe('presence-auction.7');
    const { data } = await inboxOf((cb) => channel.bind('pusher:subscription_error', cb)).take(undefined, 'the refusal');
    assert.equal(data.status, 403);
    assert.equal(data.error, 'Subscription refused by policy: a bidder needs a paddle number');
    await stillServing();
  });
});
