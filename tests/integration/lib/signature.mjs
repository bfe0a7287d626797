// Pusher signatures computed by hand, independently of the SDKs, so tests can also produce the
// subtly wrong ones (other channel, stale timestamp, unsorted params) that the server must refuse.
import { createHash, createHmac } from 'node:crypto';

export const hmacHex = (secret, text) => createHmac('sha256', secret).update(text).digest('hex');
export const md5Hex = (body) => createHash('md5').update(body).digest('hex');

// `auth` for a private-/presence- subscribe: "key:hex(HMAC(secret, socket_id:channel[:channel_data]))".
export function channelAuth(app, socketId, channel, channelData) {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${app.key}:${hmacHex(app.secret, text)}`;
}

// `auth` for pusher:signin: "key:hex(HMAC(secret, socket_id::user::user_data))".
export const userAuth = (app, socketId, userData) => `${app.key}:${hmacHex(app.secret, `${socketId}::user::${userData}`)}`;

// Query parameters of a signed HTTP API request (values unescaped in the signed string, keys
// sorted). `params` are the request's own query parameters; body_md5 is added for a body.
export function signedQuery(app, method, path, { params = {}, body = '', timestamp = nowSeconds() } = {}) {
  const query = { ...params, auth_key: app.key, auth_timestamp: String(timestamp), auth_version: '1.0' };
  if (body !== '') query.body_md5 = md5Hex(body);
  const signed = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&');
  query.auth_signature = hmacHex(app.secret, `${method}\n${path}\n${signed}`);
  return query;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
