// A raptor.rb whose only policy is a channel rule still hands that rule the connection's
// handshake (origin, query, headers): the handshake is kept for every hook whose request reads
// it, channel rules included (core/policy_hooks.h). It once was kept only when an admit,
// authorize or filter_client_events hook existed too, and such a rule saw origin "" and
// refused everyone.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';

const APP = { id: 'rooms', key: 'rooms-key', secret: 'rooms-secret-for-tests' };
const SITE = 'https://rooms.example.com';
const config = configFile('rule-only.rb', `
app "rooms", key: "rooms-key", secret: env("RAPTOR_ROOMS_SECRET") do |rooms|
  rooms.channel "room.*" do |room|
    room.subscribe { |s| s.origin == "${SITE}" || deny("from #{s.origin.inspect}") }
  end
end
`);

serverSuite('a channel rule alone sees the handshake', {
  apps: [APP], args: ['--config', config], env: { RAPTOR_ROOMS_SECRET: APP.secret },
}, (server, { stillServing }) => {
  it('subscribe rule: admits the page of the right origin, refuses another, with the origin it saw', async () => {
    const ours = await RawClient.connect(server, { origin: SITE });
    await ours.subscribe('room.1');

    const theirs = await RawClient.connect(server, { origin: 'https://elsewhere.example' });
    const { subscriptionError } = await theirs.subscribeRefused('room.1', {}, 4304);
    assert.equal(subscriptionError.data.status, 403);
    assert.equal(subscriptionError.data.error, 'Subscription refused by policy: from "https://elsewhere.example"');
    await theirs.subscribe('lobby'); // no rule matches it
    await stillServing();
  });
});
