// Raptor's dashboard: reads /dashboard/api/* with the admin token (kept in this tab's
// sessionStorage only), and listens over raptor's own WebSocket, speaking the Pusher protocol as
// any client does: its figures come once a second as the event "overview" on #raptor-dashboard
// (a channel only the admin token's signature opens), and the debug console watches any channel.
// No polling, no library, nothing from another origin.
'use strict';

const $ = (id) => document.getElementById(id);
const POINTS = 60;
const history = { connections: [], messages: [] };
let token = sessionStorage.getItem('raptor-admin-token') || '';
let apps = [];
let lastSent = null;
let lastAt = 0;
let watcher = null;

async function api(path, body) {
  const res = await fetch(`/dashboard/api/${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.error || res.statusText), { status: res.status });
  return json;
}

function element(tag, text, attributes = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  return e;
}

function push(series, value) {
  series.push(value);
  if (series.length > POINTS) series.shift();
}

function draw(canvas, series) {
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(1, ...series);
  g.strokeStyle = '#2563eb';
  g.lineWidth = 2;
  g.beginPath();
  series.forEach((v, i) => {
    const x = (i / (POINTS - 1)) * canvas.width;
    const y = canvas.height - 4 - (v / top) * (canvas.height - 8);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  canvas.dataset.points = series.join(',');
}

function render(o) {
  $('health').textContent = o.health.status;
  $('health').className = `badge ${o.health.status}`;
  $('reasons').textContent = (o.health.reasons || []).join('; ');
  $('node').textContent = o.node.cluster
    ? `node ${o.node.id}: Redis ${o.node.redis_workers_connected}/${o.node.workers} workers connected`
    : 'single node';

  const connections = o.apps.reduce((n, a) => n + a.connections.current, 0);
  const now = performance.now();
  const rate = lastSent === null ? 0 : ((o.messages_sent - lastSent) * 1000) / Math.max(1, now - lastAt);
  lastSent = o.messages_sent;
  lastAt = now;
  push(history.connections, connections);
  push(history.messages, Math.round(rate));
  $('connections-now').textContent = connections;
  $('messages-rate').textContent = Math.round(rate);
  draw($('chart-connections'), history.connections);
  draw($('chart-messages'), history.messages);

  $('cluster').hidden = !o.nodes;
  $('nodes').tBodies[0].replaceChildren(...(o.nodes || []).map((n) => {
    const tr = element('tr');
    for (const v of [n.node, n.health, n.connections, n.messages_last_minute, `${n.redis_workers_connected}/${n.workers}`, n.draining ? 'yes' : 'no'])
      tr.append(element('td', v));
    return tr;
  }));
  const rows = $('apps').tBodies[0];
  rows.replaceChildren(...o.apps.map((a) => {
    const tr = element('tr');
    for (const v of [a.app, a.connections.current, a.connections.peak, a.messages.last_minute, a.messages.last_hour, a.channels.occupied])
      tr.append(element('td', v));
    return tr;
  }));
  $('top-channels').replaceChildren(...o.apps.flatMap((a) => a.top_channels.map((c) =>
    element('li', `${a.app} ${c.name}: ${c.messages.last_minute}/min, ${c.messages.last_hour}/h`))));
  $('presence').replaceChildren(...o.apps.flatMap((a) => a.largest_presence_channels.map((c) => {
    const li = element('li', `${a.app} ${c.name}: ${c.user_count} members`);
    li.addEventListener('click', () => showRoster(a.app, c.name));
    return li;
  })));
  const hooks = $('webhooks');
  if (o.webhooks) {
    hooks.replaceChildren(...Object.entries(o.webhooks).flatMap(([k, v]) => [element('dt', k), element('dd', v)]));
  }
  const ids = o.apps.map((a) => a.app).join();
  if (ids !== apps.map((a) => a.app).join()) {
    $('console-app').replaceChildren(...o.apps.map((a) => element('option', a.app, { value: a.app })));
  }
  apps = o.apps;
}

async function showRoster(app, channel) {
  const { users } = await api(`roster?app=${encodeURIComponent(app)}&channel=${encodeURIComponent(channel)}`);
  $('roster').replaceChildren(...users.map((u) => element('li', u.id)));
}

function signOut(why) {
  sessionStorage.removeItem('raptor-admin-token');
  token = '';
  if (liveSocket) liveSocket.close();
  document.body.dataset.state = 'refused';
  $('login-error').textContent = why;
  $('login').hidden = false;
  $('main').hidden = true;
}

async function signIn(candidate) {
  token = candidate;
  try {
    render(await api('overview'));
  } catch (err) {
    return signOut(err.status ? `Refused: ${err.message}` : err.message);
  }
  sessionStorage.setItem('raptor-admin-token', token);
  $('login').hidden = true;
  $('main').hidden = false;
  $('login-error').textContent = '';
  document.body.dataset.state = 'ready';
  live(0);
}

// The live figures: a Pusher connection to one of the apps (the first that takes it), subscribed
// to #raptor-dashboard, which raptor feeds once a second. Reconnects, to the next app, when closed.
let liveSocket = null;
function live(index) {
  if (!token || !apps.length) return;
  const app = apps[index % apps.length];
  liveSocket = pusherSocket(app, '#raptor-dashboard', {
    subscribed: () => { document.body.dataset.live = 'on'; },
    refused: (why, status) => {
      if (status === 401 || status === 403) return signOut(`Refused: ${why}`); // the token changed
      $('reasons').textContent = `live figures refused: ${why}`;
    },
    event: (frame) => { if (frame.event === 'overview') render(JSON.parse(frame.data)); },
    closed: () => {
      document.body.dataset.live = 'off';
      if (token) setTimeout(() => live(index + 1), 2000);
    },
  });
}

function log(text) {
  const list = $('console-log');
  list.prepend(element('li', text));
  while (list.children.length > 200) list.lastChild.remove();
}

// A Pusher connection to `app` subscribed to `channel` (or pattern); private, presence and
// #raptor- channels are signed by the dashboard's auth endpoint. `on` hears what happens.
function pusherSocket(app, channel, on) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/app/${app.key}?protocol=7&client=raptor-dashboard&version=1`);
  ws.onmessage = async (message) => {
    const frame = JSON.parse(message.data);
    if (frame.event === 'pusher:connection_established') {
      const data = { channel };
      if (/^(private-|presence-|#raptor-)/.test(channel)) {
        const { socket_id: socketId } = JSON.parse(frame.data);
        try {
          Object.assign(data, await api('auth', { app: app.app, socket_id: socketId, channel }));
        } catch (err) {
          on.refused(err.message, err.status);
          return ws.close();
        }
      }
      ws.send(JSON.stringify({ event: 'pusher:subscribe', data }));
    } else if (frame.event === 'pusher_internal:subscription_succeeded') {
      on.subscribed();
    } else if (frame.event === 'pusher:error' || frame.event === 'pusher:subscription_error') {
      on.refused(typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data));
    } else if (frame.event === 'pusher:ping') {
      ws.send(JSON.stringify({ event: 'pusher:pong', data: {} }));
    } else if (!frame.event.startsWith('pusher')) {
      on.event(frame);
    }
  };
  ws.onclose = () => on.closed();
  return ws;
}

// The debug console: shows each event on `channel` (or pattern) of `appId` as it passes.
function watch(appId, channel) {
  if (watcher) watcher.close();
  const app = apps.find((a) => a.app === appId);
  $('console-state').textContent = 'connecting';
  const ws = pusherSocket(app, channel, {
    subscribed: () => {
      $('console-state').textContent = `watching ${channel}`;
      document.body.dataset.console = 'watching';
    },
    refused: (why) => { $('console-state').textContent = `refused: ${why}`; },
    event: (frame) => {
      const data = typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data);
      log(`${new Date().toLocaleTimeString()} ${frame.channel} ${frame.event} ${data}`);
    },
    closed: () => { if (watcher === ws) $('console-state').textContent = 'closed'; },
  });
  watcher = ws;
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('token').value);
});
$('console-watch').addEventListener('submit', (e) => {
  e.preventDefault();
  watch($('console-app').value, $('console-channel').value);
});
$('console-publish').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { app: $('console-app').value, channel: $('publish-channel').value, event: $('publish-event').value, data: $('publish-data').value };
  try {
    await api('publish', body);
    $('publish-state').textContent = `published ${body.event}`;
  } catch (err) {
    $('publish-state').textContent = `refused: ${err.message}`;
  }
});
if (token) signIn(token);
