/**
 * SMTP servers on 127.0.0.1 whose TLS is wrong in one way: only TLS 1.0/1.1, or a certificate that
 * is untrusted, expired, or issued for another name. The sender must take each for a configuration
 * error and send nothing (not even AUTH) over it.
 */
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { SMTPServer } from 'smtp-server';
import { CA_EXTENSIONS, issueCertificate, rsaKeyPair } from '../../lib/local/certificate-issuer.ts';
import { loadTestPki } from './test-pki.ts';

export type TlsFault = 'tls-1.1-only' | 'untrusted' | 'expired' | 'other-name';

export interface TlsFaultServer {
  port: number;
  /** The CA that issued the expired and other-name certificates (trust it to reach those checks). */
  caPem: string;
  /** Commands the server got after the TLS handshake (AUTH, MAIL, ...): must stay 0. */
  commandsAfterTls: number;
  stop(): Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;
let privateCa:
  | { pem: string; certificate: forge.pki.Certificate; keys: ReturnType<typeof rsaKeyPair> }
  | undefined;

/** A CA of these tests only (not the run's test CA), so its certificates are untrusted unless given. */
function testOnlyCa() {
  if (privateCa) return privateCa;
  const keys = rsaKeyPair();
  const certificate = issueCertificate({
    keys,
    commonName: 'tls-fault test CA',
    extensions: CA_EXTENSIONS,
    backdateMs: DAY,
    validMs: 30 * DAY,
  });
  privateCa = { pem: forge.pki.certificateToPem(certificate), certificate, keys };
  return privateCa;
}

function leaf(name: string, expired: boolean): { key: string; cert: string } {
  const ca = testOnlyCa();
  const keys = rsaKeyPair();
  const certificate = issueCertificate({
    keys,
    commonName: name,
    issuer: { certificate: ca.certificate, keys: ca.keys },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: name === '127.0.0.1' ? [{ type: 7, ip: name }] : [{ type: 2, value: name }],
      },
    ],
    // Expired: valid from ten days ago for one day.
    backdateMs: expired ? 10 * DAY : DAY,
    validMs: DAY * (expired ? 1 : 30),
  });
  return { key: keys.privatePem, cert: forge.pki.certificateToPem(certificate) };
}

function tlsOptions(fault: TlsFault) {
  const pki = loadTestPki();
  switch (fault) {
    case 'tls-1.1-only':
      // The run's trusted certificate, but TLS 1.0/1.1 only (OpenSSL needs security level 0 for them).
      return {
        key: pki.keyPem,
        cert: pki.certPem,
        minVersion: 'TLSv1' as const,
        maxVersion: 'TLSv1.1' as const,
        ciphers: 'DEFAULT@SECLEVEL=0',
      };
    case 'untrusted':
      return leaf('127.0.0.1', false);
    case 'expired':
      return leaf('127.0.0.1', true);
    case 'other-name':
      return leaf('mail.example.test', false);
  }
}

export async function startTlsFaultServer(
  fault: TlsFault,
  options: { implicitTls?: boolean } = {},
): Promise<TlsFaultServer> {
  let commandsAfterTls = 0;
  const server = new SMTPServer({
    ...tlsOptions(fault),
    secure: options.implicitTls ?? false,
    logger: false,
    authMethods: ['XOAUTH2', 'LOGIN'],
    onAuth(_auth, _session, callback) {
      commandsAfterTls++;
      callback(new Error('no AUTH expected over a broken TLS'));
    },
    onMailFrom(_address, _session, callback) {
      commandsAfterTls++;
      callback(new Error('no MAIL expected over a broken TLS'));
    },
  });
  // The handshake failures are the point; they must not end the test process.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    caPem: testOnlyCa().pem,
    get commandsAfterTls() {
      return commandsAfterTls;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
