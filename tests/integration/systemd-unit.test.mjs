// packaging/raptor.service as README and the unit's own comments promise: systemd accepts it,
// its ExecReload is a reload that keeps connections, and systemd would not kill a default drain.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { configFile } from './lib/config-files.mjs';
import { BIN, Raptor } from './lib/raptor.mjs';
import { RawClient } from './lib/ws-client.mjs';

const run = promisify(execFile);
const UNIT = fileURLToPath(new URL('../../packaging/raptor.service', import.meta.url));
const unit = readFileSync(UNIT, 'utf8');
const setting = (name) => unit.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];

describe('packaging/raptor.service', () => {
  it('passes systemd-analyze verify (with ExecStart pointed at this build)', async () => {
    assert.equal(setting('ExecStart'), '/usr/bin/raptor');
    // verify checks that ExecStart exists: the copy names the binary under test instead.
    const copy = path.join(path.dirname(configFile('unit/placeholder', '')), 'raptor.service');
    writeFileSync(copy, unit.replace(/^ExecStart=\/usr\/bin\/raptor/m, `ExecStart=${BIN}`));
    // --man=no: Documentation= names raptor(8), which exists once the package is installed.
    const { stdout, stderr } = await run('systemd-analyze', ['verify', '--man=no', copy]);
    assert.equal(`${stdout}${stderr}`.split('\n').filter((l) => l.includes('raptor.service')).join('\n'), '');
  });

  it('is Type=notify: systemd waits for the READY=1 raptor sends once it listens (service-manager.test.mjs)', () => {
    assert.equal(setting('Type'), 'notify');
  });

  it('stops after the longest default drain: TimeoutStopSec above drain (10 s) + 20 s', () => {
    assert.ok(Number(setting('TimeoutStopSec')) > 10 + 20, `TimeoutStopSec=${setting('TimeoutStopSec')}`);
  });

  describe('ExecReload (systemctl reload raptor)', () => {
    const file = configFile('unit-reload.rb', 'app "unit", key: "unit-key", secret: "unit-secret-2b4e", client_events: false\n');
    const app = { id: 'unit', key: 'unit-key', secret: 'unit-secret-2b4e' };
    const server = new Raptor({ apps: [app], configVia: 'defaults', args: ['--config', file] });
    before(() => server.start());
    after(async () => {
      await server.closeClients();
      assert.deepEqual(server.problems(await server.stop()), []);
    });

    it('reads raptor.rb again and keeps the clients connected', async () => {
      const client = await RawClient.connect(server, { app });
      await client.subscribe('kept');
      writeFileSync(file, 'app "unit", key: "unit-key", secret: "unit-secret-2b4e", client_events: true\n');
      const reloads = () => server.stderr.match(/reload: done/g)?.length ?? 0;
      const before = reloads();
      // What systemd runs, with $MAINPID as it sets it.
      await run('sh', ['-c', setting('ExecReload')], { env: { ...process.env, MAINPID: String(server.child.pid) } });
      await server.logged(new RegExp(`(reload: done[^]*){${before + 1}}`), 'the reload to be done');
      assert.equal(reloads(), before + 1);
      assert.ok(client.isOpen, 'the client stayed connected');
      await client.subscribe('after-reload');
    });
  });
});
