// Docs that run: every fenced block of README.md and docs/*.md is run here, run by the test file
// it names, or says why not, in an HTML comment on the line just before it:
//   <!-- run: KIND[, raptor KEY][, logs TEXT] -->  run here; TEXT must then appear in its output
//   <!-- tested: FILE.test.mjs -->                 run by that file, which reads the document
//   <!-- illustrative: REASON -->                  output shown, a syntax, a fragment, or needs
//                                                  what this machine lacks (root, systemd, Rails)
// KINDs: `json` parses (as a whole, as a member list, or line by line); `raptor check` (", in an
// app": inside an app block) passes `raptor check --no-env`; `sh` runs in bash from the checkout;
// `node` runs with the real pusher-js (as `Pusher`) and `require` for the `pusher` SDK; `serve`
// is a raptor command line that must start, listen and stop cleanly on SIGTERM.
// `raptor KEY` names the server the block talks to, which this file starts: app-key (the
// development app) or my-key (my-app, secret my-secret). A block runs as written but for these
// stand-ins, so that it can run beside other tests and without root: 6001 is that server's port
// (also RAPTOR_PORT in sh's environment), /etc/default/raptor a file with its settings,
// /etc/raptor/secret a file with its secret; `serve` gets `--port` with a free port appended.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Pusher from 'pusher-js';
import { configFile } from './lib/config-files.mjs';
import { documents, fencedBlocks } from './lib/doc-blocks.mjs';
import { BIN, DEFAULT_APP, Raptor, freePort, inherited, runRaptor } from './lib/raptor.mjs';
import { waitFor, withTimeout } from './lib/wait.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MY_APP = { id: 'my-app', key: 'my-key', secret: 'my-secret' };
const servers = { 'app-key': new Raptor({ apps: [DEFAULT_APP] }), 'my-key': new Raptor({ apps: [MY_APP] }) };
const KINDS = ['run', 'tested', 'illustrative'];

const blocks = documents().flatMap(fencedBlocks);
const where = (b) => `${b.doc}:${b.line}`;

// "sh, raptor my-key, logs 200 {}" -> {kind: 'sh', server: 'my-key', logs: '200 {}', inApp}.
function runSpec(text) {
  const [kind, ...options] = text.split(/, (?=raptor |logs |in an app)/);
  const spec = { kind, server: null, logs: null, inApp: false };
  for (const option of options) {
    if (option.startsWith('raptor ')) spec.server = option.slice(7);
    else if (option.startsWith('logs ')) spec.logs = option.slice(5);
    else spec.inApp = option === 'in an app';
  }
  return spec;
}

// The block's code with the stand-ins for what it names on a real machine.
function withStandIns(code, server) {
  if (!server) return code;
  const app = server.app;
  const settings = `RAPTOR_APP_ID=${app.id}\nRAPTOR_APP_KEY=${app.key}\nRAPTOR_APP_SECRET=${app.secret}\nRAPTOR_PORT=${server.port}\n`;
  return code.replaceAll('6001', String(server.port))
    .replaceAll('/etc/default/raptor', configFile('etc-default-raptor', settings))
    .replaceAll('/etc/raptor/secret', configFile('etc-raptor-secret', `${app.secret}\n`));
}

// Runs `command` to its end: {code, output} (stdout and stderr together).
function run(command, args, options) {
  return withTimeout(new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  }), `${command} to finish`, 20000);
}

const shellEnv = (server) => ({
  ...inherited(), PATH: `${path.dirname(BIN)}:${process.env.PATH}`,
  ...(server && { RAPTOR_HOST: '127.0.0.1', RAPTOR_PORT: String(server.port) }),
});

// pusher-js clients a node block makes, so that the test can wait for them and close them.
const clients = [];
class TrackedPusher extends Pusher {
  constructor(...args) {
    super(...args);
    clients.push(this);
  }
}
// What node blocks print, together: a block's callback may print what a later block publishes.
const nodeLog = [];
const log = (...args) => nodeLog.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
const settled = () => clients.every((c) => c.connection.state === 'connected' && c.allChannels().every((ch) => ch.subscribed));

const runners = {
  json({ code }) {
    const attempts = [code, `{${code}}`];
    if (attempts.some((text) => { try { return JSON.parse(text), true; } catch { return false; } })) return '';
    for (const line of code.split('\n').filter((l) => l.trim())) JSON.parse(line);
    return '';
  },

  async 'raptor check'({ code }, spec) {
    const ruby = spec.inApp ? `app "docs", key: "docs-key", secret: env("RAPTOR_DOCS_SECRET") do |app|\n${code}end\n` : code;
    const { code: status, stdout, stderr } = await runRaptor(['check', '--no-env', configFile('doc-block.rb', ruby)]);
    assert.equal(status, 0, stdout + stderr);
    return stdout;
  },

  async sh({ code }, spec, server) {
    const { code: status, output } = await run('bash', ['-e', '-o', 'pipefail', '-c', withStandIns(code, server)], { env: shellEnv(server) });
    assert.equal(status, 0, output);
    return output;
  },

  async node({ code }, spec, server) {
    // In a block of its own, so that the block may declare its own Pusher (the SDK's).
    const body = new (Object.getPrototypeOf(async () => {}).constructor)('Pusher', 'require', 'console', `{\n${withStandIns(code, server)}\n}`);
    await withTimeout(body(TrackedPusher, createRequire(import.meta.url), { log }), `${spec.kind} block to finish`);
    await waitFor(settled, 'its pusher-js clients to connect and subscribe');
    return { get output() { return nodeLog.join('\n'); } };
  },

  async serve({ code }) {
    const port = await freePort();
    const command = code.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s+#.*$/, '')).filter((l) => l.trim());
    assert.equal(command.length, 1, 'one command line');
    const child = spawn('bash', ['-c', `exec ${command[0]} --port ${port}`], { cwd: ROOT, env: shellEnv(null), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let ended = null;
    exited.then((e) => { ended = e; });
    const listening = () => new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.on('connect', () => socket.destroy());
    });
    try {
      await waitFor(async () => ended || (await listening()), `the command to listen on ${port}`, 10000);
      assert.equal(ended, null, `it exited: ${output}`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.deepEqual(await exited, { code: 0, signal: null }, output);
    return output;
  },
};

describe('docs that run', () => {
  before(() => Promise.all(Object.values(servers).map((s) => s.start())));
  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  it('marks every block of README.md and docs/*.md: run, tested by a named file, or illustrative with a reason', () => {
    const problems = [];
    for (const b of blocks) {
      if (!b.marker || !KINDS.includes(b.marker.kind)) {
        problems.push(`${where(b)}: no <!-- run: … -->, <!-- tested: … --> or <!-- illustrative: … --> before the block`);
      } else if (b.marker.kind === 'run' && !runners[runSpec(b.marker.text).kind]) {
        problems.push(`${where(b)}: no runner for '${b.marker.text}' (${Object.keys(runners).join(', ')})`);
      } else if (b.marker.kind === 'run' && runSpec(b.marker.text).server && !servers[runSpec(b.marker.text).server]) {
        problems.push(`${where(b)}: no server '${runSpec(b.marker.text).server}' (${Object.keys(servers).join(', ')})`);
      } else if (b.marker.kind === 'tested') {
        const file = fileURLToPath(new URL(b.marker.text, import.meta.url));
        if (!b.marker.text.endsWith('.test.mjs') || !existsSync(file)) problems.push(`${where(b)}: no test file ${b.marker.text}`);
        else if (!readFileSync(file, 'utf8').includes(b.doc)) problems.push(`${where(b)}: ${b.marker.text} does not read ${b.doc}`);
      } else if (b.marker.kind === 'illustrative' && b.marker.text.trim().length < 10) {
        problems.push(`${where(b)}: an illustrative block needs its reason`);
      }
    }
    assert.deepEqual(problems, []);
  });

  // In document order: a node block may publish what an earlier one listens for.
  for (const b of blocks.filter((b) => b.marker?.kind === 'run')) {
    const spec = runSpec(b.marker.text);
    it(`${where(b)}: ${b.marker.text}`, async () => {
      const result = await runners[spec.kind](b, spec, servers[spec.server]);
      if (spec.logs) {
        const output = () => (typeof result === 'string' ? result : result.output);
        await waitFor(() => output().includes(spec.logs), `${spec.logs} in its output`).catch((err) => {
          err.message += `\n--- output ---\n${output()}`;
          throw err;
        });
      }
    });
  }
});
