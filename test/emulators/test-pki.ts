import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

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

interface KeyPair {
  privatePem: string;
  forgePublic: forge.pki.PublicKey;
  forgePrivate: forge.pki.rsa.PrivateKey;
}

// node:crypto generates RSA keys natively in milliseconds; forge's pure-JS keygen takes seconds.
function rsaKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privatePem,
    forgePublic: forge.pki.publicKeyFromPem(publicPem),
    forgePrivate: forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey,
  };
}

function newCertificate(
  keys: KeyPair,
  commonName: string,
  issuer: forge.pki.CertificateField[] | null,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  // Positive serial: a leading 0x01 keeps the DER INTEGER from being read as negative.
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + 7 * 24 * 60 * 60 * 1000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ?? subject);
  return cert;
}

function certDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** Generates the PKI into `dir` (created if missing) and returns it. Takes well under a second. */
export function createTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const caKeys = rsaKeyPair();
  const ca = newCertificate(caKeys, 'o365-mail-queue test CA', null);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.forgePrivate, forge.md.sha256.create());

  const serverKeys = rsaKeyPair();
  const server = newCertificate(serverKeys, 'localhost', ca.subject.attributes);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
        { type: 2, value: 'localhost' },
      ],
    },
  ]);
  server.sign(caKeys.forgePrivate, forge.md.sha256.create());

  const clientKeys = rsaKeyPair();
  const client = newCertificate(clientKeys, 'o365-mail-queue test client', ca.subject.attributes);
  client.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  client.sign(caKeys.forgePrivate, forge.md.sha256.create());

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
