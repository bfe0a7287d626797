// Hooks that misbehave: a runaway loop (in the script, in mruby's library, in a C method), run-time
// eval, an exception, a memory bomb, an answer that means nothing. Each refuses only its own action, is logged with the script's file:line, and the
// other connections of the same worker keep being served.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';
import { POLICY_REFUSED, assertSubscribeRefused } from './lib/refusals.mjs';

const policy = configFile('misbehaving.rb', `hook_time_budget 50
authorize do |subscription|
  case subscription.channel
  when "spin" then loop { }
  when "boom" then raise ArgumentError, "boom on #{subscription.channel}"
  when "bomb" then "x" * 1_000_000_000
  when "garbage" then 42
  when "eval" then Kernel.eval("while true; end")
  when "spin-in-library" then (1..).each(&:itself)
  when "spin-in-c" then ("a" * 4_000_000).index("a" * 2_000_000 + "b")
  else pass
  end
end
`);


// One worker: the bystander shares it with the misbehaving hooks.
serverSuite('misbehaving hooks', { args: ['--config', policy, '--workers', '1'] }, (server, { stillServing }) => {
  const cases = [
    ['spin', 'spins', /misbehaving\.rb:4: stopped after its time budget of 50 ms/],
    ['boom', 'booms', /misbehaving\.rb:5: boom on boom \(ArgumentError\)/],
    ['bomb', 'bombs', /memory cap reached/],
    ['garbage', 'garbages', /misbehaving\.rb:2: authorize hook returned 42 \(Integer\)/],
    // Kernel.eval would compile code outside the time budget's reach: it is gone.
    ['eval', 'calls Kernel.eval', /misbehaving\.rb:8: undefined method 'eval'.*\(NoMethodError\)/],
    // The loop is in mruby's own Ruby library (Range#each, Symbol#to_proc), none of it the script's.
    ['spin-in-library', 'spins inside mruby\'s library', /misbehaving\.rb:9: stopped after its time budget of 50 ms$/m],
    // A quadratic search in C fetches no instruction: stopped from outside, the VM replaced.
    ['spin-in-c', 'spins inside a C method',
      /misbehaving\.rb:10: stopped after its time budget of 50 ms inside a C method; the Ruby VM was replaced/],
  ];
  for (const [channel, what, logged] of cases) {
    it(`refuses the subscription when the hook ${what}, logs where, and keeps serving`, async () => {
      const client = await RawClient.connect(server);
      await assertSubscribeRefused(client, channel, {}, POLICY_REFUSED);
      await server.logged(logged);
      await stillServing();
      await client.subscribe('fine-afterwards'); // the VM still works
    });
  }

  it('keeps the message to the client generic: the error stays in the log', async () => {
    const client = await RawClient.connect(server);
    const { subscriptionError } = await client.subscribeRefused('boom', {}, 4304);
    assert.equal(subscriptionError.data.error, 'Subscription refused: policy error');
  });

  it('serves a bystander between runaway hooks on the same worker', async () => {
    const spinner = await RawClient.connect(server);
    for (let i = 0; i < 5; i++) {
      spinner.send({ event: 'pusher:subscribe', data: { channel: 'spin' } });
      await stillServing();
    }
  });
});
