// The client commands against a real server: raptor publish / channels / users / stats / health sign
// their requests with the configured app's secret, print the answer for people or, with --json,
// for scripts, and exit 0 done, 1 failed (the server's error on stderr), 2 usage; raptor keygen's
// credentials are ones the server accepts; raptor version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from './lib/certificates.mjs';
import { inboxOf, presenceMember, pusherClient, subscribed } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { Raptor, freePort, runRaptor } from './lib/raptor.mjs';
import { serverSuite } from './lib/suite.mjs';

const APP = { id: 'cli-app', key: 'cli-key', secret: 'cli-secret' };
const OTHER = { id: 'other-app', key: 'other-key', secret: 'other-secret' };

// The credentials and address as an operator's environment gives them.
const envFor = (server, app = APP) => ({ RAPTOR_URL: server.url(''), RAPTOR_APP_ID: app.id, RAPTOR_APP_KEY: app.key, RAPTOR_APP_SECRET: app.secret });

// A command that must exit `code` with nothing on the other stream (within `ms`, else the
// suite's default limit).
async function run(args, env, code = 0, ms = undefined) {
  const out = await runRaptor(args, env, ms);
  assert.equal(out.code, code, `raptor ${args.join(' ')}: exit ${out.code}, stderr: ${out.stderr}`);
  if (code === 0) assert.equal(out.stderr, '');
  else assert.equal(out.stdout, '');
  return out;
}

serverSuite('raptor publish, channels, users, stats, health', { apps: [APP, OTHER] }, (server) => {
  it('publish: a subscriber gets the event, its DATA as given (JSON reaches pusher-js parsed)', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'news');
    const events = inboxOf((cb) => channel.bind('update', cb));
    const { stdout } = await run(['publish', 'news', 'update', '{"headline":"hi"}'], envFor(server));
    assert.equal(stdout, '');
    assert.deepEqual((await events.take()).data, { headline: 'hi' });
    await run(['publish', 'news', 'update', 'plain text', '--json'], envFor(server));
    assert.equal((await events.take()).data, 'plain text');
  });

  it('publish: a channel given by its URL resource, and DATA starting with -- after --', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'news.uk');
    const events = inboxOf((cb) => channel.bind('e', cb));
    await run(['publish', '/channels/public/news/uk', 'e', '--', '--dashes'], envFor(server));
    assert.equal((await events.take()).data, '--dashes');
  });

  it('publish: --json prints the server\'s answer as it came', async () => {
    const { stdout } = await run(['publish', 'news', 'e', 'x', '--json'], envFor(server));
    assert.deepEqual(JSON.parse(stdout), {});
  });

  it('channels: occupied channels one a line, --prefix filters, --json is the API\'s answer', async () => {
    const pusher = await pusherClient(server);
    await subscribed(pusher, 'alpha');
    await subscribed(pusher, 'beta');
    // bystander: the suite's own client (lib/suite.mjs)
    assert.deepEqual((await run(['channels'], envFor(server))).stdout.split('\n'), ['alpha', 'beta', 'bystander', '']);
    assert.equal((await run(['channels', '--prefix', 'al'], envFor(server))).stdout, 'alpha\n');
    const json = JSON.parse((await run(['channels', '--prefix=be', '--json'], envFor(server))).stdout);
    assert.deepEqual(json, { channels: { beta: {} } });
  });

  it('users: the ids in a presence channel, by name or URL resource, and --json', async () => {
    await presenceMember(server, 'presence-room', { user_id: 'alice' });
    await presenceMember(server, 'presence-room', { user_id: 'bob' });
    assert.equal((await run(['users', 'presence-room'], envFor(server))).stdout, 'alice\nbob\n');
    assert.equal((await run(['users', '/channels/presence/room'], envFor(server))).stdout, 'alice\nbob\n');
    const json = JSON.parse((await run(['users', 'presence-room', '--json'], envFor(server))).stdout);
    assert.deepEqual(json, { users: [{ id: 'alice' }, { id: 'bob' }] });
  });

  it('stats: the app\'s figures and busiest channels, --top, --channel by name or URL resource, --json', async () => {
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'stats-demo');
    const events = inboxOf((cb) => channel.bind('tick', cb));
    for (const n of [1, 2, 3]) await run(['publish', 'stats-demo', 'tick', String(n)], envFor(server));
    for (const n of [1, 2, 3]) assert.equal((await events.take()).data, n);

    const { stdout } = await run(['stats', '--top', '100'], envFor(server));
    assert.match(stdout, new RegExp(`^app: ${APP.id}\\nconnections: \\d+ \\(at most \\d+\\)\\nmessages: \\d+ in all, `));
    assert.match(stdout, /\nbusiest channels \(messages in the last hour, in the last minute\):\n(  .*\n)*  stats-demo: 3, 3\n/);
    const json = JSON.parse((await run(['stats', '--json'], envFor(server))).stdout);
    assert.equal(json.app, APP.id);
    assert.ok(json.connections.current >= 1, JSON.stringify(json));

    const lines = 'channel: stats-demo\noccupied: yes\nsubscriptions: 1\nmessages: 3 in all, 3 in the last minute, 3 in the last hour\n';
    assert.equal((await run(['stats', '--channel', 'stats-demo'], envFor(server))).stdout, lines);
    assert.equal((await run(['stats', '--channel=/channels/public/stats-demo'], envFor(server))).stdout, lines);
    assert.equal((await run(['stats', '--channel', 'never-used'], envFor(server))).stdout,
      'channel: never-used\noccupied: no\nsubscriptions: 0\nmessages: not tracked (none published lately)\n');
    // The server checks --top: its 400 and message, exit 1.
    const { stderr } = await run(['stats', '--top', '0'], envFor(server), 1);
    assert.match(stderr, /^raptor stats: http:\/\/127\.0\.0\.1:\d+ answered 400: \{"error":"top must be a whole number from 1 to 100"\}\n$/);
  });

  it('health: the signed /health, as lines and as JSON', async () => {
    assert.equal((await run(['health'], envFor(server))).stdout, 'status: ok\n');
    assert.deepEqual(JSON.parse((await run(['health', '--json'], envFor(server))).stdout), { status: 'ok' });
  });

  it('--app-id picks a configured app, --app signs as the one it names', async () => {
    const file = configFile('cli-apps.rb', `listen "127.0.0.1", port: ${server.port}
app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}"
app "${OTHER.id}", key: "${OTHER.key}", secret: "${OTHER.secret}"
`);
    const pusher = await pusherClient(server, { app: OTHER });
    const [channel] = await subscribed(pusher, 'other-news');
    const events = inboxOf((cb) => channel.bind('e', cb));
    await run(['publish', 'other-news', 'e', 'by id', '--config', file, '--app-id', OTHER.id], {});
    assert.equal((await events.take()).data, 'by id');
    await run(['publish', 'other-news', 'e', 'by spec', '--url', server.url(''), '--app', `${OTHER.id}:${OTHER.key}:${OTHER.secret}`], {});
    assert.equal((await events.take()).data, 'by spec');
    // The file's first app, at the file's address.
    assert.equal((await run(['channels', '--config', file], {})).stdout, 'bystander\n');
  });

  it('docs/cli.md\'s examples run as shown', async () => {
    const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const block = doc.split('## Examples')[1].split('```sh\n')[1].split('```')[0];
    const commands = block.split('\n').filter((line) => line.startsWith('raptor '));
    assert.ok(commands.length >= 6, block);
    const pusher = await pusherClient(server);
    const [channel] = await subscribed(pusher, 'news');
    const events = inboxOf((cb) => channel.bind('update', cb));
    for (const line of commands) {
      // Shell words: 'quoted' or bare.
      const words = line.match(/'[^']*'|\S+/g).map((w) => w.replace(/^'(.*)'$/, '$1'));
      await run(words.slice(1), envFor(server));
    }
    assert.deepEqual((await events.take()).data, { headline: 'Raptor 0.1 is out' });
  });

  it('a wrong secret exits 1 with the server\'s 401 answer on stderr', async () => {
    const { stderr } = await run(['publish', 'news', 'e', 'x'], envFor(server, { ...APP, secret: 'wrong' }), 1);
    assert.match(stderr, /^raptor publish: http:\/\/127\.0\.0\.1:\d+ answered 401: \{"error":"Invalid signature/);
    assert.doesNotMatch(stderr, /wrong/, 'the secret is not shown');
    const json = await run(['stats', '--json'], envFor(server, { ...APP, key: 'unknown' }), 1);
    assert.match(json.stderr, /answered 401: \{"error":"Unknown auth_key"\}/);
  });

  it('a server error exits 1 with its message: an invalid channel name', async () => {
    const { stderr } = await run(['publish', 'bad channel!', 'e', 'x'], envFor(server), 1);
    assert.match(stderr, /answered 400: \{"error":/);
  });

  it('usage errors exit 2 with a message and the usage on stderr', async () => {
    for (const args of [['publish', 'news', 'e'], ['users'], ['channels', '--frobnicate'], ['stats', 'extra'], ['health', 'extra'],
      ['stats', '--channel', '/channels/nosuchtype/x'], ['stats', '--channel', 'a', '--top', '3'],
      ['channels', '--prefix'], ['publish', 'news', 'e', 'x', '--timeout', 'soon'], ['keygen', '--frobnicate'],
      ['publish', '/channels/nosuchtype/x', 'e', 'x'], ['publish', 'n', 'e', 'x', '--app-id', 'nobody']]) {
      const { stderr } = await run(args, envFor(server), 2);
      assert.match(stderr, new RegExp(`^raptor ${args[0]}: .+\\n`), args.join(' '));
    }
  });
});

serverSuite('raptor health against TLS', { apps: [APP], tls: selfSignedCertificate() }, (server) => {
  it('reaches https:// from the configuration, checks the certificate, and trusts --cacert or RAPTOR_CA_FILE', async () => {
    const file = configFile('cli-tls.rb', `listen "127.0.0.1", port: ${server.port}
tls cert: "${server.tls.certFile}", key: "${server.tls.keyFile}"
app "${APP.id}", key: "${APP.key}", secret: "${APP.secret}"
`);
    // Checked against the system's CA bundle, which OpenSSL reads whole (about 140 certificates,
    // a malloc each): 40 ms in the normal build, 3.3 s in the ASan one, whose exact stacks
    // (fast_unwind_on_malloc=0) are slow to take. So a wider limit than the suite's 5 s.
    const { stderr } = await run(['health', '--config', file], {}, 1, 30000);
    assert.match(stderr, new RegExp(`^raptor health: cannot reach https://127\\.0\\.0\\.1:${server.port}: .*certificate`, 'i'));
    assert.equal((await run(['health', '--config', file, '--cacert', server.tls.certFile], {})).stdout, 'status: ok\n');
    assert.equal((await run(['health', '--config', file], { RAPTOR_CA_FILE: server.tls.certFile })).stdout, 'status: ok\n');
  });
});

describe('raptor commands without a server', () => {
  it('a server that is down: exit 1 naming the address it tried', async () => {
    const port = await freePort();
    const { stderr } = await run(['stats'], { RAPTOR_URL: `http://127.0.0.1:${port}` }, 1);
    assert.match(stderr, new RegExp(`^raptor stats: cannot reach http://127\\.0\\.0\\.1:${port}: .*(refused|connect)`, 'i'));
  });

  it('without settings they reach the development app where raptor serves by default', async () => {
    const { stdout } = await run(['publish', '--help'], {});
    assert.match(stdout, /^Usage: raptor publish CHANNEL EVENT DATA \[options\]\n/);
    assert.match(stdout, /--url/);
    const { stderr } = await run(['stats'], { RAPTOR_PORT: String(await freePort()) }, 1);
    assert.match(stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });

  it('keygen: fresh credentials each time, which a server takes as RAPTOR_APP_* or --app and the commands sign with', async () => {
    const first = await run(['keygen'], {});
    const second = await run(['keygen', '--json'], {});
    const lines = Object.fromEntries(first.stdout.split('\n').filter((l) => l.startsWith('RAPTOR_')).map((l) => l.split('=')));
    const spec = first.stdout.match(/: (\S+:\S+:\S+)\n$/)[1];
    const app = { id: lines.RAPTOR_APP_ID, key: lines.RAPTOR_APP_KEY, secret: lines.RAPTOR_APP_SECRET };
    assert.equal(spec, `${app.id}:${app.key}:${app.secret}`);
    const json = JSON.parse(second.stdout);
    assert.deepEqual(Object.keys(json), ['id', 'key', 'secret']);
    assert.notEqual(json.secret, app.secret);
    assert.match(app.secret, /^[0-9a-f]{48}$/);

    const server = new Raptor({ apps: [APP], args: ['--app', spec] });
    await server.start();
    try {
      const pusher = await pusherClient(server, { app });
      const [channel] = await subscribed(pusher, 'fresh');
      const events = inboxOf((cb) => channel.bind('e', cb));
      await run(['publish', 'fresh', 'e', 'signed by a fresh app', '--url', server.url(''), '--app', spec], {});
      assert.equal((await events.take()).data, 'signed by a fresh app');
      await run(['stats'], { RAPTOR_URL: server.url(''), ...Object.fromEntries(Object.entries(lines)) });
      await server.closeClients();
    } finally {
      assert.deepEqual(server.problems(await server.stop()), []);
    }
  });

  it('version prints what --version prints; --help lists every command', async () => {
    const { stdout } = await run(['version'], {});
    assert.equal(stdout, (await run(['--version'], {})).stdout);
    const help = (await run(['--help'], {})).stdout;
    for (const command of ['publish', 'channels', 'users', 'stats', 'health', 'keygen', 'version', 'check']) {
      assert.match(help, new RegExp(`raptor ${command}\\b`), command);
    }
    await run(['version', 'extra'], {}, 2);
  });
});
