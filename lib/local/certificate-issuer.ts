import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * The one place that makes throwaway X.509 certificates: the local pipeline's capture server and
 * the test PKI both need a CA and a server certificate for 127.0.0.1, ::1 and localhost.
 * Why a CA and not one self-signed certificate: OpenSSL is stricter about self-signed end-entity
 * certificates as trust anchors; a CA + leaf verifies the same way a public chain does.
 */

/** An RSA key pair, as PKCS#8 PEM and as the forge objects that sign certificates. */
export interface RsaKeyPair {
  privatePem: string;
  forgePublic: forge.pki.PublicKey;
  forgePrivate: forge.pki.rsa.PrivateKey;
}

// node:crypto generates RSA keys natively in milliseconds; forge's pure-JS keygen takes seconds.
export function rsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privatePem,
    forgePublic: forge.pki.publicKeyFromPem(publicPem),
    forgePrivate: forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey,
  };
}

/** Extensions of a CA certificate. */
export const CA_EXTENSIONS = [
  { name: 'basicConstraints', cA: true, critical: true },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  { name: 'subjectKeyIdentifier' },
];

/** Extensions of a TLS server certificate for this machine's loopback names. */
export const LOOPBACK_SERVER_EXTENSIONS = [
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
];

/** What {@link issueCertificate} needs. */
export interface CertificateRequest {
  /** The key pair the certificate is for. */
  keys: RsaKeyPair;
  commonName: string;
  /** The issuing CA and its keys; absent = self-signed (the CA itself). */
  issuer?: { certificate: forge.pki.Certificate; keys: RsaKeyPair };
  /** Validity starts this long ago, to absorb clock skew. */
  backdateMs: number;
  validMs: number;
  extensions: object[];
}

/** Builds and signs (SHA-256) one certificate. */
export function issueCertificate(request: CertificateRequest): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = request.keys.forgePublic;
  cert.serialNumber = serial();
  const notBefore = Date.now() - request.backdateMs;
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(notBefore + request.validMs);
  const subject = [{ name: 'commonName', value: request.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(request.issuer ? request.issuer.certificate.subject.attributes : subject);
  cert.setExtensions(request.extensions);
  cert.sign((request.issuer?.keys ?? request.keys).forgePrivate, forge.md.sha256.create());
  return cert;
}

/** A positive 16-byte serial (the leading bit cleared so DER does not read it as negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
