// A throw-away self-signed certificate for 127.0.0.1, made with openssl: files for raptor
// (--tls-cert/--tls-key, or SSL_CERT_FILE to trust it) and the PEM bytes for node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'raptor-tls-'));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  after(() => rmSync(dir, { recursive: true, force: true })); // when the test file is done with it
  const cert = readFileSync(certFile);
  return { certFile, keyFile, cert, key: readFileSync(keyFile), ca: cert };
}
