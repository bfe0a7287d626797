// A hosts file of the test's own, handed to raptor as CARES_HOSTS (c-ares, raptor's resolver,
// reads it instead of /etc/hosts), so a test can give names to its local receivers and Redis
// servers, and move a name to another address, without touching the machine's /etc/hosts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export class HostsFile {
  // entries: {name: address}
  constructor(entries = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'raptor-hosts-'));
    this.path = join(dir, 'hosts');
    after(() => rmSync(dir, { recursive: true, force: true }));
    this.write(entries);
  }

  // Replaces the file's entries: raptor's next lookup sees them.
  write(entries) {
    writeFileSync(this.path, Object.entries(entries).map(([name, address]) => `${address} ${name}\n`).join(''));
  }

  get env() { return { CARES_HOSTS: this.path }; }
}
