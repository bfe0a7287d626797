// Channel rules in raptor.rb (`channel "pattern" do … end`) with real pusher-js clients: who may
// subscribe, who sees a presence roster, who may send client events; exact names, `*` and `**`
// patterns; an app's rules before the top-level ones, the first answer that is not `pass`
// deciding; rules narrowing what authorize allowed; a broken rule refusing, logged.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { inboxOf, presenceMember as member, pusherClient, serverSdk, subscribed, withUrlParams } from './lib/clients.mjs';
import { serverSuite } from './lib/suite.mjs';
import { waitFor } from './lib/wait.mjs';

const PERM = { id: 'perm', key: 'perm-key', secret: 'perm-secret-for-tests' };
const config = configFile('channel-rules.rb', `
app "perm", key: "perm-key", secret: env("RAPTOR_PERM_SECRET"), client_events: true do |perm|
  perm.authorize do |subscription|
    subscription.channel.start_with?("private-open-") ? allow : pass
  end

  perm.channel "news.*" do |news|
    news.subscribe { |s| s.params["plan"] == "pro" || deny("news is for pro subscribers") }
  end

  perm.channel "private-open-staff" do |staff|
    staff.subscribe { |_s| deny("staff only") }
  end

  perm.channel "presence-room.**" do
    roster { |member| member.user_info.is_a?(Hash) && member.user_info["host"] == true }
  end

  perm.channel "private-chat.*" do |chat|
    chat.client_events { |event| event.event == "client-typing" || pass }
  end
end

channel "private-chat.**" do |chat|
  chat.client_events { |_event| deny("only typing notices") }
end

channel "private-broken.*" do |broken|
  broken.subscribe { |_s| raise "boom" }
end
`);

function refusal(pusher, name) {
  const channel = pusher.subscribe(name);
  return inboxOf((cb) => channel.bind('pusher:subscription_error', cb)).take(undefined, `${name} refused`);
}

serverSuite('channel rules', {
  apps: [PERM], args: ['--config', config], env: { RAPTOR_PERM_SECRET: PERM.secret },
}, (server, { stillServing }) => {
  it('subscribe: refuses a public channel the rule denies (403), admits what it allows', async () => {
    const free = await pusherClient(server);
    const { data } = await refusal(free, 'news.uk');
    assert.equal(data.status, 403);
    assert.equal(data.error, 'Subscription refused by policy: news is for pro subscribers');
    await subscribed(free, 'news'); // not matched by news.*
    await subscribed(free, 'sports.uk');

    const pro = await withUrlParams({ plan: 'pro' }, () => pusherClient(server));
    const [news] = await subscribed(pro, 'news.uk');
    const headlines = inboxOf((cb) => news.bind('headline', cb));
    await serverSdk(server).trigger('news.uk', 'headline', { text: 'hi' });
    assert.deepEqual((await headlines.take()).data, { text: 'hi' });
  });

  it('subscribe: narrows what authorize allowed, by exact channel name', async () => {
    const pusher = await pusherClient(server);
    await subscribed(pusher, 'private-open-lobby');
    const { data } = await refusal(pusher, 'private-open-staff');
    assert.equal(data.status, 403);
    assert.equal(data.error, 'Subscription refused by policy: staff only');
  });

  it('roster: on a plain presence channel (matched by **), only hosts see the others', async () => {
    const name = 'presence-room.a.b';
    const guest = await member(server, name, { user_id: 'guest', user_info: {} });
    const host = await member(server, name, { user_id: 'host', user_info: { host: true } });
    assert.deepEqual(host.ids, ['guest', 'host']);
    assert.deepEqual(guest.ids, ['guest']);
    await member(server, name, { user_id: 'late', user_info: {} });
    assert.equal((await host.added.take(undefined, 'the host hears the late guest')).data.id, 'late');
    guest.channel.trigger('client-hello', {});
    assert.equal((await guest.errors.take(undefined, 'the guest\'s refused client event')).data.data.code, 4310);
    assert.deepEqual(guest.added.pending(), []);
  });

  it('client_events: the app\'s rule first, then the top-level one; the first answer that is not pass decides', async () => {
    const alice = await pusherClient(server);
    const bob = await pusherClient(server);
    const errors = inboxOf((cb) => alice.connection.bind('error', cb));
    const [fromAlice] = await subscribed(alice, 'private-chat.1');
    const [atBob] = await subscribed(bob, 'private-chat.1');
    const received = inboxOf((cb) => atBob.bind_global((event, data) => event.startsWith('client-') && cb({ event, data })));
    fromAlice.trigger('client-message', { text: 'hi' });
    const { data: error } = await errors.take(undefined, 'the refusal of client-message');
    assert.equal(error.data.code, 4306);
    assert.equal(error.data.message, 'Client event refused by policy: only typing notices');
    fromAlice.trigger('client-typing', { on: true });
    assert.deepEqual((await received.take(undefined, 'the typing notice')).data, { event: 'client-typing', data: { on: true } });
    assert.deepEqual(received.pending(), [], 'the refused message was not delivered');
  });

  it('refuses when a rule raises, logs its file:line, and keeps serving', async () => {
    const pusher = await pusherClient(server);
    const { data } = await refusal(pusher, 'private-broken.1');
    assert.equal(data.status, 403);
    assert.equal(data.error, 'Subscription refused: policy error');
    await waitFor(() => /subscribe rule of app perm, channel private-broken\.1 refused: .*channel-rules\.rb:\d+: boom/.test(server.stderr),
      'the failed rule in the log');
    await stillServing();
  });
});
