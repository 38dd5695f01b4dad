import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** A throwaway local CA and a server certificate it signed, as PEM files on disk. */
export interface LocalCertificate {
  /** The CA certificate to trust (for `NODE_EXTRA_CA_CERTS`). */
  caFile: string;
  certPem: string;
  keyPem: string;
}

const CA_FILE = 'local-ca.pem';
const CERT_FILE = 'capture-server.pem';
const KEY_FILE = 'capture-server-key.pem';
const VALID_DAYS = 30;
/** Regenerate when less than this is left, so a long `npm start` never outlives its certificate. */
const RENEW_BEFORE_MS = 2 * 24 * 3600 * 1000;

/**
 * Returns the local capture server's certificate from `dir`, generating a fresh CA + server
 * certificate (valid for 127.0.0.1, ::1 and localhost) when none is there or it is about to expire.
 * Why a CA and not one self-signed certificate: OpenSSL is stricter about self-signed end-entity
 * certificates as trust anchors; a CA + leaf verifies the same way a public chain does.
 */
export function ensureLocalCertificate(dir: string): LocalCertificate {
  const caFile = join(dir, CA_FILE);
  const certFile = join(dir, CERT_FILE);
  const keyFile = join(dir, KEY_FILE);
  if (existsSync(caFile) && existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const notAfter = forge.pki.certificateFromPem(certPem).validity.notAfter.getTime();
    if (notAfter - Date.now() > RENEW_BEFORE_MS) {
      return { caFile, certPem, keyPem: readFileSync(keyFile, 'utf8') };
    }
  }
  const generated = generateCertificates();
  mkdirSync(dir, { recursive: true });
  writeFileSync(caFile, generated.caPem);
  writeFileSync(certFile, generated.certPem);
  writeFileSync(keyFile, generated.keyPem, { mode: 0o600 });
  return { caFile, certPem: generated.certPem, keyPem: generated.keyPem };
}

function generateCertificates(): { caPem: string; certPem: string; keyPem: string } {
  // Keys come from node:crypto (native, milliseconds); forge only builds and signs the X.509 structures.
  const caKeys = rsaKeyPair();
  const serverKeys = rsaKeyPair();
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + VALID_DAYS * 24 * 3600 * 1000);

  const caName = [{ name: 'commonName', value: 'o365-mail-queue local CA' }];
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = now;
  ca.validity.notAfter = until;
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const cert = forge.pki.createCertificate();
  cert.publicKey = serverKeys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = now;
  cert.validity.notAfter = until;
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
  };
}

function rsaKeyPair(): {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
} {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
  };
}

/** A positive 16-byte serial (the leading bit cleared so DER does not read it as negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
