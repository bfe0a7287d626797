// The real reverse proxies of docs/reverse-proxy.md (Debian's nginx and caddy) in front of one
// raptor, unprivileged on a free loopback port, running the document's config block with the
// test's ports and paths, written into a temp dir.
// A proxy object offers what the client helpers need of a server (host, port, app, tls, wsUrl,
// track), so pusherClient, serverSdk and RawClient connect through it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeBlock } from './doc-blocks.mjs';
import { freePort, inherited } from './raptor.mjs';
import { waitFor } from './wait.mjs';

// The one block of that language in docs/reverse-proxy.md, with each of `edits` ([pattern,
// replacement]) applied: every pattern must match, so a changed document fails here, not silently.
function documented(language, pattern, edits) {
  let code = codeBlock('docs/reverse-proxy.md', pattern, language);
  for (const [from, to] of edits) {
    assert.match(code, from, `docs/reverse-proxy.md's ${language} block has ${from}`);
    code = code.replace(from, to);
  }
  return code;
}

// docs/reverse-proxy.md's nginx server, with the test's ports, certificate and read timeout, in
// a main config whose pid and temp paths are in the test's directory.
function nginxConfig({ dir, port, upstream, readTimeout, tls }) {
  const site = documented('nginx', /proxy_pass/, [
    [/server 127\.0\.0\.1:6001;/, `server 127.0.0.1:${upstream};`],
    [/listen 443 ssl;/, `listen 127.0.0.1:${port}${tls ? ' ssl' : ''};`],
    [/ssl_certificate .*;/, tls ? `ssl_certificate ${tls.certFile};` : ''],
    [/ssl_certificate_key .*;/, tls ? `ssl_certificate_key ${tls.keyFile};` : ''],
    [/proxy_read_timeout 3600s;/, `proxy_read_timeout ${readTimeout};`],
    [/proxy_send_timeout 3600s;/, `proxy_send_timeout ${readTimeout};`],
  ]);
  return `worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`;
}

// docs/reverse-proxy.md's Caddyfile on the test's address, with the test's certificate (no
// domain to get one for), no admin endpoint, and storage in the test's directory.
function caddyConfig({ dir, port, upstream, tls }) {
  const site = documented('caddyfile', /reverse_proxy/, [
    [/realtime\.example\.com \{/, `${tls ? 'https' : 'http'}://127.0.0.1:${port} {\n    ${tls ? `tls ${tls.certFile} ${tls.keyFile}` : ''}`],
    [/reverse_proxy 127\.0\.0\.1:6001/, `reverse_proxy 127.0.0.1:${upstream}`],
  ]);
  return `{
  admin off
  auto_https off
  storage file_system {
    root ${dir}/storage
  }
}
${site}`;
}

const COMMANDS = {
  nginx: (dir, file) => ['nginx', ['-p', dir, '-c', file, '-e', join(dir, 'error.log'), '-g', 'daemon off;']],
  caddy: (dir, file) => ['caddy', ['run', '--config', file, '--adapter', 'caddyfile']],
};

export class ReverseProxy {
  // kind: 'nginx' | 'caddy'; raptor: the Raptor behind it; readTimeout: nginx's
  // proxy_read_timeout/proxy_send_timeout; tls: {certFile, keyFile, ca} to terminate TLS.
  constructor(kind, raptor, { readTimeout = '3600s', tls = null } = {}) {
    Object.assign(this, { kind, raptor, readTimeout, tls });
    this.app = raptor.app;
    this.host = '127.0.0.1';
    this.output = '';
  }

  get tlsOptions() { return this.tls ? { ca: this.tls.ca } : {}; }
  wsUrl(path) { return `${this.tls ? 'wss' : 'ws'}://${this.host}:${this.port}${path}`; }
  url(path) { return `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}${path}`; }
  // Clients made through it are closed with raptor's (Raptor.closeClients).
  track(close) { return this.raptor.track(close); }

  async start() {
    this.dir = mkdtempSync(join(tmpdir(), `raptor-${this.kind}-`));
    chmodSync(this.dir, 0o755); // nginx's workers drop root for nobody and use the temp paths
    this.port = await freePort();
    const settings = { dir: this.dir, port: this.port, upstream: this.raptor.port, readTimeout: this.readTimeout, tls: this.tls };
    this.configFile = join(this.dir, this.kind === 'nginx' ? 'nginx.conf' : 'Caddyfile');
    writeFileSync(this.configFile, this.kind === 'nginx' ? nginxConfig(settings) : caddyConfig(settings));
    const [bin, args] = COMMANDS[this.kind](this.dir, this.configFile);
    // caddy keeps its autosave and data under HOME / XDG_*: the temp dir, not the user's.
    const env = { ...inherited(), HOME: this.dir, XDG_CONFIG_HOME: this.dir, XDG_DATA_HOME: this.dir };
    this.child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.exited = once(this.child, 'exit');
    await waitFor(async () => {
      if (this.child.exitCode !== null) throw new Error(`${this.kind} exited: ${this.output}${this.errorLog()}`);
      return accepts(this.port);
    }, `${this.kind} to listen on ${this.port}`);
    return this;
  }

  errorLog() {
    try { return readFileSync(join(this.dir, 'error.log'), 'utf8'); } catch { return ''; }
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM'); // both stop at once on SIGTERM (nginx: fast shutdown)
      await this.exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

async function accepts(port) {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
