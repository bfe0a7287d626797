// Raw TCP to the server, for bytes no HTTP or WebSocket client would send.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { waitFor, withTimeout } from './wait.mjs';

// Resolves {socket, reply, received}; `reply` resolves with everything the server sent once it
// closed, `received()` gives what it sent so far.
export async function tcp(server) {
  const socket = net.connect(server.port, server.host);
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (d) => { text += d.toString('latin1'); });
  socket.on('error', () => {}); // a reset is one acceptable way to refuse
  const reply = new Promise((resolve) => socket.once('close', () => resolve(text)));
  return { socket, reply, received: () => text };
}

// The complete HTTP/1.1 responses at the start of `text` ({status, headers, body}, header names in
// lower case), and what follows them. Bodies are framed by Content-Length; `bodyless(i)` says
// that the i-th answers a HEAD (a length but no body). Throws on bytes that are no response.
export function parseResponses(text, bodyless = () => false) {
  const responses = [];
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return { responses, rest: text };
    const [statusLine, ...fields] = text.slice(0, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
    const headers = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon).toLowerCase();
      headers[name] = headers[name] === undefined ? field.slice(colon + 1).trim() : `${headers[name]}, ${field.slice(colon + 1).trim()}`;
    }
    const status = Number(m[1]);
    const length = status < 200 || status === 204 || bodyless(responses.length) ? 0 : Number(headers['content-length'] ?? 0);
    if (text.length < end + 4 + length) return { responses, rest: text };
    responses.push({ status, headers, body: text.slice(end + 4, end + 4 + length) });
    text = text.slice(end + 4 + length);
  }
}

// A raw connection that speaks HTTP/1.1 by hand: send() bytes, await responses(n), and `closed`.
export class RawHttp {
  static async open(server) {
    const raw = new RawHttp();
    Object.assign(raw, await tcp(server));
    raw.closed = raw.reply.then(() => true);
    return raw;
  }

  send(bytes) { this.socket.write(bytes); }

  // The first `n` responses once they all arrived (more may follow).
  async responses(n, bodyless) {
    try {
      return await waitFor(() => {
        const { responses } = parseResponses(this.received(), bodyless);
        return responses.length >= n && responses;
      }, `${n} HTTP response(s)`);
    } catch (err) {
      err.message += `; received: ${JSON.stringify(this.received().slice(0, 400))}`;
      throw err;
    }
  }

  // Every response, once the server closed the connection.
  async all(bodyless) {
    await withTimeout(this.reply, 'the server to close the connection');
    const { responses, rest } = parseResponses(this.received(), bodyless);
    assert.equal(rest, '', 'nothing after the last whole response');
    return responses;
  }

  close() { this.socket.destroy(); }
}

// Sends `bytes`; the server must answer an error status or just close, not hang on to the socket.
export async function assertRejected(server, bytes, acceptable = /^HTTP\/1\.[01] [45]\d\d/) {
  const { socket, reply } = await tcp(server);
  socket.end(bytes);
  const text = await withTimeout(reply, 'the server to answer or close');
  if (text) assert.match(text, acceptable, 'an error answer, if anything');
}
