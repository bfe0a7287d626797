// raptor.rb as the configuration: `raptor check` on the examples and on broken files (exit 2,
// "file:line: message"), a server configured by a file, and flags and RAPTOR_* overriding it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFile } from './lib/config-files.mjs';
import { Raptor, runRaptor, withEtcRaptor } from './lib/raptor.mjs';
import { assertServesOnly } from './lib/refusals.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const example = (name) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const SECRETS = { RAPTOR_TOKEN_SECRET: 't', RAPTOR_CHAT_SECRET: 'c', RAPTOR_GALLERY_SECRET: 'g', RAPTOR_AUCTION_SECRET: 'a', RAPTOR_SHOP_SECRET: 's',
                  RAPTOR_MY_APP_SECRET: 'm', RAPTOR_DASHBOARD_SECRET: 'd' };

describe('raptor check', () => {
  for (const [name, summary] of [
    ['raptor.rb', /2 apps: my-app \(no hooks\); dashboard \(hooks: admit\)/],
    ['token_policy.rb', /1 app: chat \(hooks: admit, authorize\)/],
    ['client_event_filter.rb', /1 app: chat \(hooks: filter_client_events\)/],
    ['gallery.rb', /1 app: gallery \(hooks: channels\)/],
    ['broadcast.rb', /1 app: auction \(hooks: channels\)/],
    ['webhook_shaping.rb', /1 app: shop \(hooks: shape_webhook\)/],
  ]) {
    it(`accepts examples/${name}: exit 0 and a summary`, async () => {
      const { code, stdout } = await runRaptor(['check', example(name)], SECRETS);
      assert.equal(code, 0);
      assert.match(stdout, /: OK: listens on ws:\/\//);
      assert.match(stdout, summary);
    });
  }

  const broken = [
    ['a syntax error', 'listen "0.0.0.0", port: 6001\napp "a", key: "k", secret: "s" do\n', 3, /syntax error/],
    ['an unknown directive', 'listen port: 6001\nlissten "0.0.0.0"\n', 2, /undefined method 'lissten'/],
    ['a port of the wrong type', 'workers 2\nlisten "0.0.0.0", port: "6001"\n', 2, /listen: port must be an Integer from 1 to 65535/],
    ['a boolean that is a string', 'app "a", key: "k", secret: "s",\n  client_events: "yes"\n', 2, /client_events must be true or false/],
    ['an unknown app option', 'app "a", key: "k", secret: "s", clientevents: true\n', 1, /unknown option clientevents/],
    ['a key used twice', 'app "a", key: "k", secret: "s"\napp "b", key: "k", secret: "s"\n', 2, /the key is already used by app a/],
    ['a hook without a block', 'authorize\n', 1, /authorize needs a block/],
    ['a hook defined twice', 'admit { true }\nadmit { false }\n', 2, /admit is already defined/],
    ['an unset secret', 'app "a", key: "k",\n  secret: env("RAPTOR_UNSET_FOR_TEST")\n', 2, /RAPTOR_UNSET_FOR_TEST is not set/],
    ['a variable outside RAPTOR_*', 'x = 1\nenv("HOME")\n', 2, /only RAPTOR_\* variables/],
    ['a file that never finishes', 'listen port: 6001\nloop { }\n', 2, /stopped after its time budget/],
    ['a sandbox escape', 'File.read("/etc/passwd")\n', 1, /uninitialized constant File/],
    ['a webhook to a malformed host name', 'app "a", key: "k", secret: "s" do |a|\n  a.webhook "http://hooks..example.com/x"\nend\n', 2,
      /app a: webhook http:\/\/hooks\.\.example\.com: .*neither an IP address/],
    ['a webhook with an unknown event', 'app "a", key: "k", secret: "s" do |a|\n  a.webhook "http://127.0.0.1/x", events: %i[channel_opened]\nend\n', 2,
      /unknown event type 'channel_opened'/],
    ['a webhook header Raptor sets', 'app "a", key: "k", secret: "s" do |a|\n  a.webhook "http://127.0.0.1/x", headers: { "X-Pusher-Key" => "k" }\nend\n', 2,
      /X-Pusher-Key is set by Raptor/],
    ['a channel rule on a bad pattern', 'channel "galleries.**.comments" do |c|\n  c.roster { true }\nend\n', 3,
      /channel "galleries\.\*\*\.comments": not a channel name nor a wildcard pattern/],
    ['a channel rule that states nothing', 'app "a", key: "k", secret: "s" do |a|\n  a.channel("news.*") { |c| }\nend\n', 2,
      /channel "news\.\*" \(app a\) states no rule/],
    ['a channel permission without a block', 'channel "news.*" do |c|\n  c.subscribe\nend\n', 2, /channel "news\.\*" \(all apps\): subscribe needs a block/],
    ['a channel permission stated twice', 'channel "news.*" do\n  subscribe { true }\n  subscribe { false }\nend\n', 3,
      /subscribe is already defined/],
  ];
  for (const [what, ruby, line, message] of broken) {
    it(`exits 2 with file:line: message for ${what}`, async () => {
      const file = configFile(`broken-${what.replace(/\W+/g, '-')}.rb`, ruby);
      const { code, stdout, stderr } = await runRaptor(['check', file]);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.ok(stderr.startsWith(`${file}:${line}: `), `stderr: ${stderr}`);
      assert.match(stderr, message);
    });
  }

  it('exits 2 for a missing file, and without a file', async () => {
    const missing = await runRaptor(['check', '/nonexistent/raptor.rb']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^\/nonexistent\/raptor\.rb: cannot read: No such file or directory/);
    assert.equal((await runRaptor(['check'])).code, 2);
  });
});

describe('raptor --config', () => {
  const FILED = { id: 'filed', key: 'filed-key', secret: 'filed-secret-for-tests' };
  const file = configFile('serving.rb', `listen "127.0.0.1", port: 1
app "${FILED.id}", key: "${FILED.key}", secret: env("RAPTOR_FILED_SECRET"), client_events: false
`);

  it('serves the file\'s apps, the port flag overriding the file\'s', async () => {
    // 'defaults' passes only --port: everything else comes from the file.
    const server = new Raptor({ apps: [FILED], configVia: 'defaults', args: ['--config', file],
                                env: { RAPTOR_FILED_SECRET: FILED.secret } });
    await server.start();
    try {
      await assertServesOnly(server, FILED, 'no development app when the file has apps');
    } finally {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
    }
  });

  it('reads RAPTOR_CONFIG too, and refuses to start on a broken file with file:line', async () => {
    const broken = configFile('broken-start.rb', 'listen "127.0.0.1",\n  port: 0\n');
    for (const run of [() => runRaptor(['--config', broken]), () => runRaptor([], { RAPTOR_CONFIG: broken })]) {
      const { code, stderr } = await run();
      assert.equal(code, 2);
      assert.ok(stderr.startsWith(`${broken}:2: listen: port must be`), stderr);
    }
  });

  it('sends the webhooks a file declares, validated by the SDK, with headers holding ";"', async () => {
    const receiver = new WebhookReceiver(FILED);
    await receiver.start();
    const hooked = configFile('webhooks.rb', `app "${FILED.id}", key: "${FILED.key}", secret: env("RAPTOR_FILED_SECRET") do |a|
  a.webhook "http://127.0.0.1:${receiver.port}/webhooks", events: %i[channel_occupied], headers: { "X-Cookie" => "a=1; b=2" }
end
`);
    const server = new Raptor({ apps: [FILED], configVia: 'defaults', args: ['--config', hooked],
                                env: { RAPTOR_FILED_SECRET: FILED.secret } });
    await server.start();
    try {
      const client = await RawClient.connect(server, { app: FILED });
      await client.subscribe('filed-news');
      await receiver.take({ name: 'channel_occupied', channel: 'filed-news' });
      assert.ok(receiver.deliveries.every((d) => d.valid), 'every POST passes pusher.webhook().isValid()');
      assert.equal(receiver.deliveries[0].headers['x-cookie'], 'a=1; b=2');
    } finally {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
      await receiver.stop();
    }
  });

  it('reads /etc/raptor/raptor.rb when no --config or RAPTOR_CONFIG is given', async () => {
    // The path is compiled in: raptor runs in a mount namespace where a test directory is
    // /etc/raptor (made here, and removed after, if the machine has none).
    const made = !existsSync('/etc/raptor');
    if (made) mkdirSync('/etc/raptor');
    const etc = path.dirname(configFile('etc/raptor.rb', `app "${FILED.id}", key: "${FILED.key}", secret: env("RAPTOR_FILED_SECRET")\n`));
    const server = new Raptor({ apps: [FILED], configVia: 'defaults', launcher: withEtcRaptor(etc),
                                env: { RAPTOR_FILED_SECRET: FILED.secret } });
    try {
      await server.start();
      await assertServesOnly(server, FILED, 'the file\'s app, not the development one');
    } finally {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
      if (made) rmdirSync('/etc/raptor');
    }
  });

  it('fails when --config names a missing file', async () => {
    const { code, stderr } = await runRaptor(['--config', '/nonexistent/raptor.rb']);
    assert.equal(code, 2);
    assert.match(stderr, /cannot read/);
  });
});
