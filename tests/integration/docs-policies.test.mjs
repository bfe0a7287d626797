// The policy examples of docs/ (hooks and channel rules), each run as the document shows it
// (lib/doc-blocks.mjs): what the example means to allow is allowed, and nothing is granted on what
// a client writes itself (a made-up signature, URL parameters, an Origin from a script).
// README.md's first block: readme-policy.test.mjs.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { codeBlock, codeBlocks, documents } from './lib/doc-blocks.mjs';
import { AUTH_ERROR, POLICY_REFUSED, assertSubscribeRefused } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const MADE_UP = (app) => `${app.key}:${'0'.repeat(64)}`;
const CLIENT_EVENT_REFUSED = 4306;
const DOCS = { id: 'docs', key: 'docs-key', secret: 'docs-secret-9a7e' };
const GALLERY = { id: 'gallery', key: 'gallery-key', secret: 'gallery-secret-4b2d' };
const AUCTION = { id: 'auction', key: 'auction-key', secret: 'auction-secret-8c3f' };
const SECRETS = { RAPTOR_DOCS_SECRET: DOCS.secret, RAPTOR_GALLERY_SECRET: GALLERY.secret, RAPTOR_AUCTION_SECRET: AUCTION.secret };

// A server whose raptor.rb is `ruby` (after an app for top-level hooks, when `app` is DOCS), on
// loopback whatever the block listens on.
function docServer(name, ruby, apps = [DOCS]) {
  const head = apps[0] === DOCS ? 'app "docs", key: "docs-key", secret: env("RAPTOR_DOCS_SECRET")\n' : '';
  return {
    apps, configVia: 'defaults', env: SECRETS, bystander: { app: apps[0], origin: 'https://example.com' },
    args: ['--config', configFile(`${name}.rb`, head + ruby), '--host', '127.0.0.1'],
  };
}

// A presence member: channel_data signed for this socket (or `auth` given), and the ids it sees.
async function join(server, app, channel, member, options = {}) {
  const client = await RawClient.connect(server, { app });
  const ok = await client.subscribe(channel, { channelData: JSON.stringify(member), ...options });
  return { client, ids: ok.payload.presence.ids };
}

serverSuite('docs/configuration.md: admit by Origin', docServer('admit-origin',
  codeBlock('docs/configuration.md', /ALLOWED_ORIGINS\.include\?/)), (server) => {
  it('admits the listed origins', async () => {
    for (const origin of ['https://example.com', 'https://admin.example.com']) {
      await (await RawClient.connect(server, { app: DOCS, origin })).subscribe('news');
    }
  });

  it('refuses another origin and none with 4009', async () => {
    for (const origin of ['https://evil.example', undefined]) {
      const client = await RawClient.open(server, `/app/${DOCS.key}${PUSHER_QUERY}`, { app: DOCS, origin });
      assert.equal((await client.closed).code, 4009);
    }
  });
});

serverSuite('docs/configuration.md: privilege for staff', docServer('authorize-staff',
  codeBlock('docs/configuration.md', /presence-privileged-support\./)), (server) => {
  const channel = 'presence-privileged-support.7';

  it('makes a member privileged when the signed user_info says staff', async () => {
    await join(server, DOCS, channel, { user_id: 'customer' });
    const staff = await join(server, DOCS, channel, { user_id: 'sam', user_info: { role: 'staff' } });
    assert.deepEqual(staff.ids.sort(), ['customer', 'sam'], 'privileged: sees the roster');
  });

  it('leaves everyone else unprivileged', async () => {
    const other = await join(server, DOCS, channel, { user_id: 'jo', user_info: { role: 'customer' } });
    assert.deepEqual(other.ids, ['jo']);
  });

  it('refuses a made-up signature, whatever the URL or the channel_data says', async () => {
    const client = await RawClient.connect(server, { app: DOCS, query: `${PUSHER_QUERY}&staff_token=x&role=staff` });
    await assertSubscribeRefused(client, channel,
      { auth: MADE_UP(DOCS), channelData: JSON.stringify({ user_id: 'eve', user_info: { role: 'staff' } }) }, POLICY_REFUSED);
  });
});

serverSuite('docs/configuration.md: private-admin- for admins', docServer('authorize-admin',
  codeBlock('docs/configuration.md', /next subscription\.signed\? unless/)), (server) => {
  it('grants private-admin- to a signed subscription with ?role=admin', async () => {
    const client = await RawClient.connect(server, { app: DOCS, query: `${PUSHER_QUERY}&role=admin` });
    await client.subscribe('private-admin-panel');
  });

  it('refuses it with a made-up signature, and without ?role=admin', async () => {
    const admin = await RawClient.connect(server, { app: DOCS, query: `${PUSHER_QUERY}&role=admin` });
    await assertSubscribeRefused(admin, 'private-admin-panel', { auth: MADE_UP(DOCS) }, POLICY_REFUSED);
    const plain = await RawClient.connect(server, { app: DOCS });
    await assertSubscribeRefused(plain, 'private-admin-panel', {}, POLICY_REFUSED);
  });

  it('wants a signature for every other channel too', async () => {
    const client = await RawClient.connect(server, { app: DOCS });
    await client.subscribe('private-orders');
    await assertSubscribeRefused(client, 'private-orders-2', { auth: MADE_UP(DOCS) }, POLICY_REFUSED);
  });
});

serverSuite('docs/channels.md: no public wildcards', docServer('no-public-wildcards',
  codeBlock('docs/channels.md', /no public wildcards/)), (server) => {
  it('refuses a public wildcard pattern and keeps private ones to their signature', async () => {
    const client = await RawClient.connect(server, { app: DOCS });
    await assertSubscribeRefused(client, 'news.*', {}, POLICY_REFUSED);
    await client.subscribe('news.sport');
    await client.subscribe('private-users.1.*');
    await assertSubscribeRefused(client, 'private-users.2.*', { auth: MADE_UP(DOCS) }, AUTH_ERROR);
  });
});

// The gallery of docs/configuration.md's channel rules: a profile to join, owners see the
// visitors, comments are not client events, moderators alone publish in auctions.
serverSuite('docs/configuration.md: channel rules', docServer('channel-rules',
  codeBlock('docs/configuration.md', /visits\.subscribe/), [GALLERY]), (server) => {
  const visits = 'presence-privileged-gallery.3';

  it('lets owners see the roster, visitors only themselves', async () => {
    const visitor = await join(server, GALLERY, visits, { user_id: 'v', user_info: { role: 'visitor' } });
    assert.deepEqual(visitor.ids, ['v']);
    const owner = await join(server, GALLERY, visits, { user_id: 'o', user_info: { role: 'owner' } });
    assert.deepEqual(owner.ids.sort(), ['o', 'v']);
  });

  it('refuses a member without a profile, and a made-up owner', async () => {
    const client = await RawClient.connect(server, { app: GALLERY });
    await assertSubscribeRefused(client, visits, { channelData: JSON.stringify({ user_id: 'n' }) }, POLICY_REFUSED);
    await assertSubscribeRefused(client, visits,
      { auth: MADE_UP(GALLERY), channelData: JSON.stringify({ user_id: 'e', user_info: { role: 'owner' } }) }, AUTH_ERROR);
  });

  it('refuses client events on comments', async () => {
    const client = await RawClient.connect(server, { app: GALLERY });
    await client.subscribe('private-galleries.3.comments');
    client.trigger('private-galleries.3.comments', 'client-comment', { text: 'hi' });
    await client.nextError(CLIENT_EVENT_REFUSED);
  });

  it('takes auction client events from moderators only', async () => {
    await assertModeratorsOnly(server, GALLERY, 'presence-auction.5.lot.1');
  });
});

serverSuite('docs/channels.md: privileged gallery and auction', docServer('channels-md',
  codeBlock('docs/channels.md', /A broadcast channel where only moderators may publish/), [GALLERY, AUCTION]), (server) => {
  it('lets gallery owners see the visitors, and no one else', async () => {
    const visits = 'presence-privileged-gallery.9';
    const visitor = await join(server, GALLERY, visits, { user_id: 'v' });
    assert.deepEqual(visitor.ids, ['v']);
    const owner = await join(server, GALLERY, visits, { user_id: 'o', user_info: { role: 'owner' } });
    assert.deepEqual(owner.ids.sort(), ['o', 'v']);
  });

  it('takes auction client events from moderators only', async () => {
    await assertModeratorsOnly(server, AUCTION, 'presence-auction.5');
  });
});

// A moderator's client event reaches the room; a bidder's is refused, also with a made-up
// moderator role (refused at the subscription: its signature is not the app's).
async function assertModeratorsOnly(server, app, room) {
  const bidder = await join(server, app, room, { user_id: 'b', user_info: { role: 'bidder' } });
  const moderator = await join(server, app, room, { user_id: 'm', user_info: { role: 'moderator' } });
  moderator.client.trigger(room, 'client-lot', { lot: 1 });
  assert.deepEqual((await bidder.client.next('client-lot', room)).data, { lot: 1 });
  bidder.client.trigger(room, 'client-lot', { lot: 2 });
  await bidder.client.nextError(CLIENT_EVENT_REFUSED);
  const eve = await RawClient.connect(server, { app });
  await assertSubscribeRefused(eve, room,
    { auth: MADE_UP(app), channelData: JSON.stringify({ user_id: 'e', user_info: { role: 'moderator' } }) }, AUTH_ERROR);
}

serverSuite('docs/rails.md: comments through the app', docServer('rails-md',
  codeBlock('docs/rails.md', /^app "gallery", key: "gallery-key"/), [GALLERY]), (server) => {
  it('refuses client events on a gallery\'s comments', async () => {
    const client = await RawClient.connect(server, { app: GALLERY });
    await client.subscribe('private-galleries.1.comments');
    client.trigger('private-galleries.1.comments', 'client-comment', { text: 'spam' });
    await client.nextError(CLIENT_EVENT_REFUSED);
  });
});

// Every policy in README.md and docs/ is run above (or by readme-policy.test.mjs), or says here
// why it is not: a new example must be tested or explained.
const RUN = [
  ['README.md', /^listen /],
  ['docs/configuration.md', /ALLOWED_ORIGINS\.include\?/],
  ['docs/configuration.md', /presence-privileged-support\./],
  ['docs/configuration.md', /next subscription\.signed\? unless/],
  ['docs/configuration.md', /visits\.subscribe/],
  ['docs/channels.md', /no public wildcards/],
  ['docs/channels.md', /A broadcast channel where only moderators may publish/],
  ['docs/rails.md', /^app "gallery", key: "gallery-key"/],
];
const ILLUSTRATIVE = [
  ['docs/configuration.md', /app\.authorize \{ \|subscription\| … \}/, 'lists the app options; the hook is elided'],
  ['docs/configuration.md', /app\.shape_webhook do/, 'shapes webhook events, grants nothing; webhook-shaping.test.mjs runs examples/webhook_shaping.rb'],
  ['docs/webhooks.md', /^app\.shape_webhook do/, 'shapes webhook events, grants nothing; a fragment (STAFF is the reader\'s)'],
];
const POLICY = /^\s*(\w+\.)?(admit|authorize|filter_client_events|shape_webhook|subscribe|roster|client_events)\s*(do\b|\{)|\bchannel "/m;

it('runs every policy example of README.md and docs/, or says why not', () => {
  for (const block of documents().flatMap((doc) => codeBlocks(doc)).filter((b) => POLICY.test(b.code))) {
    const known = [...RUN, ...ILLUSTRATIVE].filter(([doc, pattern]) => doc === block.doc && pattern.test(block.code));
    assert.equal(known.length, 1, `${block.doc}:${block.line}: a policy example neither run nor explained here`);
  }
});
