// The Ruby sandbox attacked on purpose (issue 20): hooks that try to reach what mrblib/sandbox.rb
// removes (ObjectSpace, files, processes, exit, code compiled at run time) by the side doors a
// Ruby programmer knows (send, instance_eval, const_get, method_missing, instance_method), and
// hooks that try to exhaust the worker (huge allocations, string bombs, deep recursion and
// nesting, a regexp that backtracks, loops in every hook at once). Each is stopped with the error
// docs/configuration.md#what-scripts-can-use promises, logged with the file's line, the client
// gets the generic refusal, and the node serves on: the bystander and a new client that connects
// and subscribes. policy-safety.test.mjs has the first runaway, eval and memory cases; these go
// beyond them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { serverSuite } from './lib/suite.mjs';
import { RawClient } from './lib/ws-client.mjs';
import { POLICY_REFUSED, assertClosedWith, assertSubscribeRefused } from './lib/refusals.mjs';

// Where an escape would leave its mark.
const escaped = path.join(tmpdir(), `raptor-escaped-${process.pid}`);

// The memory cap's and the stack's errors come without a file:line (mruby's pre-allocated errors
// are not unpacked: src/script/vm.cpp); the others name the hook's line.
const MEMORY_CAP = /memory cap reached \(NoMemoryError\)$/;
// Which comes first depends on how fast the machine copies memory.
const MEMORY_CAP_OR_BUDGET = /memory cap reached \(NoMemoryError\)$|sandbox-attacks\.rb:\d+: stopped after its time budget of 50 ms$/;
const AT_LINE = String.raw`sandbox-attacks\.rb:\d+: `;
const undefinedMethod = (name) => new RegExp(`${AT_LINE}undefined method '${name}' \\(NoMethodError\\)$`);
const uninitialized = (name) => new RegExp(`${AT_LINE}uninitialized constant ${name} \\(NameError\\)$`);

// [channel, the hook's Ruby for it, the refusal's log line]
const attacks = [
  // What the sandbox removes, reached for through the side doors.
  ['objectspace', 'ObjectSpace.each_object(Class).to_a', uninitialized('ObjectSpace')],
  ['const-get-file', 'Object.const_get(:File).read("/etc/passwd")', uninitialized('File')],
  ['stdout', `STDOUT.write("escaped")`, uninitialized('STDOUT')],
  ['process', 'Process.kill(9, Process.pid)', uninitialized('Process')],
  ['send-system', `Kernel.__send__(:system, "touch ${escaped}")`, undefinedMethod('system')],
  ['instance-method-open', `Kernel.instance_method(:open).bind(self).call("${escaped}", "w")`, /sandbox-attacks\.rb:\d+: undefined method 'open' for class 'Kernel' \(NameError\)$/],
  ['method-missing', `Sneaky.new.system("touch ${escaped}")`, /sandbox-attacks\.rb:7: undefined method 'system' for class 'Kernel' \(NameError\)/],
  ['string-instance-eval', `subscription.instance_eval("system('touch ${escaped}')")`,
    /instance_eval with a string is not available in raptor scripts \(NotImplementedError\)/],
  ['string-class-eval', `Object.class_eval("def x; end")`,
    /module_eval with a string is not available in raptor scripts \(NotImplementedError\)/],
  ['backtick', `\`touch ${escaped}\``, undefinedMethod('`')],
  ['require', 'require "socket"', undefinedMethod('require')],
  ['exit', 'exit(1)', undefinedMethod('exit')],
  ['exit-bang', 'Kernel.exit!(1)', undefinedMethod('exit!')],
  ['abort', 'abort("bye")', undefinedMethod('abort')],
  ['system-exit', 'raise SystemExit', uninitialized('SystemExit')],
  // Exhausting the worker: memory, the C stack, the CPU.
  ['huge-array', 'Array.new(10**9, 0)', MEMORY_CAP],
  ['string-doubling', 's = "x"; 40.times { s += s }; s', MEMORY_CAP_OR_BUDGET],
  ['format-width', 'format("%2000000000d", 1)', MEMORY_CAP],
  ['hash-growth', 'h = {}; i = 0; loop { h[i] = "x" * 100; i += 1 }', MEMORY_CAP_OR_BUDGET],
  ['deep-recursion', 'Dive.call(0)', /refused: stack level too deep \(SystemStackError\)$/],
  // inspect recurses in C: mruby counts those calls too.
  // Building 100,000 levels takes most of the 50 ms budget on a slow (sanitized) build: whichever
  // guard comes first stops it.
  ['deep-nesting', 'a = []; 100_000.times { a = [a] }; a.inspect',
    // Under a loaded sanitizer build the budget can end it first, possibly deep in a frame with
    // no Ruby line to name (then without "file:line: ").
    /refused: (stack level too deep \(SystemStackError\)|(.*: )?stopped after its time budget of 50 ms)$/],
  ['json-nesting', 'JSON.parse("[" * 100_000)', /\(JSON::ParserError\)/],
  ['json-cycle', 'a = []; a << a; JSON.generate(a)', /nested more than 64 levels deep/],
  // mruby 3.1 as Debian builds it has no Regexp: a backtracking pattern cannot even be made.
  ['regexp-backtracking', '("a" * 40 + "!") =~ /(a+)+$/', uninitialized('Regexp')],
];

const attackFile = configFile('sandbox-attacks.rb', `hook_time_budget 50
script_memory_limit 32

# method_missing forwarding to Kernel's own methods, whatever the sandbox left of them.
class Sneaky
  def method_missing(name, *args)
    Kernel.instance_method(name).bind(self).call(*args)
  end
end
Dive = ->(n) { Dive.call(n + 1) }

authorize do |subscription|
  case subscription.channel
  when "unused" then pass
${attacks.map(([channel, ruby]) => `  when "${channel}" then ${ruby}`).join('\n')}
  else pass
  end
end
`);

// One worker: every attack runs on the worker that serves the bystander.
serverSuite('the Ruby sandbox under attack', { args: ['--config', attackFile, '--workers', '1'] }, (server, { stillServing }) => {
  for (const [channel, , logged] of attacks) {
    it(`stops a hook's ${channel} attack with the promised error and keeps serving`, async () => {
      const attacker = await RawClient.connect(server);
      await assertSubscribeRefused(attacker, channel, {}, POLICY_REFUSED);
      const where = new RegExp(`channel ${channel} refused: `);
      await server.logged(where);
      assert.match(server.stderr.split('\n').find((l) => where.test(l)), logged);
      await stillServing();
      const newcomer = await RawClient.connect(server);
      await newcomer.subscribe('after-' + channel);
      await attacker.subscribe('attacker-still-served'); // the VM still works for the attacker too
    });
  }

  it('left no mark of an escape on the file system', () => {
    assert.equal(existsSync(escaped), false, `${escaped} was created by a hook`);
  });
});

// Every hook of one worker spinning at once, call after call: each call ends at its budget, the
// client gets the generic refusal each hook promises, and the worker serves between them.
const spinning = configFile('spinning-hooks.rb', `hook_time_budget 50
admit { |connection| connection.params["spin"] ? loop {} : pass }
authorize { |subscription| subscription.channel.start_with?("spin") ? loop {} : pass }
filter_client_events { |event| event.event == "client-spin" ? loop {} : pass }
`);

serverSuite('loops in every hook at once', { args: ['--config', spinning, '--workers', '1'] }, (server, { stillServing }) => {
  it('stops each call at its budget and serves the others between them', async () => {
    const spinner = await RawClient.connect(server);
    await spinner.subscribe('private-room');
    for (let round = 0; round < 3; round++) {
      const refused = await RawClient.open(server, `/app/${server.app.key}?protocol=7&spin=1`);
      await assertClosedWith(refused, 4009);
      await assertSubscribeRefused(spinner, `spin-${round}`, {}, POLICY_REFUSED);
      spinner.trigger('private-room', 'client-spin', { round });
      const error = await spinner.next((f) => f.event === 'pusher:error' && /policy error/.test(f.data?.message ?? ''));
      assert.match(error.data.message, /Client event refused: policy error/);
      await stillServing();
    }
    for (const [hook, line] of [['admit', 2], ['authorize', 3], ['filter_client_events', 4]]) {
      assert.match(server.stderr, new RegExp(`spinning-hooks\\.rb:${line}: stopped after its time budget of 50 ms`), `${hook} stopped`);
    }
    const newcomer = await RawClient.connect(server);
    await newcomer.subscribe('private-afterwards');
  });
});
