// Running under systemd: the readiness protocol of Type=notify (READY=1 once the port answers,
// RELOADING=1/READY=1 around a reload, STOPPING=1 when the drain begins) through a socket this
// test binds as systemd would, and log lines in the journal's style when stderr is the journal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from './lib/http-api.mjs';
import { BIN, Raptor, freePort } from './lib/raptor.mjs';
import { Inbox, waitFor, withTimeout } from './lib/wait.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'raptor-systemd-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// notify_listener (tests/integration/notify_listener.cpp, built beside raptor): the datagrams
// raptor sends to NOTIFY_SOCKET, one per line.
async function notifySocket(name) {
  const path = join(scratch, name);
  const child = spawn(join(dirname(BIN), 'notify_listener'), [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  after(() => child.kill());
  const states = new Inbox();
  let rest = '';
  child.stdout.on('data', (d) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop();
    for (const line of lines) states.push(line);
  });
  await states.take((s) => s === 'bound', 'notify_listener to bind its socket');
  return { path, states };
}

describe('systemd Type=notify', () => {
  it('sends READY=1 once it serves, RELOADING=1 and READY=1 around a reload, STOPPING=1 on SIGTERM', async () => {
    const { path, states } = await notifySocket('notify-1');
    const raptor = new Raptor({ env: { NOTIFY_SOCKET: path }, args: ['--drain-seconds', '0'] });
    await raptor.start();
    assert.equal(await states.take(), 'READY=1');
    await raptor.reload();
    assert.equal(await states.take(), 'RELOADING=1');
    assert.equal(await states.take(), 'READY=1');
    raptor.child.kill('SIGTERM');
    assert.equal(await states.take(), 'STOPPING=1');
    assert.deepEqual(await withTimeout(raptor.exited, 'raptor to exit after its drain', 15000), { code: 0, signal: null });
    assert.deepEqual(states.pending(), []);
  });

  it('has the port answering when READY=1 arrives', async () => {
    const { path, states } = await notifySocket('notify-2');
    const port = await freePort();
    const child = spawn(BIN, ['--host', '127.0.0.1', '--port', String(port)], {
      env: { ...process.env, NOTIFY_SOCKET: path }, stdio: 'ignore' });
    const exited = once(child, 'exit');
    // A plain notify_listener does not poll: the first thing known of raptor is its READY=1.
    assert.equal(await states.take(() => true, 'READY=1', 45000), 'READY=1');
    const server = { url: (p) => `http://127.0.0.1:${port}${p}`, tls: null, tlsOptions: {} };
    assert.equal((await request(server, { path: '/health' })).status, 200);
    child.kill('SIGTERM');
    assert.deepEqual(await withTimeout(exited, 'raptor to exit', 15000), [0, null]);
  });
});

describe('logging to the journal', () => {
  // systemd sets JOURNAL_STREAM to "device:inode" of the stream it connects to stderr; a file
  // stands in for that stream here.
  async function runWithStderr(journalStream, args = []) {
    const file = join(scratch, `stderr-${Math.random().toString(16).slice(2)}`);
    const fd = openSync(file, 'w');
    const { dev, ino } = fstatSync(fd, { bigint: true });
    const port = await freePort();
    const child = spawn(BIN, ['--host', '127.0.0.1', '--port', String(port), ...args], {
      env: { ...process.env, JOURNAL_STREAM: journalStream(`${dev}:${ino}`) }, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    const exited = once(child, 'exit');
    await waitFor(() => /listening on/.test(readFileSync(file, 'utf8')), 'raptor to log that it listens', 45000);
    child.kill('SIGTERM');
    assert.deepEqual(await withTimeout(exited, 'raptor to exit', 15000), [0, null]);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  }

  it('prefixes lines with their syslog priority and no timestamp when stderr is the journal', async () => {
    const lines = await runWithStderr((own) => own);
    assert.ok(lines.some((l) => l.startsWith('<6>listening on 127.0.0.1:')), lines.join('\n'));
    for (const line of lines) assert.match(line, /^<[346]>(?!\d{4}-)/);
  });

  it('keeps timestamps when JOURNAL_STREAM names another stream (inherited, stderr redirected)', async () => {
    const lines = await runWithStderr((own) => `${own}1`);
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (info|warn|error) /);
  });

  it('--log-format json: one {time, level, message} object a line, after the priority for the journal', async () => {
    for (const [journalStream, prefix] of [[(own) => own, /^<[346]>/], [(own) => `${own}1`, /^/]]) {
      const lines = await runWithStderr(journalStream, ['--log-format', 'json']);
      assert.ok(lines.length > 0);
      for (const line of lines) {
        assert.match(line, prefix);
        const entry = JSON.parse(line.replace(/^<\d>/, ''));
        assert.deepEqual(Object.keys(entry), ['time', 'level', 'message']);
        assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.match(entry.level, /^(info|warn|error)$/);
      }
      assert.ok(lines.some((l) => JSON.parse(l.replace(/^<\d>/, '')).message.startsWith('listening on 127.0.0.1:')));
    }
  });
});

describe('systemd watchdog', () => {
  it('sends WATCHDOG=1 while its workers tick when the unit sets WatchdogSec (WATCHDOG_USEC)', async () => {
    const { path, states } = await notifySocket('notify-watchdog');
    const raptor = new Raptor({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '2000000' }, args: ['--workers', '2', '--drain-seconds', '0'] });
    await raptor.start();
    assert.equal(await states.take(), 'READY=1');
    assert.equal(await states.take(), 'WATCHDOG=1');
    assert.equal(await states.take(), 'WATCHDOG=1');
    assert.match(raptor.stderr, /systemd watchdog: WATCHDOG=1 every 1\.0 s while every worker ticks/);
    assert.deepEqual(raptor.problems(await raptor.stop()), []);
  });
});
