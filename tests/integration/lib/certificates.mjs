// Throw-away certificates made with openssl when a test file runs (no private key is committed):
// a self-signed one for 127.0.0.1 (or the subjectAltNames given, e.g. ['DNS:hooks.raptor.test']),
// and a private certificate authority that issues leaves, valid or expired. Each gives files
// for raptor (--tls-cert/--tls-key, or SSL_CERT_FILE, a webhook's ca= or rediss://…?ca= to trust
// it) and the PEM bytes for node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

function scratchDirectory() {
  const dir = mkdtempSync(join(tmpdir(), 'raptor-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true })); // when the test file is done with it
  return dir;
}

const openssl = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
const subjectOf = (altNames) => `/CN=${altNames[0].replace(/^\w+:/, '')}`;
const filesOf = (certFile, keyFile) => {
  const cert = readFileSync(certFile);
  return { certFile, keyFile, cert, key: readFileSync(keyFile), ca: cert };
};

// keyType 'ec': a P-256 key instead of RSA.
export function selfSignedCertificate(altNames = ['IP:127.0.0.1'], { keyType = 'rsa' } = {}) {
  const dir = scratchDirectory();
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const key = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  openssl(['req', '-x509', ...key, '-nodes', '-days', '2', '-subj', subjectOf(altNames),
    '-addext', `subjectAltName=${altNames.join(',')}`, '-keyout', keyFile, '-out', certFile]);
  return filesOf(certFile, keyFile);
}

// A CA of the test's own: `certFile` to trust it; issue() gives a leaf it signed, for
// `altNames`, valid for two days or (expired: true) expired since yesterday.
export function certificateAuthority(name = 'Raptor test CA') {
  const dir = scratchDirectory();
  const [certFile, keyFile] = [join(dir, 'ca.pem'), join(dir, 'ca-key.pem')];
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', keyFile, '-out', certFile]);
  let issued = 0;
  return {
    certFile,
    ca: readFileSync(certFile),
    issue(altNames = ['IP:127.0.0.1'], { expired = false } = {}) {
      const base = join(dir, `leaf-${++issued}`);
      const [leafCert, leafKey, extensions] = [`${base}.pem`, `${base}-key.pem`, `${base}.ext`];
      writeFileSync(extensions, `subjectAltName=${altNames.join(',')}\n`);
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subjectOf(altNames), '-keyout', leafKey, '-out', `${base}.csr`]);
      // -days -1: notAfter a day before notBefore (now), so it has expired.
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', certFile, '-CAkey', keyFile, '-set_serial', String(1000 + issued),
        '-days', expired ? '-1' : '2', '-extfile', extensions, '-out', leafCert]);
      return filesOf(leafCert, leafKey);
    },
  };
}
