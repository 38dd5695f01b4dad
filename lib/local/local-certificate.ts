import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import {
  CA_EXTENSIONS,
  issueCertificate,
  LOOPBACK_SERVER_EXTENSIONS,
  rsaKeyPair,
} from './certificate-issuer.ts';

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
  const lifetime = { backdateMs: 60_000, validMs: VALID_DAYS * 24 * 3600 * 1000 };
  const caKeys = rsaKeyPair();
  const ca = issueCertificate({
    keys: caKeys,
    commonName: 'o365-mail-queue local CA',
    extensions: CA_EXTENSIONS,
    ...lifetime,
  });
  const serverKeys = rsaKeyPair();
  const cert = issueCertificate({
    keys: serverKeys,
    commonName: 'localhost',
    issuer: { certificate: ca, keys: caKeys },
    extensions: LOOPBACK_SERVER_EXTENSIONS,
    ...lifetime,
  });
  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: serverKeys.privatePem,
  };
}
