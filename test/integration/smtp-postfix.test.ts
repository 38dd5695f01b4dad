/**
 * The SMTP transaction layer against a real Postfix (Debian's package; see
 * test/emulators/postfix-server.ts), in the three ways a server can take messages: CHUNKING and
 * PIPELINING, PIPELINING only, neither. Postfix runs with `smtpd_forbid_unauth_pipelining` and
 * `smtpd_forbid_bare_newline`, so a client that pipelines out of turn or sends bare LFs is
 * disconnected, which these tests would see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SenderConfig } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { openSmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import {
  type PostfixOptions,
  type PostfixServer,
  skipWithoutPostfix,
  startPostfix,
} from '../emulators/postfix-server.ts';
import { RawSmtpClient } from '../emulators-tests/raw-smtp-client.ts';

const SENDER = 'sender@contoso.com';
const NOBODY = 'nobody@example.com';
const NO_SUCH_USER = '550 5.1.1 no such user';

function configFor(server: PostfixServer): SenderConfig {
  return {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: SENDER,
    allowedFrom: [SENDER],
    smtp: {
      host: server.host,
      port: server.port,
      tls: 'starttls',
      // Postfix lets 127.0.0.1 relay (mynetworks); TLS is still required by the client.
      auth: 'none',
      allowPlaintext: false,
      connectionTimeoutMs: 10_000,
      greetingTimeoutMs: 10_000,
      socketTimeoutMs: 10_000,
    },
  };
}

const mail = (n: number, to: string | string[] = `rcpt-${n}@example.com`) =>
  composeMime({
    from: SENDER,
    to,
    subject: `postfix ${n}`,
    // Bare LFs, a lone dot and a dot-led line: DATA must stuff, both must send CRLF.
    text: `line one\n.\n.dot-led\nlast line ${n}`,
  });

/**
 * Postfix counts each command at disconnect (`bdat=4/5`: 5 sent, 4 accepted). The message whose
 * recipients were all refused: with BDAT and with pipelined DATA its BDAT/DATA was refused and the
 * next message starts with RSET; one command at a time, it never gets that far.
 */
const MODES: { name: string; options: PostfixOptions; commands: RegExp }[] = [
  {
    name: 'CHUNKING and PIPELINING',
    options: {},
    commands: / mail=5 rcpt=4\/6 bdat=4\/5 rset=\d+ /,
  },
  {
    name: 'PIPELINING only',
    options: { chunking: false },
    commands: / mail=5 rcpt=4\/6 data=4\/5 rset=1 /,
  },
  {
    name: 'neither',
    options: { chunking: false, pipelining: false },
    commands: / mail=5 rcpt=4\/6 data=4 rset=1 /,
  },
];

describe.skipIf(skipWithoutPostfix()).each(MODES)(
  'against Postfix offering $name',
  ({ options, commands }) => {
    let postfix: PostfixServer;
    beforeAll(async () => {
      postfix = await startPostfix({
        ...options,
        networkLatencyMs: 1,
        refuseRecipients: { [NOBODY]: NO_SUCH_USER },
      });
    }, 60_000);
    afterAll(() => postfix?.stop());

    it('sends a batch whose messages overlap; a refused one fails alone; Postfix sees no protocol error', async () => {
      const session = openSmtpSession(configFor(postfix), {});
      const mimes = await Promise.all([
        mail(1),
        mail(2, NOBODY),
        mail(3, [NOBODY, 'rcpt-3@example.com']),
        mail(4),
        mail(5),
      ]);
      const outcomes = await Promise.all(mimes.map((mime) => session.send(mime)));
      await session.close();

      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'rejected', 'sent', 'sent', 'sent']);
      expect(outcomes[1]).toMatchObject({
        reply: { code: 550, enhanced: '5.1.1', command: 'RCPT TO' },
      });
      expect(outcomes[2]).toMatchObject({
        accepted: ['rcpt-3@example.com'],
        refused: [{ recipient: NOBODY, kind: 'rejected' }],
      });
      const taken = await postfix.waitForDelivered(4);
      expect(taken.recipients.sort()).toEqual([
        'rcpt-1@example.com',
        'rcpt-3@example.com',
        'rcpt-4@example.com',
        'rcpt-5@example.com',
      ]);
      expect(taken.messageIds.sort()).toEqual([0, 2, 3, 4].map((i) => mimes[i]!.messageId).sort());
      const log = postfix.log();
      expect(log).toMatch(new RegExp(`disconnect from .*${commands.source}`));
      expect(log).not.toMatch(/improper command pipelining|bare <LF>|protocol synchronization/i);
      // Nothing left the machine: discard took every recipient, no SMTP client ever ran.
      expect(log).not.toMatch(/postfix\/(smtp|lmtp|local|virtual)\[/);
      expect(log.match(/status=sent \(the test server delivers nothing\)/g)).toHaveLength(4);
    });
  },
);

describe.skipIf(skipWithoutPostfix())('the Postfix the tests run against', () => {
  let postfix: PostfixServer;
  beforeAll(async () => {
    postfix = await startPostfix();
  }, 60_000);
  afterAll(() => postfix?.stop());

  it('disconnects a client that sends a body before the 354 (so the tests above would see one)', async () => {
    const { client } = await RawSmtpClient.open(postfix.port);
    expect(await client.command('EHLO client.test')).toMatch(/PIPELINING/);
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<a@example.com>')).toMatch(/^250 /);
    client.write('DATA\r\nSubject: early\r\n\r\nhi\r\n.\r\n');
    expect(await client.reply()).toBe('554 5.5.0 Error: SMTP protocol synchronization');
    await client.waitClosed();
    expect(postfix.log()).toMatch(/improper command pipelining after DATA/);
  });
});
