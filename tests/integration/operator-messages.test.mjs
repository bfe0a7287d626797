// What an operator reads (issue 16): refused WebSocket connections in the log with their reason,
// rate-limited; --log-level / log_level; start-up failures as one line before the banner; flag
// errors naming the expected form; "did you mean" for a mistyped directive; one file:line per
// hook error.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { Raptor, runRaptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const APP = { id: 'ops', key: 'ops-key', secret: 'ops-secret-5c1e' };
const policy = (extra = '') => configFile(`ops${extra ? '-quiet' : ''}.rb`, `${extra}
app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}" do |ops|
  ops.admit do |connection|
    raise "broken admit for #{connection.params["who"]}" if connection.params["who"] == "crash"
    connection.params["who"] != "mallory" || deny("mallory is banned")
  end
  ops.authorize do |subscription|
    next 42 if subscription.channel == "garbage"
    subscription.channel == "float-id" ? allow(user_id: 3.5) : pass
  end
end
`);
const refusedWith = (code) => new RegExp(`info websocket 127\.0\.0\.1 refused with ${code}: `);
const unknownApp = (server, n = 0) => RawClient.open(server, `/app/no-such-key-${n}${PUSHER_QUERY}`);

serverSuite('refused WebSocket connections', {
  apps: [APP], configVia: 'defaults', args: ['--config', policy(), '--workers', '1'], bystander: { app: APP },
}, (server) => {
  it('logs an unknown app key (4001) with the reason, not the key', async () => {
    const client = await unknownApp(server);
    assert.equal((await client.closed).code, 4001);
    await server.logged(/websocket 127\.0\.0\.1 refused with 4001: Application does not exist\n/);
    assert.ok(!server.stderr.includes('no-such-key'), 'the key tried is not logged');
  });

  it('logs an admit hook\'s deny (4009) with its reason', async () => {
    const client = await RawClient.open(server, `/app/${APP.key}${PUSHER_QUERY}&who=mallory`, { app: APP });
    assert.equal((await client.closed).code, 4009);
    await server.logged(/websocket 127\.0\.0\.1 refused with 4009: Connection refused by policy: mallory is banned\n/);
  });

  it('logs a bad path and a missing protocol version', async () => {
    for (const path of ['/nowhere', `/app/${APP.key}`]) (await RawClient.open(server, path, { app: APP })).close();
    await server.logged(/websocket 127\.0\.0\.1 refused with 4\d\d\d: Path not found\n/);
    await server.logged(/websocket 127\.0\.0\.1 refused with 4\d\d\d: No protocol version supplied\n/);
  });

  it('gives a hook error exactly one file:line, the hook\'s', async () => {
    const crash = await RawClient.open(server, `/app/${APP.key}${PUSHER_QUERY}&who=crash`, { app: APP });
    assert.equal((await crash.closed).code, 4009);
    const client = await RawClient.connect(server, { app: APP });
    client.sendSubscribe('garbage');
    client.sendSubscribe('float-id');
    for (const [pattern, line] of [[/broken admit for crash/, 4], [/authorize hook returned 42/, 7],
      [/authorize hook: user_id must be a String or Integer, not Float/, 7]]) {
      const logged = await waitForLine(server, pattern);
      assert.deepEqual(logged.match(/ops\.rb:\d+: /g), [`ops.rb:${line}: `], logged);
    }
  });

  it('logs at most 10 refusals a second per worker, then how many it left out', async () => {
    const before = server.stderr.match(refusedWith(4001))?.length ?? 0;
    const n = 40;
    await Promise.all(Array.from({ length: n }, async (_, i) => (await unknownApp(server, i)).closed));
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the next second
    await (await unknownApp(server, 'last')).closed;
    await server.logged(/websocket: \d+ more refused or dropped connections were not logged \(over 10 a second\)/);
    await waitForCount(server, refusedWith(4001), (count, heldBack) => count - before + heldBack === n + 1);
    const logged = server.stderr.match(new RegExp(refusedWith(4001), 'g')).length - before;
    assert.ok(logged < n, `${logged} of ${n + 1} logged`);
  });
});

// The whole line of stderr that matches `pattern`, once it is there.
async function waitForLine(server, pattern) {
  await server.logged(pattern);
  return server.stderr.split('\n').find((l) => pattern.test(l));
}

// Waits until the lines matching `pattern` and the counts of held-back lines satisfy `done`.
async function waitForCount(server, pattern, done) {
  const counts = () => {
    const count = server.stderr.match(new RegExp(pattern, 'g'))?.length ?? 0;
    const heldBack = [...server.stderr.matchAll(/websocket: (\d+) more refused or dropped connections were not logged/g)]
      .reduce((sum, m) => sum + Number(m[1]), 0);
    return [count, heldBack];
  };
  await server.logged({ test: () => done(...counts()) }, 'every refusal logged or counted');
}

describe('log levels', () => {
  for (const [how, args, env] of [
    ['log_level :warn in raptor.rb', ['--config', policy('log_level :warn\n')], {}],
    ['--log-level warn', ['--config', policy(), '--log-level', 'warn'], {}],
    ['RAPTOR_LOG_LEVEL=error', ['--config', policy()], { RAPTOR_LOG_LEVEL: 'error' }],
  ]) {
    it(`${how}: info lines (refusals, "listening on") are left out, warnings are not`, async () => {
      const server = new Raptor({ apps: [APP], configVia: 'defaults', args: [...args, '--workers', '1'], env });
      await server.start();
      try {
        assert.equal((await (await unknownApp(server)).closed).code, 4001);
        const crash = await RawClient.open(server, `/app/${APP.key}${PUSHER_QUERY}&who=crash`, { app: APP });
        assert.equal((await crash.closed).code, 4009);
        if (env.RAPTOR_LOG_LEVEL !== 'error') await server.logged(/warn policy: admit hook .*broken admit for crash/);
        await server.stop();
        assert.doesNotMatch(server.stderr, / info /);
        assert.doesNotMatch(server.stderr, /websocket refused|listening on/);
      } finally {
        await server.stop().catch(() => {});
      }
    });
  }

  it('refuses an unknown level, naming the expected ones', async () => {
    const { code, stderr } = await runRaptor(['--log-level', 'verbose']);
    assert.equal(code, 2);
    assert.match(stderr, /invalid value 'verbose' for --log-level: expected error, warn, info or debug/);
    const file = configFile('bad-level.rb', 'log_level :loud\n');
    assert.match((await runRaptor(['check', file])).stderr, /bad-level\.rb:1: log_level must be :error, :warn, :info or :debug/);
  });
});

describe('start-up failures', () => {
  it('a port in use: one line, before any banner or credentials', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const { code, stdout, stderr } = await runRaptor(['--port', String(taken.address().port)]);
      assert.equal(code, 1);
      assert.equal(stdout, '', 'no banner');
      assert.match(stderr, /^raptor: cannot listen on 127\.0\.0\.1:\d+: Address already in use\n$/);
    } finally {
      taken.close();
    }
  });

  for (const [args, expected] of [
    [['--app', 'foo'], /^raptor: invalid value \(not shown\) for --app: expected ID:KEY:SECRET, three non-empty parts separated by ':'/],
    [['--port', '0'], /^raptor: invalid value '0' for --port: expected a whole number from 1 to 65535/],
    [['--workers', 'many'], /^raptor: invalid value 'many' for --workers: expected a whole number from 1 to 64/],
    [['--event-loop', 'kqueue'], /^raptor: invalid value 'kqueue' for --event-loop: expected epoll or poll/],
    [['--port'], /^raptor: --port needs a value/],
  ]) {
    it(`${args.join(' ')}: one line naming the expected form`, async () => {
      const { code, stdout, stderr } = await runRaptor(args);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, expected);
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    });
  }
});

describe('a mistyped directive', () => {
  for (const [what, ruby, line, suggestion] of [
    ['at the top level', 'listen port: 6001\nlissten "0.0.0.0"\n', 2, /undefined method 'lissten'.*; did you mean listen\?$/],
    ['two letters swapped', 'wrokers 2\n', 1, /did you mean workers\?$/],
    ['in an app block', 'app "a", key: "k", secret: "s" do |a|\n  a.webhok "http://127.0.0.1/x"\nend\n', 2, /did you mean webhook\?$/],
    ['in a channel block', 'channel "news.*" do |c|\n  c.subscirbe { true }\nend\n', 2, /did you mean subscribe\?$/],
  ]) {
    it(`${what}: file:line and "did you mean"`, async () => {
      const file = configFile(`typo-${what.replace(/\W+/g, '-')}.rb`, ruby);
      const { code, stderr } = await runRaptor(['check', file]);
      assert.equal(code, 2);
      assert.ok(stderr.startsWith(`${file}:${line}: `), stderr);
      assert.match(stderr.trimEnd(), suggestion);
    });
  }

  it('no suggestion when nothing is close', async () => {
    const { stderr } = await runRaptor(['check', configFile('typo-far.rb', 'frobnicate 3\n')]);
    assert.match(stderr, /undefined method 'frobnicate'/);
    assert.doesNotMatch(stderr, /did you mean/);
  });
});
