// The soak (issue 20; run by scripts/soak, not by scripts/test): mixed load on one raptor for
// SOAK_SECONDS (default 3600), in cycles of about 10 s, each of
//   fan-out       PUBLISHES events through the HTTP API to FANOUT long-lived subscribers
//   presence      CHURN new connections join a presence channel as new users, then all close
//   client events a client sends 5 client events on a private channel to another
//   storm         every 3rd cycle STORM connections open at once, then close at once
//   webhooks      all of the above to a receiver that answers 503 to every 4th POST (raptor retries)
//   SIGHUP        every 6th cycle a reload of the configuration file (with a hook in it)
// and then, with only the long-lived connections open, the server's RSS and open fds sampled.
// It fails on a sanitizer report, a crash or a bad exit (the Raptor guard), a lost event (every
// subscriber gets every published event, the presence watcher every member_added/removed, the
// receiver a member_removed for each member_added it got, all signed), and RSS or fds that grow
// after warm-up (5 minutes, or 20 % of a long run). It prints one line per cycle and a
// summary: docs/security.md#soak records a run.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { it } from 'node:test';
import { serverSdk } from './lib/clients.mjs';
import { configFile } from './lib/config-files.mjs';
import { Raptor } from './lib/raptor.mjs';
import { waitFor } from './lib/wait.mjs';
import { WebhookReceiver } from './lib/webhook-receiver.mjs';
import { RawClient } from './lib/ws-client.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 3600);
const CYCLE_MS = 10_000;
const FANOUT = 40;
const PUBLISHES = 50;
const CHURN = 20;
const STORM = 100;
// RSS may grow by this much after warm-up (ASan's allocator and quarantine settle in steps).
const RSS_SLACK = { ratio: 0.1, kb: 8 * 1024 };
// Open fds may differ by this much between samples (the webhook client's connection comes and goes).
const FD_SLACK = 4;

const app = { id: 'soak', key: 'soak-key', secret: 'soak-secret-4f9d2c71e0b3' };

// Counts frames of `event` as they arrive instead of keeping them (an hour's worth would not fit).
function counting(client, event, onFrame) {
  const inbox = client.frames;
  client.frames = { push: (f) => (f.event === event ? onFrame(f) : inbox.push(f)), take: (...a) => inbox.take(...a), pending: (...a) => inbox.pending(...a) };
  return client;
}

function sample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

it(`soaks raptor for ${SECONDS} s`, { timeout: (SECONDS + 600) * 1000 }, async () => {
  let posts = 0;
  const receiver = await new WebhookReceiver(app, { answer: () => (++posts % 4 === 0 ? 503 : 200) }).start();
  const config = configFile('soak.rb', `hook_time_budget 50
app "${app.id}", key: "${app.key}", secret: "${app.secret}" do |a|
  a.webhook "${receiver.url}", events: %i[channel_occupied channel_vacated member_added member_removed client_event]
end
authorize { |subscription| subscription.channel.start_with?("forbidden-") ? deny("no") : pass }
`);
  const server = new Raptor({ apps: [app], args: ['--config', config, '--workers', '2'] });
  await server.start();
  const sdk = serverSdk(server);
  const pid = server.child.pid;

  // The long-lived connections: fan-out subscribers, a presence watcher, a client-event pair.
  const seen = new Array(FANOUT).fill(0);
  const subscribers = [];
  for (let i = 0; i < FANOUT; i++) {
    const c = counting(await RawClient.connect(server), 'fanout', (f) => {
      assert.equal(f.payload.seq, seen[i] + 1, `subscriber ${i}: events in order, none lost`);
      seen[i] = f.payload.seq;
    });
    await c.subscribe('fanout');
    subscribers.push(c);
  }
  const members = { added: 0, removed: 0 };
  const watcher = counting(await RawClient.connect(server), 'pusher_internal:member_added', () => members.added++);
  counting(watcher, 'pusher_internal:member_removed', () => members.removed++);
  await watcher.subscribe('presence-churn', { channelData: JSON.stringify({ user_id: 'watcher' }) });
  let clientEvents = 0;
  const sender = await RawClient.connect(server);
  const listener = counting(await RawClient.connect(server), 'client-soak', (f) => {
    const { seq } = f.payload ?? f.data; // a client event's data stays the object the client sent
    assert.equal(seq, clientEvents + 1, 'client events in order, none lost');
    clientEvents = seq;
  });
  await sender.subscribe('private-chat');
  await listener.subscribe('private-chat');

  const cycles = Math.max(1, Math.round((SECONDS * 1000) / CYCLE_MS));
  // ASan's quarantine (32 MB) and the VMs that reloads replace fill RSS for about 4 minutes
  // before it levels (docs/security.md#soak): 5 minutes of warm-up (half of a shorter run), or
  // the first 20 % of a run over 25 minutes.
  const warmup = Math.max(3, Math.min(30, Math.floor(cycles / 2)), Math.floor(cycles / 5));
  const samples = [];
  let published = 0;
  let sent = 0;
  let reloads = 0;
  const started = Date.now();
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const cycleStart = Date.now();
    // fan-out
    for (let n = 0; n < PUBLISHES; n++) await sdk.trigger('fanout', 'fanout', { seq: ++published });
    // presence churn (and webhooks: member_added/removed, channel_occupied/vacated)
    const churn = await Promise.all(Array.from({ length: CHURN }, () => RawClient.connect(server)));
    await Promise.all(churn.map((c, i) => c.subscribe('presence-churn', { channelData: JSON.stringify({ user_id: `u${cycle}-${i}` }) })));
    await Promise.all(churn.map((c) => c.close()));
    // client events (the rate limit is 10 a second)
    for (let n = 0; n < 5; n++) sender.trigger('private-chat', 'client-soak', { seq: ++sent });
    // reconnect storm
    if (cycle % 3 === 0) {
      const storm = await Promise.all(Array.from({ length: STORM }, () => RawClient.connect(server)));
      await Promise.all(storm.map((c) => c.close()));
    }
    if (cycle % 6 === 0) {
      assert.match(await server.reload(), /reload: done/);
      reloads++;
    }
    // Everything of this cycle arrived: then only the long-lived connections are open.
    await waitFor(() => seen.every((s) => s === published), `fan-out event ${published} at every subscriber`, 30_000);
    await waitFor(() => members.added === cycle * CHURN && members.removed === cycle * CHURN,
      `member_added/removed ${cycle * CHURN} (have ${members.added}/${members.removed})`, 30_000);
    await waitFor(() => clientEvents === sent, `client event ${sent}`, 30_000);
    await sender.sync();
    const s = { cycle, seconds: Math.round((Date.now() - started) / 1000), ...sample(pid) };
    samples.push(s);
    console.log(`soak: cycle ${cycle}/${cycles} t=${s.seconds}s rss=${(s.rssKb / 1024).toFixed(1)}MB fds=${s.fds} ` +
      `published=${published} members=${members.added} client_events=${clientEvents} posts=${receiver.deliveries.length} reloads=${reloads}`);
    await new Promise((r) => setTimeout(r, Math.max(0, CYCLE_MS - (Date.now() - cycleStart))));
  }

  // Webhooks: every member the receiver was told of joining, it is told of leaving, once the
  // retries are through (the departure delay is 3 s; a 503 is retried).
  const memberEvents = (name) => receiver.accepted.filter((e) => e.name === name && e.channel === 'presence-churn' && e.user_id !== 'watcher');
  await waitFor(() => memberEvents('member_removed').length >= memberEvents('member_added').length,
    'a webhook member_removed for every member_added', 60_000);
  assert.ok(receiver.deliveries.every((d) => d.valid), 'every webhook POST signed and well-formed');

  const after = samples.slice(warmup);
  const first = after.slice(0, 3);
  const last = after.slice(-3);
  const rssFirst = mean(first.map((s) => s.rssKb));
  const rssLast = mean(last.map((s) => s.rssKb));
  const fds = after.map((s) => s.fds);
  console.log(`soak: summary: ${cycles} cycles in ${Math.round((Date.now() - started) / 1000)} s; ` +
    `${published} events x ${FANOUT} subscribers, ${members.added} presence joins, ${clientEvents} client events, ` +
    `${cycles * CHURN + Math.floor(cycles / 3) * STORM} short connections, ${reloads} reloads; webhooks: ` +
    `${receiver.deliveries.length} POSTs (${receiver.deliveries.filter((d) => d.status === 503).length} answered 503), ` +
    `${memberEvents('member_added').length} member_added and ${memberEvents('member_removed').length} member_removed delivered; ` +
    `after warm-up (${warmup} cycles): RSS ${(rssFirst / 1024).toFixed(1)} -> ${(rssLast / 1024).toFixed(1)} MB, ` +
    `fds ${Math.min(...fds)}-${Math.max(...fds)}`);
  // The sanitizer's verdict (reports, leaks at exit) first: it matters whatever RSS did.
  await server.closeClients();
  const problems = server.problems(await server.stop());
  await receiver.stop();
  assert.deepEqual(problems, [], `${problems.join('; ')}\n${server.stderr.slice(-4000)}`);
  if (after.length >= 3) {
    assert.ok(rssLast <= rssFirst * (1 + RSS_SLACK.ratio) + RSS_SLACK.kb, `RSS grew after warm-up: ${rssFirst} -> ${rssLast} kB`);
    assert.ok(Math.max(...fds) - Math.min(...fds) <= FD_SLACK, `open fds varied after warm-up: ${fds.join(' ')}`);
  }
});
