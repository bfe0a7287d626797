// Raw TCP to the server, for bytes no HTTP or WebSocket client would send.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { withTimeout } from './wait.mjs';

// Resolves {socket, reply}; `reply` resolves with everything the server sent once it closed.
export async function tcp(server) {
  const socket = net.connect(server.port, server.host);
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (d) => { text += d.toString('latin1'); });
  socket.on('error', () => {}); // a reset is one acceptable way to refuse
  const reply = new Promise((resolve) => socket.once('close', () => resolve(text)));
  return { socket, reply };
}

// Sends `bytes`; the server must answer an error status or just close, not hang on to the socket.
export async function assertRejected(server, bytes, acceptable = /^HTTP\/1\.[01] [45]\d\d/) {
  const { socket, reply } = await tcp(server);
  socket.end(bytes);
  const text = await withTimeout(reply, 'the server to answer or close');
  if (text) assert.match(text, acceptable, 'an error answer, if anything');
}
