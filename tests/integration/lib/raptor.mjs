// Runs the real raptor binary: one process per Raptor object on a free loopback port, its output
// kept so a test can fail on a sanitizer report, a crash, or a leaked secret.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { after } from 'node:test';
import { waitFor, withTimeout } from './wait.mjs';

const START_LIMIT_MS = 45000;

export const BIN = process.env.RAPTOR_BIN || fileURLToPath(new URL('../../../build/raptor', import.meta.url));
export const DEFAULT_APP = Object.freeze({ id: 'app-id', key: 'app-key', secret: 'app-secret' });
const HOST = '127.0.0.1';
// scripts/test runs the suite once more with TEST_EVENT_LOOP=poll, the non-default loop.
const EVENT_LOOP_ARGS = process.env.TEST_EVENT_LOOP ? ['--event-loop', process.env.TEST_EVENT_LOOP] : [];
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: \w+Sanitizer/;

// The test's own environment minus RAPTOR_* settings a developer's shell may carry.
export const inherited = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RAPTOR_')));

// Every raptor this test file started, and every run of runRaptor. After the file's last test
// the guard stops whatever still runs and fails the file on any process that ended otherwise than
// expected (exit 0 on SIGTERM, or the signal it was killed with on purpose), printed a sanitizer
// report or showed a secret: whatever a test did to a process, and whether or not the test
// looked, nothing it started goes unchecked.
const launched = new Set();
const completedRuns = [];
after(async () => {
  const found = [];
  for (const raptor of launched) {
    let exit;
    try {
      exit = await raptor.stop();
    } catch (err) {
      exit = await raptor.exited; // killed after the stop timed out
      found.push(`raptor on port ${raptor.port}: ${err.message}`);
    }
    for (const problem of raptor.problems(exit)) found.push(`raptor on port ${raptor.port}: ${problem}`);
  }
  for (const run of completedRuns) {
    if (SANITIZER_REPORT.test(run.stderr)) found.push(`raptor ${run.args.join(' ')}: sanitizer report on stderr`);
  }
  if (found.length) {
    throw new Error(`processes this file started ended badly:\n${found.join('\n')}`);
  }
});

// Binding port 0 lets the kernel pick a free port; it is released just before raptor takes it.
export async function freePort() {
  const server = net.createServer().listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// Runs raptor to completion (for --help, --version, bad flags): {code, signal, stdout, stderr}.
export async function runRaptor(args, env = {}, ms = undefined) {
  const child = spawn(BIN, args, { env: { ...inherited(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  try {
    const [code, signal] = await withTimeout(once(child, 'close'), `raptor ${args.join(' ')} to exit`, ms);
    completedRuns.push({ args, stderr: out.stderr });
    return { code, signal, ...out };
  } catch (err) {
    child.kill('SIGKILL'); // it started serving instead of exiting
    throw err;
  }
}

// How the configuration reaches raptor: the same settings as flags or as environment variables,
// or (via 'defaults') nothing but the port, to see the built-in defaults.
function configuration({ host, port, apps, clientEvents, via }) {
  if (via === 'defaults') return { args: ['--port', String(port)], env: {} };
  const [main, ...more] = apps;
  const extra = more.map((a) => `${a.id}:${a.key}:${a.secret}`);
  if (via === 'env') {
    const env = { RAPTOR_HOST: host, RAPTOR_PORT: String(port), RAPTOR_APP_ID: main.id, RAPTOR_APP_KEY: main.key, RAPTOR_APP_SECRET: main.secret };
    if (extra.length) env.RAPTOR_APPS = extra.join(',');
    if (!clientEvents) env.RAPTOR_CLIENT_EVENTS = 'false';
    return { args: [], env };
  }
  const args = ['--host', host, '--port', String(port), '--app-id', main.id, '--app-key', main.key, '--app-secret', main.secret];
  for (const spec of extra) args.push('--app', spec);
  if (!clientEvents) args.push('--no-client-events');
  return { args, env: {} };
}

// Launchers: a shell prepares the process, then becomes raptor (exec), so the pid stays raptor's.
// Under `ulimit -n limit`:
export const underFileLimit = (limit) => (bin, argv) => ['sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, bin, ...argv]];
// In a mount namespace of its own where `dir` is seen as /etc/raptor, which must exist (root
// only; unshare execs, so the pid is still raptor's).
export const withEtcRaptor = (dir) => (bin, argv) => ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
  'mount --bind "$0" /etc/raptor && exec "$@"', dir, bin, ...argv]];

export class Raptor {
  // apps[0] is the default app; tls = {certFile, keyFile, ca}; args/env = further settings.
  // launcher: how to start the binary, e.g. underFileLimit(120); by default directly.
  // host: the address it listens on and is reached at (another than 127.0.0.1 for a node in a
  // network namespace of its own). proxyProtocol: raptor expects a PROXY protocol header on every
  // connection (--proxy-protocol on), so the start-up probe sends one.
  constructor({ apps = [DEFAULT_APP], args = [], env = {}, tls = null, clientEvents = true, configVia = 'flags', launcher = null, host = HOST, proxyProtocol = false } = {}) {
    Object.assign(this, { apps, extraArgs: args, extraEnv: env, tls, clientEvents, configVia, launcher, listenHost: host, proxyProtocol });
    this.app = apps[0];
    this.stdout = '';
    this.stderr = '';
    this.closers = new Set();
  }

  get scheme() { return this.tls ? 'https' : 'http'; }
  get wsScheme() { return this.tls ? 'wss' : 'ws'; }
  url(path) { return `${this.scheme}://${this.host}:${this.port}${path}`; }
  wsUrl(path) { return `${this.wsScheme}://${this.host}:${this.port}${path}`; }
  get host() { return this.listenHost; }
  // Options for node's http(s)/ws clients: trust the test's self-signed certificate.
  get tlsOptions() { return this.tls ? { ca: this.tls.ca } : {}; }

  // Starts raptor and waits for /health to answer 200 (with `ready: false`, any answer: a
  // cluster node answers 503 until it is ready, docs/cluster.md#readiness). Another process may
  // take the port between freePort() and raptor's bind, which makes raptor exit at once: that is
  // retried on a new port.
  async start({ ready = true } = {}) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#launch(ready);
      } catch (err) {
        if (!err.exitedEarly || attempt === 3) throw err;
      }
    }
  }

  async #launch(ready) {
    this.port = await freePort();
    const { args, env } = configuration({ host: this.host, port: this.port, apps: this.apps, clientEvents: this.clientEvents, via: this.configVia });
    if (this.tls) args.push('--tls-cert', this.tls.certFile, '--tls-key', this.tls.keyFile);
    const argv = [...args, ...EVENT_LOOP_ARGS, ...this.extraArgs];
    const [command, commandArgs] = this.launcher ? this.launcher(BIN, argv) : [BIN, argv];
    this.child = spawn(command, commandArgs, {
      env: { ...inherited(), ...env, ...this.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launched.add(this);
    this.child.stdout.on('data', (d) => { this.stdout += d; });
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    // 'close' comes after the output is fully read, so a report printed at exit is not missed.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => resolve({ code, signal }));
      this.child.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    });
    await this.#healthy(ready);
  }

  // Polls /health (there is no event to wait for); fails at once if the process died meanwhile.
  async #healthy(ready) {
    let exit = null;
    this.exited.then((e) => { exit = e; });
    // A guard against a server that never comes up, not a measure: sanitizer builds on a busy
    // 2-core machine have needed 15 s and more.
    const deadline = Date.now() + START_LIMIT_MS;
    for (;;) {
      if (exit) {
        const why = exit.error ?? `code ${exit.code}, signal ${exit.signal}`;
        throw Object.assign(new Error(`raptor exited during start-up (${why}): ${this.stderr.slice(-2000)}`), { exitedEarly: true });
      }
      if (Date.now() > deadline) throw new Error(`no ${ready ? '200' : 'answer'} from ${this.url('/health')} within ${START_LIMIT_MS / 1000} s: ${this.stderr.slice(-2000)}`);
      const status = await this.#healthStatus();
      if (ready ? status === 200 : status !== 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #healthStatus() {
    const client = this.tls ? https : http;
    const options = { ...this.tlsOptions, agent: false, timeout: 1000 };
    if (this.proxyProtocol) {
      // A version 2 LOCAL header, as a balancer's health check sends: it names no client.
      options.agent = undefined;
      options.createConnection = () => {
        const raw = net.connect(this.port, this.host);
        raw.write(Buffer.from('0d0a0d0a000d0a515549540a20000000', 'hex'));
        return this.tls ? tls.connect({ socket: raw, ...this.tlsOptions, servername: 'localhost' }) : raw;
      };
    }
    return new Promise((resolve) => {
      const req = client.get(this.url('/health'), options, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
    });
  }

  // Clients made through the helpers register a close function here; each test's clients are
  // closed after it so they do not leak into the next test (e.g. channel occupancy).
  track(close) {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  async closeClients() {
    const closers = [...this.closers];
    this.closers.clear();
    await Promise.allSettled(closers.map((close) => close()));
  }

  // SIGHUP: raptor reads its configuration again. Resolves with the line that tells how it went
  // ("info reload: done in …" or "error reload refused, …"), once every worker has it.
  // Waits until stderr matches `pattern`: what raptor logs reaches the test through a pipe, so a
  // line written before an answer the test already has may not have arrived yet.
  logged(pattern, what = `raptor to log ${pattern}`) {
    return waitFor(() => pattern.test(this.stderr), what).catch((err) => {
      err.message += `\n--- raptor stderr (tail) ---\n${this.stderr.slice(-3000)}`;
      throw err;
    });
  }

  async reload(ms = 15000) {
    const outcomes = () => this.stderr.match(/(reload: done|reload refused)[^\n]*\n/g) ?? [];
    const before = outcomes().length;
    this.child.kill('SIGHUP');
    await waitFor(() => outcomes().length > before, 'the reload to finish', ms);
    return outcomes()[before];
  }

  // What the process holds now, from /proc: {threads, fds, rssKb}.
  resources() {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))[1]);
    return { threads: field('Threads'), fds: readdirSync(`/proc/${this.child.pid}/fd`).length, rssKb: field('VmRSS') };
  }

  // Sends `signal` on purpose: the guard then expects the process to end by it (SIGKILL) rather
  // than with exit 0. Signals raptor handles (SIGTERM, SIGINT, SIGHUP) still end in exit 0.
  kill(signal) {
    if (signal === 'SIGKILL') this.expectedSignal = signal;
    this.child.kill(signal);
  }

  // SIGTERM, then wait for the exit; idempotent. Returns {code, signal}.
  stop() {
    if (!this.stopping) {
      this.stopping = (async () => {
        if (!this.child) return { code: null, signal: null };
        this.child.kill('SIGTERM');
        try {
          return await withTimeout(this.exited, 'raptor to exit after SIGTERM', 15000);
        } catch (err) {
          this.child.kill('SIGKILL');
          await this.exited;
          throw err;
        }
      })();
    }
    return this.stopping;
  }

  // Everything that must be true of a process that served a whole test file.
  problems({ code, signal }) {
    const problems = [];
    if (this.expectedSignal) {
      if (signal !== this.expectedSignal) problems.push(`ended with code ${code}, signal ${signal} (wanted ${this.expectedSignal}, sent on purpose)`);
    } else if (code !== 0) {
      problems.push(`ended with code ${code}, signal ${signal} (wanted exit 0 on SIGTERM)`);
    }
    if (SANITIZER_REPORT.test(this.stderr)) problems.push('sanitizer report on stderr');
    // The development app's well-known secret may be shown; a real one never.
    for (const { secret } of this.apps) {
      if (secret === DEFAULT_APP.secret) continue;
      if (this.stderr.includes(secret)) problems.push(`app secret ${secret} appears on stderr`);
      if (this.stdout.includes(secret)) problems.push(`app secret ${secret} appears on stdout`);
    }
    return problems;
  }
}
