// The shape_webhook hook with pusher-js clients and a real receiver that validates every POST with
// the `pusher` SDK: examples/webhook_shaping.rb drops, renames and enriches events; a hook that
// raises or runs away leaves the event as it was (logged with file:line); a reload brings a new
// hook, a new receiver and a new secret, and the POSTs are signed with it.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pusherClient, subscribed } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { healthDetails } from './lib/http-api.mjs';
import { serverSuite } from './lib/suite.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const SHOP = { id: 'shop', key: 'shop-key', secret: 'shop-secret-for-tests' };
const RENEWED = { ...SHOP, secret: 'shop-secret-renewed-for-tests' };
const example = fileURLToPath(new URL('../../examples/webhook_shaping.rb', import.meta.url));

const receiver = await new WebhookReceiver(SHOP).start();
after(() => receiver.stop());

serverSuite('webhook shaping (examples/webhook_shaping.rb)', {
  apps: [SHOP], configVia: 'defaults', args: ['--config', example],
  env: { RAPTOR_SHOP_SECRET: SHOP.secret, RAPTOR_SHOP_WEBHOOK: receiver.url },
}, (server, { stillServing }) => {
  it('drops internal channels and typing, renames client events, names members; all signed', async () => {
    const ada = await pusherClient(server, { user: { user_id: '1' } });
    await subscribed(ada, 'private-internal-audit');
    const [orders] = await subscribed(ada, 'private-orders');
    // Events are shaped and sent in order: once this one is here, the internal one would be too.
    assert.deepEqual(await receiver.take({ name: 'channel_occupied', channel: 'private-orders' }),
                     { name: 'channel_occupied', channel: 'private-orders' });
    assert.deepEqual(receiver.history('private-internal-audit'), []);

    await subscribed(ada, 'presence-staff');
    const member = await receiver.take({ name: 'member_added', channel: 'presence-staff', user_id: '1' });
    assert.equal(member.user_name, 'Ada Lovelace');
    const guest = await pusherClient(server, { user: { user_id: '99' } });
    await subscribed(guest, 'presence-staff');
    assert.equal((await receiver.take({ name: 'member_added', user_id: '99' })).user_name, 'guest');

    orders.trigger('client-typing', { on: true });
    orders.trigger('client-order-placed', { id: 7 });
    const placed = await receiver.take({ name: 'client_event', channel: 'private-orders' });
    assert.equal(placed.event, 'order-placed');
    assert.deepEqual(JSON.parse(placed.data), { id: 7 });
    assert.ok(!receiver.accepted.some((e) => e.event === 'client-typing' || e.event === 'typing'));

    assert.deepEqual(receiver.invalid(), [], 'every POST passes pusher.webhook().isValid()');
    const { webhooks } = await healthDetails(server);
    assert.ok(webhooks.filtered >= 2, `filtered ${webhooks.filtered}`);
    await stillServing();
  });
});

const faulty = await new WebhookReceiver(SHOP).start();
const renewed = await new WebhookReceiver(RENEWED).start();
after(() => Promise.all([faulty.stop(), renewed.stop()]));
const faultyHook = configFile('shape.rb', `hook_time_budget 50
app "shop", key: "shop-key", secret: env("RAPTOR_SHOP_SECRET") do |app|
  app.webhook "${faulty.url}", events: %i[channel_occupied]
  app.shape_webhook do |event|
    raise "no directory for #{event.channel}" if event.channel.start_with?("boom-")
    loop { } if event.channel.start_with?("spin-")
    event["shaped"] = true
    event
  end
end
`);

serverSuite('webhook shaping: a hook that fails, and a reload', {
  apps: [SHOP, RENEWED], configVia: 'defaults', args: ['--config', faultyHook, '--workers', '2'],
  env: { RAPTOR_SHOP_SECRET: SHOP.secret },
}, (server, { stillServing }) => {
  it('sends the event unchanged when the hook raises or runs out of time, and logs where', async () => {
    const client = await RawClient.connect(server);
    for (const channel of ['boom-1', 'spin-1', 'fine-1']) await client.subscribe(channel);
    assert.deepEqual(await faulty.take({ channel: 'boom-1' }), { name: 'channel_occupied', channel: 'boom-1' });
    assert.deepEqual(await faulty.take({ channel: 'spin-1' }), { name: 'channel_occupied', channel: 'spin-1' });
    assert.deepEqual(await faulty.take({ channel: 'fine-1' }), { name: 'channel_occupied', channel: 'fine-1', shaped: true });
    await server.logged(/shape_webhook hook of app shop, channel_occupied on boom-1 failed, the event is sent unchanged: .*shape\.rb:5: no directory for boom-1 \(RuntimeError\)/);
    await server.logged(/channel_occupied on spin-1 failed, the event is sent unchanged: .*shape\.rb:6: stopped after its time budget of 50 ms/);
    assert.deepEqual(faulty.invalid(), []);
    await stillServing();
  });

  it('after a reload: the new hook, the new receiver, signed with the new secret', async () => {
    configFile('shape.rb', `app "shop", key: "shop-key", secret: "${RENEWED.secret}" do |app|
  app.webhook "${renewed.url}", events: %i[channel_occupied]
  app.shape_webhook { |event| event.merge!("reloaded" => true) }
end
`);
    assert.match(await server.reload(), /reload: done .*changed shop \(secret, webhooks\)/);
    const client = await RawClient.connect(server, { app: RENEWED });
    await client.subscribe('after-reload');
    assert.deepEqual(await renewed.take({ channel: 'after-reload' }),
                     { name: 'channel_occupied', channel: 'after-reload', reloaded: true });
    assert.deepEqual(renewed.invalid(), [], 'validated with the new secret');
    assert.equal(faulty.history('after-reload').length, 0, 'the removed receiver gets nothing more');
  });
});
