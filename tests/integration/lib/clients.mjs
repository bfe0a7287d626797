// The unmodified client libraries users run, pointed at a test server: pusher-js and Laravel
// Echo in the browser's place, the `pusher` SDK in the app server's place. Channel authorization
// goes through the SDK's authorizeChannel, the same code a real auth endpoint would run.
import https from 'node:https';
import Echo from 'laravel-echo';
import PusherServer from 'pusher';
import Pusher from 'pusher-js';
import { channelAuth } from './signature.mjs';
import { Inbox, withTimeout } from './wait.mjs';

// The SDK needs a master key to authorize private-encrypted- channels; the server never sees it.
const ENCRYPTION_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export function serverSdk(server, app = server.app) {
  return new PusherServer({
    appId: app.id, key: app.key, secret: app.secret,
    host: server.host, port: String(server.port), useTLS: Boolean(server.tls),
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY,
    ...(server.tls && { agent: new https.Agent({ ca: server.tls.ca }) }),
  });
}

// A GET through the SDK (signed like an app server signs it); resolves the parsed JSON body.
export async function apiGet(server, path, params = {}, app = server.app) {
  const res = await serverSdk(server, app).get({ path, params });
  return res.json();
}

// pusher-js channelAuthorization.customHandler. `user` ({user_id, user_info}) is the presence
// identity; `tamper` rewrites the signed answer to simulate a broken auth endpoint.
function authorizer(sdk, app, { user, tamper = (a) => a } = {}) {
  return ({ socketId, channelName }, callback) => {
    try {
      const presence = channelName.startsWith('presence-');
      callback(null, tamper(channelName.includes('*')
        ? signPattern(app, socketId, channelName, presence ? user : undefined)
        : sdk.authorizeChannel(socketId, channelName, presence ? user : undefined)));
    } catch (err) {
      callback(err, null);
    }
  };
}

// The SDKs refuse to sign a wildcard pattern (their channel-name check excludes `*`), so an auth
// endpoint signs one with HMAC itself, exactly as a channel is signed (docs/channels.md).
function signPattern(app, socketId, pattern, user) {
  if (!user) return { auth: channelAuth(app, socketId, pattern) };
  const channelData = JSON.stringify(user);
  return { auth: channelAuth(app, socketId, pattern, channelData), channel_data: channelData };
}

// pusher-js userAuthentication.customHandler: signs `userData` ({id, user_info?, watchlist?})
// for the socket with the SDK's authenticateUser, as an app's /pusher/user-auth endpoint would.
function userAuthenticator(sdk, userData) {
  return ({ socketId }, callback) => {
    try {
      callback(null, sdk.authenticateUser(socketId, userData));
    } catch (err) {
      callback(err, null);
    }
  };
}

function pusherOptions(server, app, { signin, ...auth }) {
  const tls = Boolean(server.tls);
  const sdk = serverSdk(server, app);
  return {
    wsHost: server.host, wsPort: server.port, wssPort: server.port, forceTLS: tls,
    enabledTransports: ['ws'], cluster: 'mt1', disableStats: true, // 'ws' is the transport; forceTLS makes it wss
    channelAuthorization: { customHandler: authorizer(sdk, app, auth) },
    ...(signin && { userAuthentication: { customHandler: userAuthenticator(sdk, signin) } }),
  };
}

async function connected(server, pusher) {
  server.track(async () => pusher.disconnect());
  if (pusher.connection.state === 'connected') return pusher;
  await withTimeout(new Promise((resolve) => pusher.connection.bind('connected', resolve)), 'pusher-js to connect');
  return pusher;
}

// A connected pusher-js client. options: {app, user, tamper} (see authorizer), and `signin`, the
// user_data its sign-in endpoint answers with (see userAuthenticator; pusher.signin() uses it).
export function pusherClient(server, { app = server.app, ...auth } = {}) {
  return connected(server, new Pusher(app.key, pusherOptions(server, app, auth)));
}

// A pusher-js client on its way to connect, not awaited: for a test that watches it being refused
// and trying again.
export function connectingPusherClient(server, { app = server.app, ...auth } = {}) {
  const pusher = new Pusher(app.key, pusherOptions(server, app, auth));
  server.track(async () => pusher.disconnect());
  return pusher;
}

// A connected Laravel Echo 2 client on pusher-js (Echo hands its options to the Pusher class).
export async function echoClient(server, { app = server.app, ...auth } = {}) {
  const echo = new Echo({ broadcaster: 'pusher', key: app.key, Pusher, ...pusherOptions(server, app, auth) });
  await connected(server, echo.connector.pusher);
  return echo;
}

// An Inbox of what a client library hands a callback, e.g.
// inboxOf((cb) => channel.bind('my-event', cb)) or inboxOf((cb) => echoChannel.listen('.e', cb)).
export function inboxOf(register) {
  const inbox = new Inbox();
  register((data, metadata) => inbox.push({ data, metadata }));
  return inbox;
}

// Subscribes and waits for pusher:subscription_succeeded; resolves [channel, its data].
export async function subscribed(pusher, name) {
  const channel = pusher.subscribe(name);
  const { data } = await inboxOf((cb) => channel.bind('pusher:subscription_succeeded', cb)).take(undefined, `${name} subscribed`);
  return [channel, data];
}

// A pusher-js member of the presence channel `name`, signed as `user` ({user_id, user_info, …}):
// its client and channel, the Members it was given and their sorted ids, the member_added and
// member_removed events it hears, and the pusher:error frames of its connection.
export async function presenceMember(server, name, user) {
  const pusher = await pusherClient(server, { user });
  const errors = inboxOf((cb) => pusher.connection.bind('error', cb));
  const channel = pusher.subscribe(name);
  const added = inboxOf((cb) => channel.bind('pusher:member_added', cb));
  const removed = inboxOf((cb) => channel.bind('pusher:member_removed', cb));
  const { data: members } = await inboxOf((cb) => channel.bind('pusher:subscription_succeeded', cb)).take(undefined, `${name} joined`);
  const ids = [];
  members.each((m) => ids.push(m.id));
  return { pusher, channel, members, ids: ids.sort(), added, removed, errors };
}

// A pusher-js client the server refuses: resolves it once pusher-js has given up (state
// 'disconnected'), with the states it went through.
export async function refusedPusherClient(server, { app = server.app, ...auth } = {}) {
  const pusher = new Pusher(app.key, pusherOptions(server, app, auth));
  server.track(async () => pusher.disconnect());
  const states = [];
  await withTimeout(new Promise((resolve) => {
    pusher.connection.bind('state_change', ({ current }) => {
      states.push(current);
      if (current === 'disconnected') resolve();
    });
  }), 'pusher-js to give up');
  return { pusher, states };
}

// Runs `fn` with `params` added to the WebSocket URL of the pusher-js clients it opens: what an
// app does to hand Raptor a token (pusher-js has no option for it, so Runtime.createWebSocket
// is wrapped, in a browser as here).
export async function withUrlParams(params, fn) {
  const create = Pusher.Runtime.createWebSocket;
  Pusher.Runtime.createWebSocket = (url) => create.call(Pusher.Runtime, `${url}&${new URLSearchParams(params)}`);
  try {
    return await fn();
  } finally {
    Pusher.Runtime.createWebSocket = create;
  }
}

// docs/channels.md's way for a pusher-js app to read concrete_channel: pusher-js hands bind()
// callbacks the data only, so a listener on the socket itself reads the frames. Resolves `fn`'s
// pusher-js client; its wildcard frames go to the returned inbox.
export async function withWildcardFrames(fn) {
  const frames = new Inbox();
  const create = Pusher.Runtime.createWebSocket;
  Pusher.Runtime.createWebSocket = (url) => {
    const socket = create.call(Pusher.Runtime, url);
    socket.addEventListener('message', ({ data }) => {
      const frame = JSON.parse(data);
      if (frame.concrete_channel) frames.push(frame);
    });
    return socket;
  };
  try {
    return { client: await fn(), frames };
  } finally {
    Pusher.Runtime.createWebSocket = create;
  }
}

// Runs `fn` with the pusher-js clients it opens sending `headers` with their WebSocket requests
// (their reconnects too, while `fn` runs), e.g. the X-Forwarded-For a proxy in front of raptor adds.
export async function withHeaders(headers, fn) {
  const create = Pusher.Runtime.createWebSocket;
  Pusher.Runtime.createWebSocket = (url) => new (Pusher.Runtime.getWebSocketAPI())(url, [], { headers });
  try {
    return await fn();
  } finally {
    Pusher.Runtime.createWebSocket = create;
  }
}

// Runs `fn` with the pusher-js clients it opens sending `origin` as their Origin header, as a
// page of that origin in a browser does (pusher-js in Node sends none).
export const withOrigin = (origin, fn) => withHeaders({ Origin: origin }, fn);
