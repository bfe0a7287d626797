// What refusals must look like on the wire.
import assert from 'node:assert/strict';
import { DEFAULT_APP } from './raptor.mjs';
import { RawClient } from './ws-client.mjs';

// A fatal refusal: the close code, preceded by a pusher:error with the same code (the server can
// still send one in these cases, and clients of protocol < 6 only understand that).
export async function assertClosedWith(client, code) {
  assert.equal((await client.closed).code, code, 'close code');
  const errors = client.frames.pending((f) => f.event === 'pusher:error');
  assert.deepEqual(errors.map((f) => f.data?.code), [code], `one pusher:error ${code} before the close`);
  assert.equal(typeof errors[0].data.message, 'string');
}

// A refused subscribe: a non-fatal pusher:error with the code, plus a channel-scoped
// pusher:subscription_error that pusher-js and Echo hand to the app.

export const AUTH_ERROR = { code: 4304, type: 'AuthError', status: 401 };
// A subscription raptor.rb's policy refused (docs/protocol.md, 4304).
export const POLICY_REFUSED = { code: 4304, type: 'AuthError', status: 403 };
export const INVALID_CHANNEL = { code: 4303, type: 'InvalidChannel', status: 400 };
export const LIMIT_REACHED = { code: 4305, type: 'LimitReached', status: 403 };

export async function assertSubscribeRefused(client, channel, options, expected) {
  const { error, subscriptionError } = await client.subscribeRefused(channel, options, expected.code);
  assert.equal(typeof error.data.message, 'string', 'pusher:error data is an object with a message');
  const { type, status, code, error: text } = subscriptionError.data;
  assert.deepEqual({ type, status, code }, { type: expected.type, status: expected.status, code: expected.code });
  assert.equal(typeof text, 'string');
  await client.sync();
  assert.ok(client.isOpen, 'a refused subscribe leaves the connection open');
}

// `server` serves `app` (a client subscribes) and refuses the development app's key with 4001.
export async function assertServesOnly(server, app, why) {
  const client = await RawClient.connect(server, { app });
  await client.subscribe('served');
  const refused = await RawClient.open(server, `/app/${DEFAULT_APP.key}?protocol=7`);
  assert.equal((await refused.closed).code, 4001, why);
}
