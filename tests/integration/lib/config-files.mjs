// raptor.rb files written for a test, in a temporary directory removed when the process exits.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'raptor-config-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

export function configFile(name, ruby) {
  const file = path.join(dir, name); // `name` may hold a folder: 'etc/raptor.rb'
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, ruby);
  return file;
}
