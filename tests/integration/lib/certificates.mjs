// A throw-away self-signed certificate for 127.0.0.1 (or the subjectAltNames given, e.g.
// ['DNS:hooks.raptor.test']), made with openssl: files for raptor (--tls-cert/--tls-key, or
// SSL_CERT_FILE or rediss://…?ca= to trust it) and the PEM bytes for node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function selfSignedCertificate(altNames = ['IP:127.0.0.1']) {
  const dir = mkdtempSync(join(tmpdir(), 'raptor-tls-'));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${altNames[0].replace(/^\w+:/, '')}`,
    '-addext', `subjectAltName=${altNames.join(',')}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  after(() => rmSync(dir, { recursive: true, force: true })); // when the test file is done with it
  const cert = readFileSync(certFile);
  return { certFile, keyFile, cert, key: readFileSync(keyFile), ca: cert };
}
