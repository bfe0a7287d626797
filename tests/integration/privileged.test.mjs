// Privileged channels (presence-privileged-…) with unmodified pusher-js and Laravel Echo: every
// authorized member receives the channel's events, but only privileged members see the roster,
// hear members come and go, and may send client events. Privilege from the signed channel_data
// ({"privileged": true}) here, from raptor.rb's authorize hook in the second suite. Webhooks
// (a real receiver) and the HTTP API still see every member. Two workers: members land on both.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { apiGet, echoClient, inboxOf, presenceMember as join, serverSdk } from './lib/clients.mjs';
import { signedRequest } from './lib/http-api.mjs';
import { DEFAULT_APP } from './lib/raptor.mjs';
import { channelAuth } from './lib/signature.mjs';
import { serverSuite } from './lib/suite.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const OWNER = { user_id: 'owner', user_info: { name: 'Olga' }, privileged: true };
const visitor = (id) => ({ user_id: id, user_info: { name: id } });
const NOT_PRIVILEGED = 4310;
const DEPARTURE_MS = 9000; // member_removed comes ~3 s after the leave; room for a busy machine

// The ids pusher-js's Members hold now.
const currentIds = (members) => {
  const out = [];
  members.each((m) => out.push(m.id));
  return out.sort();
};

// Publishes a marker through the HTTP API and waits for it at each client: whatever the server
// sent them before it has arrived.
async function settle(server, name, clients) {
  const marker = `settle-${Math.random()}`;
  const inboxes = clients.map((c) => inboxOf((cb) => c.channel.bind(marker, cb)));
  await serverSdk(server).trigger(name, marker, {});
  for (const inbox of inboxes) await inbox.take(undefined, `${marker} on ${name}`);
}

const receiver = await new WebhookReceiver(DEFAULT_APP).start();

serverSuite('privileged channels', { args: ['--workers', '2', '--webhook', receiver.url] }, (server, { stillServing }) => {
  after(() => receiver.stop());

  it('gives a privileged member the roster and member events, the others only themselves', async () => {
    const name = 'presence-privileged-gallery.1';
    const ann = await join(server, name, visitor('ann'));
    assert.equal(ann.members.count, 1);
    assert.deepEqual(ann.members.me, { id: 'ann', info: { name: 'ann' } });

    const owner = await join(server, name, OWNER);
    assert.deepEqual(owner.ids, ['ann', 'owner'], 'the privileged member sees everyone');
    assert.equal(owner.members.get('ann').info.name, 'ann');

    const bob = await join(server, name, visitor('bob'));
    assert.deepEqual(bob.ids, ['bob'], 'a visitor sees only itself, not the owner');
    assert.deepEqual((await owner.added.take(undefined, 'member_added bob')).data, { id: 'bob', info: { name: 'bob' } });

    await bob.pusher.disconnect();
    assert.equal((await owner.removed.take(undefined, 'member_removed bob')).data.id, 'bob');
    await settle(server, name, [ann, owner]);
    assert.deepEqual(ann.added.pending(), [], 'no member_added for a visitor');
    assert.deepEqual(ann.removed.pending(), [], 'no member_removed for a visitor');
    assert.deepEqual(currentIds(ann.members), ['ann']);
    assert.deepEqual(owner.added.pending(), [], 'the owner heard of bob once');
  });

  it('reports every member to webhooks and the HTTP API, privileged or not', async () => {
    const name = 'presence-privileged-hooks';
    const owner = await join(server, name, OWNER);
    const cy = await join(server, name, visitor('cy'));
    await owner.added.take(undefined, 'member_added cy');
    for (const user_id of ['owner', 'cy']) await receiver.take({ name: 'member_added', channel: name, user_id });

    assert.deepEqual((await apiGet(server, `/channels/${name}/users`)).users.map((u) => u.id).sort(), ['cy', 'owner']);
    assert.deepEqual(await apiGet(server, `/channels/${name}`, { info: 'user_count' }), { occupied: true, user_count: 2 });
    const members = await signedRequest(server, { path: '/channels/privileged/hooks/members' });
    assert.equal(members.status, 200);
    assert.deepEqual(members.json.users.map((u) => u.id).sort(), ['cy', 'owner']);

    await cy.pusher.disconnect();
    await receiver.take({ name: 'member_removed', channel: name, user_id: 'cy' }, DEPARTURE_MS);
  });

  it('delivers a privileged member\'s client events and refuses the others\' with 4310', async () => {
    const name = 'presence-privileged-talk';
    const owner = await join(server, name, OWNER);
    const dee = await join(server, name, visitor('dee'));
    const atDee = inboxOf((cb) => dee.channel.bind('client-note', cb));
    const atOwner = inboxOf((cb) => owner.channel.bind('client-note', cb));

    assert.ok(owner.channel.trigger('client-note', { text: 'welcome' }));
    const note = await atDee.take(undefined, 'the owner\'s client event');
    assert.deepEqual(note.data, { text: 'welcome' });
    assert.equal(note.metadata.user_id, 'owner');

    dee.channel.trigger('client-note', { text: 'let me talk' });
    const { data: error } = await dee.errors.take(undefined, 'pusher:error for a visitor\'s client event');
    assert.equal(error.data.code, NOT_PRIVILEGED);
    assert.equal(error.data.message, `Client event refused: only privileged members may send client events on ${name}`);
    await settle(server, name, [owner]);
    assert.deepEqual(atOwner.pending(), [], 'nobody received the refused event');
    assert.equal(dee.pusher.connection.state, 'connected', 'the refusal does not close the connection');
  });

  it('counts only a signed boolean true: "privileged": "yes" is not privilege', async () => {
    const name = 'presence-privileged-strict';
    await join(server, name, visitor('eve'));
    const pretender = await join(server, name, { user_id: 'pat', privileged: 'yes' });
    assert.deepEqual(pretender.ids, ['pat']);
    pretender.channel.trigger('client-x', {});
    assert.equal((await pretender.errors.take()).data.data.code, NOT_PRIVILEGED);
  });

  it('keeps privilege per subscription: one user privileged in one tab, not in another', async () => {
    const name = 'presence-privileged-tabs';
    const plain = await join(server, name, { user_id: 'fay' });
    const elevated = await join(server, name, { user_id: 'fay', privileged: true });
    assert.deepEqual(plain.ids, ['fay']);
    assert.deepEqual(elevated.ids, ['fay']);
    await join(server, name, visitor('gus'));
    assert.equal((await elevated.added.take(undefined, 'member_added gus at the privileged tab')).data.id, 'gus');
    await settle(server, name, [plain, elevated]);
    assert.deepEqual(plain.added.pending(), []);
  });

  it('announces members on both workers to every privileged member, and to no one else', async () => {
    const name = 'presence-privileged-spread';
    const owners = await Promise.all([1, 2, 3].map(() => RawClient.connect(server)));
    const visitors = await Promise.all([1, 2, 3, 4, 5, 6].map(() => RawClient.connect(server)));
    for (const [i, o] of owners.entries())
      await o.subscribe(name, { channelData: JSON.stringify({ user_id: `o${i}`, privileged: true }) });
    for (const [i, v] of visitors.entries()) {
      const ok = await v.subscribe(name, { channelData: JSON.stringify({ user_id: `v${i}` }) });
      assert.deepEqual(ok.payload.presence, { ids: [`v${i}`], hash: { [`v${i}`]: null }, count: 1 });
    }
    for (const [i, o] of owners.entries()) {
      const expected = [...owners.keys()].filter((j) => j > i).map((j) => `o${j}`).concat(visitors.map((_, j) => `v${j}`));
      const added = [];
      while (added.length < expected.length) added.push((await o.next('pusher_internal:member_added', name)).payload.user_id);
      assert.deepEqual(added, expected, 'each member announced once, in join order');
    }
    for (const v of visitors) {
      await v.sync();
      assert.deepEqual(v.frames.pending((f) => f.event.startsWith('pusher_internal:member_')), []);
    }
    // Subscribing again is acknowledged with the roster as that subscription sees it.
    const again = await visitors[0].subscribe(name, { channelData: JSON.stringify({ user_id: 'v0' }) });
    assert.deepEqual(again.payload.presence.ids, ['v0']);
    assert.equal((await apiGet(server, `/channels/${name}`, { info: 'user_count' })).user_count, 9);
  });

  it('works by URL resource: /channels/privileged/… is presence-privileged-…', async () => {
    const client = await RawClient.connect(server);
    const address = '/channels/privileged/room/9';
    const channelData = JSON.stringify({ user_id: 'hal' });
    const ok = await client.subscribe(address, { channelData, auth: channelAuth(server.app, client.socketId, address, channelData) });
    assert.deepEqual(ok.payload.presence.ids, ['hal']);
    client.trigger('presence-privileged-room.9', 'client-x', {});
    assert.equal((await client.nextError(NOT_PRIVILEGED)).data.code, NOT_PRIVILEGED);
  });

  it('joins with Laravel Echo: join(\'privileged-room\') is presence-privileged-room', async () => {
    const owner = await echoClient(server, { user: { user_id: 1, user_info: { id: 1, name: 'Olga' }, privileged: true } });
    const ownerRoom = owner.join('privileged-room');
    const ownerHere = inboxOf((cb) => ownerRoom.here(cb));
    const joining = inboxOf((cb) => ownerRoom.joining(cb));
    const leaving = inboxOf((cb) => ownerRoom.leaving(cb));
    assert.deepEqual((await ownerHere.take(undefined, 'the owner\'s here()')).data, [{ id: 1, name: 'Olga' }]);

    const guest = await echoClient(server, { user: { user_id: 2, user_info: { id: 2, name: 'Gia' } } });
    const guestRoom = guest.join('privileged-room');
    const guestHere = inboxOf((cb) => guestRoom.here(cb));
    const guestJoining = inboxOf((cb) => guestRoom.joining(cb));
    const guestErrors = inboxOf((cb) => guest.connector.pusher.connection.bind('error', cb));
    assert.deepEqual((await guestHere.take(undefined, 'the guest\'s here()')).data, [{ id: 2, name: 'Gia' }], 'the guest sees itself only');
    assert.deepEqual((await joining.take(undefined, 'joining() at the owner')).data, { id: 2, name: 'Gia' });

    const whispers = inboxOf((cb) => guestRoom.listenForWhisper('typing', cb));
    ownerRoom.whisper('typing', { who: 'Olga' });
    assert.deepEqual((await whispers.take(undefined, 'the owner\'s whisper')).data, { who: 'Olga' });
    guestRoom.whisper('typing', { who: 'Gia' });
    assert.equal((await guestErrors.take(undefined, 'the guest\'s refused whisper')).data.data.code, NOT_PRIVILEGED);

    guest.disconnect();
    assert.deepEqual((await leaving.take(undefined, 'leaving() at the owner')).data, { id: 2, name: 'Gia' });
    assert.deepEqual(guestJoining.pending(), []);
    await stillServing();
  });
});

// Privilege granted in Ruby: raptor.rb's authorize hook answers allow(privileged: …), which takes
// precedence over the signed channel_data.
const PRIV = { id: 'priv', key: 'priv-key', secret: 'priv-secret-for-tests' };
const policy = configFile('privileged-policy.rb', `
app "priv", key: "priv-key", secret: env("RAPTOR_PRIV_SECRET") do |priv|
  priv.authorize do |subscription|
    next pass unless subscription.presence? && subscription.signed?
    if subscription.channel.start_with?("presence-privileged-demoted")
      allow(privileged: false)
    elsif subscription.user_info.is_a?(Hash) && subscription.user_info["staff"]
      allow(privileged: true)
    else
      pass
    end
  end
end
`);

serverSuite('privileged channels, privilege from raptor.rb', {
  apps: [PRIV], args: ['--config', policy], env: { RAPTOR_PRIV_SECRET: PRIV.secret },
}, (server, { stillServing }) => {
  it('grants privilege with authorize\'s allow(privileged: true)', async () => {
    const name = 'presence-privileged-staffroom';
    await join(server, name, { user_id: 'ivy' });
    const staff = await join(server, name, { user_id: 'sam', user_info: { staff: true } });
    assert.deepEqual(staff.ids, ['ivy', 'sam']);
    const jo = await join(server, name, { user_id: 'jo' });
    assert.deepEqual(jo.ids, ['jo']);
    assert.equal((await staff.added.take(undefined, 'member_added jo')).data.id, 'jo');
    const atJo = inboxOf((cb) => jo.channel.bind('client-hi', cb));
    staff.channel.trigger('client-hi', { from: 'sam' });
    assert.deepEqual((await atJo.take(undefined, 'the staff member\'s client event')).data, { from: 'sam' });
  });

  it('takes authorize\'s privileged: false over a signed "privileged": true', async () => {
    const name = 'presence-privileged-demoted';
    await join(server, name, { user_id: 'kim' });
    const demoted = await join(server, name, { user_id: 'lee', privileged: true });
    assert.deepEqual(demoted.ids, ['lee']);
    demoted.channel.trigger('client-x', {});
    assert.equal((await demoted.errors.take()).data.data.code, NOT_PRIVILEGED);
    await stillServing();
  });
});
