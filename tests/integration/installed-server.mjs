// Used by scripts/package-test (not a test file of the suite): talks to an installed raptor the
// way an app does. A pusher-js client subscribes with the installation's key, the pusher SDK
// publishes through the signed HTTP API with its id and secret, and the client must receive it.
// After `--`, a command that publishes instead of the SDK (scripts/package-test: the installed
// `raptor publish`), which must exit 0.
//   node installed-server.mjs HOST PORT APP_ID KEY SECRET [-- COMMAND...]   exit 0 when the event arrived
import { execFileSync } from 'node:child_process';
import Pusher from 'pusher';
import PusherJs from 'pusher-js';
import { withTimeout } from './lib/wait.mjs';

const [host, port, appId, key, secret, separator, ...command] = process.argv.slice(2);
const client = new PusherJs(key, { wsHost: host, wsPort: Number(port), forceTLS: false,
                                   enabledTransports: ['ws'], cluster: 'raptor' });
try {
  const channel = client.subscribe('installed');
  await withTimeout(new Promise((resolve) => channel.bind('pusher:subscription_succeeded', resolve)),
                    'pusher-js to subscribe', 15000);
  const received = new Promise((resolve) => channel.bind('hello', resolve));
  if (separator === '--') {
    execFileSync(command[0], command.slice(1), { stdio: 'inherit' });
  } else {
    const sdk = new Pusher({ appId, key, secret, host, port, useTLS: false });
    await sdk.trigger('installed', 'hello', { from: 'scripts/package-test' });
  }
  const data = await withTimeout(received, 'the published event', 15000);
  console.log(`installed-server: received ${JSON.stringify(data)}`);
} finally {
  client.disconnect();
}
