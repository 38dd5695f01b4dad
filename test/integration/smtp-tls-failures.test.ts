/**
 * TLS that cannot be trusted is the sender's configuration, not a passing fault: a server offering
 * only TLS 1.0/1.1, or a certificate that is untrusted, expired or for another name, stops the batch
 * with the row's fix, and nothing (no AUTH, no MAIL) goes over such a connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SenderConfig } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { openSmtpSession, type SmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import {
  startTlsFaultServer,
  type TlsFault,
  type TlsFaultServer,
} from '../emulators/tls-fault-server.ts';

const SENDER = 'sender@contoso.com';
let server: TlsFaultServer | undefined;
let session: SmtpSession | undefined;
afterEach(async () => {
  await session?.close();
  await server?.stop();
});

function config(port: number, implicit: boolean): SenderConfig {
  return {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: SENDER,
    allowedFrom: [SENDER],
    smtp: {
      host: '127.0.0.1',
      port,
      tls: implicit ? 'implicit' : 'starttls',
      auth: 'password',
      allowPlaintext: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
    },
    password: 'mailbox-password',
  } as SenderConfig;
}

const cases: [TlsFault, RegExp, RegExp][] = [
  [
    'tls-1.1-only',
    /^Server offers only TLS older than 1\.2: .*protocol version/,
    /TLS 1\.2 or newer/,
  ],
  ['untrusted', /^Server certificate not trusted: /, /NODE_EXTRA_CA_CERTS/],
  ['expired', /^Server certificate expired: certificate has expired/, /Renew the certificate/],
  ['other-name', /^Server certificate is for another name: .*altnames/, /never an IP address/],
];

describe('TLS failures are configuration errors', () => {
  describe.each([
    ['STARTTLS', false],
    ['implicit TLS', true],
  ])('over %s', (_mode, implicit) => {
    it.each(cases)('%s', async (fault, reason, fix) => {
      server = await startTlsFaultServer(fault, { implicitTls: implicit });
      // The expired and other-name certificates come from a CA the session is told to trust, so
      // what fails is the date or the name, not the chain.
      const trust =
        fault === 'expired' || fault === 'other-name' ? { tls: { ca: server.caPem } } : {};
      session = openSmtpSession(config(server.port, implicit), {}, trust);
      const mime = await composeMime({
        from: SENDER,
        to: 'ann@example.com',
        subject: 'x',
        text: 'y',
      });
      const first = await session.send(mime);
      expect(first).toMatchObject({ kind: 'config', reason: expect.stringMatching(reason) });
      expect(first.kind === 'config' && first.fix).toMatch(fix);
      // The batch stops: the next message does not touch the network again.
      expect(await session.send(mime)).toBe(first);
      expect(session.stats.connections).toBe(1);
      expect(server.commandsAfterTls).toBe(0);
    });
  });
});
