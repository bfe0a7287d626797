// Signs private and presence subscriptions for an app's auth endpoint, with Node's standard
// library only: for what the pusher package will not sign (wildcard patterns such as
// private-users.42.*, addresses such as /channels/private/…) or in its place.
//
// It refuses a socket_id that is not two integers joined by a dot, and a channel that is not a
// private or presence name or address, before signing. The app secret that signs
// "socket_id:channel" also signs HTTP API requests, so an endpoint that signs whatever a browser
// sends as socket_id signs API requests for it (docs/security.md#auth-endpoints).
//
//   import { authorizeChannel, AuthRefused } from './auth_signer.mjs';
//   app.post('/pusher/auth', (req, res) => {
//     const { socket_id, channel_name } = req.body;
//     if (!mayWatch(req.user, channel_name)) return res.status(403).end();
//     try { res.send(authorizeChannel(APP, socket_id, channel_name)); }
//     catch (e) { if (e instanceof AuthRefused) return res.status(400).end(); throw e; }
//   });
import { createHmac } from 'node:crypto';

export class AuthRefused extends Error {}

const SOCKET_ID = /^\d+\.\d+$/; // without the m flag, $ is the end of the string only
// Pusher's channel-name characters (A-Z a-z 0-9 _ - = @ , . ;), * for patterns, / in addresses.
const CHANNEL = /^(?:(?:private|presence)-[A-Za-z0-9_\-=@,.;*]+|\/channels\/(?:private|presence|privileged)\/[A-Za-z0-9_\-=@,.;*/]+)$/;
const MAX_CHANNEL_LENGTH = 200;

// { auth } for a private channel or pattern; { auth, channel_data } when given channelData (an
// object, or the JSON text), as presence channels take it. `app` is { key, secret }.
export function authorizeChannel(app, socketId, channel, channelData) {
  if (typeof socketId !== 'string' || !SOCKET_ID.test(socketId)) throw new AuthRefused('socket_id must look like 123.456');
  if (typeof channel !== 'string' || channel.length > MAX_CHANNEL_LENGTH || !CHANNEL.test(channel))
    throw new AuthRefused('channel must be a private- or presence- name or address of A-Z a-z 0-9 _ - = @ , . ; *');
  const data = channelData === undefined || typeof channelData === 'string' ? channelData : JSON.stringify(channelData);
  const text = data === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${data}`;
  const auth = `${app.key}:${createHmac('sha256', app.secret).update(text).digest('hex')}`;
  return data === undefined ? { auth } : { auth, channel_data: data };
}
