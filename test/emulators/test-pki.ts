import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import {
  CA_EXTENSIONS,
  issueCertificate,
  LOOPBACK_SERVER_EXTENSIONS,
  rsaKeyPair,
} from '../../lib/local/certificate-issuer.ts';

/** A throwaway PKI for tests: one CA, a server certificate for 127.0.0.1/::1/localhost, a client certificate. */
export interface TestPki {
  /** Directory holding the PEM files. */
  dir: string;
  /** Path of the CA certificate (what NODE_EXTRA_CA_CERTS points at). */
  caFile: string;
  caPem: string;
  /** Server certificate (SAN: 127.0.0.1, ::1, localhost), signed by the CA. */
  certPem: string;
  /** PKCS#8 private key of the server certificate. */
  keyPem: string;
  /** Client certificate for the MSAL certificate credential (client_assertion). */
  clientCertPem: string;
  /** PKCS#8 private key of the client certificate. */
  clientKeyPem: string;
  /** Hex SHA-256 of the client certificate's DER (MSAL `clientCertificate.thumbprintSha256`). */
  clientThumbprintSha256: string;
}

/** Environment variable naming the PKI directory written by `test/global-setup.ts`. */
export const TEST_PKI_DIR_ENV = 'O365_TEST_PKI_DIR';

const FILES = {
  ca: 'ca.pem',
  cert: 'server-cert.pem',
  key: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
} as const;

function certDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** Generates the PKI into `dir` (created if missing) and returns it. Takes well under a second. */
export function createTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const lifetime = { backdateMs: 60 * 60 * 1000, validMs: 7 * 24 * 60 * 60 * 1000 };
  const caKeys = rsaKeyPair();
  const ca = issueCertificate({
    keys: caKeys,
    commonName: 'o365-mail-queue test CA',
    extensions: CA_EXTENSIONS,
    ...lifetime,
  });
  const issuer = { certificate: ca, keys: caKeys };
  const serverKeys = rsaKeyPair();
  const server = issueCertificate({
    keys: serverKeys,
    commonName: 'localhost',
    issuer,
    extensions: LOOPBACK_SERVER_EXTENSIONS,
    ...lifetime,
  });
  const clientKeys = rsaKeyPair();
  const client = issueCertificate({
    keys: clientKeys,
    commonName: 'o365-mail-queue test client',
    issuer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
    ...lifetime,
  });

  const pki: TestPki = {
    dir,
    caFile: join(dir, FILES.ca),
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(server),
    keyPem: serverKeys.privatePem,
    clientCertPem: forge.pki.certificateToPem(client),
    clientKeyPem: clientKeys.privatePem,
    clientThumbprintSha256: createHash('sha256').update(certDer(client)).digest('hex'),
  };
  writeFileSync(pki.caFile, pki.caPem);
  writeFileSync(join(dir, FILES.cert), pki.certPem);
  writeFileSync(join(dir, FILES.key), pki.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, FILES.clientCert), pki.clientCertPem);
  writeFileSync(join(dir, FILES.clientKey), pki.clientKeyPem, { mode: 0o600 });
  return pki;
}

function readTestPki(dir: string): TestPki {
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const clientCertPem = read(FILES.clientCert);
  const der = certDer(forge.pki.certificateFromPem(clientCertPem));
  return {
    dir,
    caFile: join(dir, FILES.ca),
    caPem: read(FILES.ca),
    certPem: read(FILES.cert),
    keyPem: read(FILES.key),
    clientCertPem,
    clientKeyPem: read(FILES.clientKey),
    clientThumbprintSha256: createHash('sha256').update(der).digest('hex'),
  };
}

let cached: TestPki | undefined;

/**
 * The run's test PKI: read from `O365_TEST_PKI_DIR` (set by `test/global-setup.ts`), else generated
 * once per process into a temp dir. In the latter case the process does NOT trust the CA
 * (NODE_EXTRA_CA_CERTS is read only at start-up): pass `caPem` as `ca`, or start children with
 * `NODE_EXTRA_CA_CERTS=<caFile>`.
 */
export function loadTestPki(): TestPki {
  if (cached) return cached;
  const dir = process.env[TEST_PKI_DIR_ENV];
  cached =
    dir && existsSync(join(dir, FILES.ca))
      ? readTestPki(dir)
      : createTestPki(mkdtempSync(join(tmpdir(), 'o365-test-pki-')));
  return cached;
}
