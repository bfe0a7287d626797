// The raptor.rb that README.md shows first, run as written (extracted from README.md): a client
// that names itself admin in the URL gets no private-admin- channel without the app's signature.
import { it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { codeBlock } from './lib/doc-blocks.mjs';
import { AUTH_ERROR, POLICY_REFUSED, assertSubscribeRefused } from './lib/refusals.mjs';
import { serverSuite } from './lib/suite.mjs';
import { PUSHER_QUERY, RawClient } from './lib/ws-client.mjs';

const ruby = codeBlock('README.md', /^listen /);
const CHAT = { id: 'chat', key: 'chat-key', secret: 'readme-chat-secret-7f1d' };
const asAdmin = `${PUSHER_QUERY}&role=admin`;

// Flags override the file: the test listens on loopback and on a port of its own.
serverSuite('README.md\'s raptor.rb example', {
  apps: [CHAT], configVia: 'defaults', args: ['--config', configFile('readme.rb', ruby), '--host', '127.0.0.1'],
  env: { RAPTOR_CHAT_SECRET: CHAT.secret }, bystander: { app: CHAT },
}, (server, { stillServing }) => {
  it('refuses private-admin- to ?role=admin with a made-up signature', async () => {
    const client = await RawClient.connect(server, { app: CHAT, query: asAdmin });
    await assertSubscribeRefused(client, 'private-admin-secrets', { auth: `${CHAT.key}:${'0'.repeat(64)}` }, POLICY_REFUSED);
    await stillServing();
  });

  it('refuses it to a signed subscription without ?role=admin', async () => {
    const client = await RawClient.connect(server, { app: CHAT });
    await assertSubscribeRefused(client, 'private-admin-secrets', {}, POLICY_REFUSED);
  });

  it('grants it to a subscription the app signed, from a client with ?role=admin', async () => {
    const client = await RawClient.connect(server, { app: CHAT, query: asAdmin });
    await client.subscribe('private-admin-secrets'); // signed for this socket by default
  });

  it('leaves other private channels to the signature alone', async () => {
    const client = await RawClient.connect(server, { app: CHAT });
    await client.subscribe('private-orders');
    await assertSubscribeRefused(client, 'private-orders-2', { auth: `${CHAT.key}:${'0'.repeat(64)}` }, AUTH_ERROR);
  });
});
