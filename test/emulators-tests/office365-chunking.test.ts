import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  O365_REPLIES,
  type Office365Smtp,
  startOffice365Smtp,
} from '../emulators/office365-smtp.ts';
import { PROTOCOL_SYNC_ERROR } from '../emulators/office365-transactions.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import { RawSmtpClient } from './raw-smtp-client.ts';

const SENDER = 'sender@contoso.test';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let tokens: TokenEndpoint;
let token: string;
beforeAll(async () => {
  tokens = await startTokenEndpoint();
  token = await tokens.issueToken();
});
afterAll(() => tokens.stop());

/** A raw client through STARTTLS and XOAUTH2; returns it and the EHLO reply after TLS. */
async function authenticated(smtp: Office365Smtp) {
  const { client } = await RawSmtpClient.open(smtp.port);
  await client.command('EHLO client.test');
  await client.startTls();
  const ehlo = await client.command('EHLO client.test');
  const auth = await client.command(
    `AUTH XOAUTH2 ${b64(`user=${SENDER}\x01auth=Bearer ${token}\x01\x01`)}`,
  );
  expect(auth).toBe(O365_REPLIES.authSuccess);
  return { client, ehlo };
}

async function replies(client: RawSmtpClient, n: number): Promise<string[]> {
  const all: string[] = [];
  for (let i = 0; i < n; i++) all.push(await client.reply());
  return all;
}

/** A message whose body would break DATA: a line that is a lone dot, a dot-led line, raw bytes. */
function trickyMessage(subject: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `From: ${SENDER}\r\nTo: a@fabrikam.test\r\nSubject: ${subject}\r\n\r\nline\r\n.\r\n`,
    ),
    Buffer.from('..dot-led\r\n'),
    Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
  ]);
}

const OK_AFTER_MESSAGE = /^250 2\.0\.0 OK \[Hostname=/;

describe('Office 365 SMTP emulator: CHUNKING and BINARYMIME', () => {
  let smtp: Office365Smtp;
  beforeAll(async () => {
    smtp = await startOffice365Smtp({ tokenEndpoint: tokens });
  });
  afterEach(() => smtp.reset());
  afterAll(() => smtp.stop());

  it('takes two pipelined BDAT LAST messages from one write, bytes exactly as sent', async () => {
    const { client } = await authenticated(smtp);
    const first = trickyMessage('first');
    const second = trickyMessage('second');
    client.write(
      Buffer.concat([
        Buffer.from(
          `MAIL FROM:<${SENDER}> BODY=BINARYMIME SIZE=${first.length}\r\nRCPT TO:<a@fabrikam.test>\r\nBDAT ${first.length} LAST\r\n`,
        ),
        first,
        Buffer.from(
          `RSET\r\nMAIL FROM:<${SENDER}>\r\nRCPT TO:<b@fabrikam.test>\r\nRCPT TO:<c@fabrikam.test>\r\nBDAT ${second.length} LAST\r\n`,
        ),
        second,
      ]),
    );
    const got = await replies(client, 8);
    expect(got.slice(0, 2)).toEqual([O365_REPLIES.senderOk, O365_REPLIES.recipientOk]);
    expect(got[2]).toMatch(OK_AFTER_MESSAGE);
    expect(got.slice(3, 7)).toEqual([
      '250 2.0.0 Resetting',
      O365_REPLIES.senderOk,
      O365_REPLIES.recipientOk,
      O365_REPLIES.recipientOk,
    ]);
    expect(got[7]).toMatch(OK_AFTER_MESSAGE);
    const messages = await smtp.waitForMessages(2);
    expect(messages.map((m) => [m.transfer, m.bodyType, m.subject, m.envelope.to])).toEqual([
      ['BDAT', 'binarymime', 'first', ['a@fabrikam.test']],
      ['BDAT', '7bit', 'second', ['b@fabrikam.test', 'c@fabrikam.test']],
    ]);
    expect(messages[0]!.raw.equals(first)).toBe(true);
    expect(messages[1]!.raw.equals(second)).toBe(true);
    expect(smtp.stats.protocolErrors).toBe(0);
    client.close();
  });

  it('assembles a message from several chunks, answering each one', async () => {
    const { client } = await authenticated(smtp);
    const message = trickyMessage('chunks');
    const cut = 20;
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe(O365_REPLIES.senderOk);
    expect(await client.command('RCPT TO:<a@fabrikam.test>')).toBe(O365_REPLIES.recipientOk);
    client.write(Buffer.concat([Buffer.from(`BDAT ${cut}\r\n`), message.subarray(0, cut)]));
    expect(await client.reply()).toBe(`250 2.0.0 ${cut} bytes received`);
    // A zero-length LAST chunk only ends the message (RFC 3030 allows it).
    client.write(
      Buffer.concat([
        Buffer.from(`BDAT ${message.length - cut}\r\n`),
        message.subarray(cut),
        Buffer.from('BDAT 0 LAST\r\n'),
      ]),
    );
    expect(await replies(client, 2)).toEqual([
      `250 2.0.0 ${message.length - cut} bytes received`,
      expect.stringMatching(OK_AFTER_MESSAGE),
    ]);
    const [received] = await smtp.waitForMessages(1);
    expect(received!.raw.equals(message)).toBe(true);
    client.close();
  });

  it('refuses BDAT and DATA out of order as Exchange does, reading the refused chunk', async () => {
    const { client } = await authenticated(smtp);
    const bad = O365_REPLIES.badSequence;
    // No sender yet: refused, and its 5 bytes (which look like a command) are skipped.
    client.write('BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n');
    expect(await replies(client, 2)).toEqual([bad, '250 2.0.0 OK']);
    // A sender but no recipient.
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe(O365_REPLIES.senderOk);
    client.write('BDAT 3 LAST\r\nabc');
    expect(await client.reply()).toBe(bad);
    // DATA in the middle of a chunked message; RSET drops the chunk.
    expect(await client.command('RCPT TO:<a@fabrikam.test>')).toBe(O365_REPLIES.recipientOk);
    client.write('BDAT 3\r\nabc');
    expect(await client.reply()).toBe('250 2.0.0 3 bytes received');
    expect(await client.command('DATA')).toBe(bad);
    expect(await client.command('RSET')).toBe('250 2.0.0 Resetting');
    // A BINARYMIME body cannot come with DATA.
    expect(await client.command(`MAIL FROM:<${SENDER}> BODY=BINARYMIME`)).toBe(
      O365_REPLIES.senderOk,
    );
    expect(await client.command('RCPT TO:<a@fabrikam.test>')).toBe(O365_REPLIES.recipientOk);
    expect(await client.command('DATA')).toBe(bad);
    expect(await client.command('BDAT many')).toBe(O365_REPLIES.invalidArguments);
    client.close();
    expect(smtp.stats.messages).toBe(0);
  });

  it('ends the session when a message body is sent before the 354', async () => {
    const { client } = await authenticated(smtp);
    client.write(
      `MAIL FROM:<${SENDER}>\r\nRCPT TO:<a@fabrikam.test>\r\nDATA\r\nSubject: early\r\n\r\nhi\r\n.\r\n`,
    );
    expect(await replies(client, 3)).toEqual([
      O365_REPLIES.senderOk,
      O365_REPLIES.recipientOk,
      PROTOCOL_SYNC_ERROR,
    ]);
    await client.waitClosed();
    expect(smtp.stats).toMatchObject({ protocolErrors: 1, messages: 0 });
  });
});

describe('Office 365 SMTP emulator without PIPELINING or CHUNKING', () => {
  let smtp: Office365Smtp;
  beforeAll(async () => {
    smtp = await startOffice365Smtp({ tokenEndpoint: tokens, pipelining: false, chunking: false });
  });
  afterEach(() => smtp.reset());
  afterAll(() => smtp.stop());

  it('offers neither, refuses BDAT and BINARYMIME, and takes one command at a time', async () => {
    const { client, ehlo } = await authenticated(smtp);
    expect(ehlo).not.toMatch(/PIPELINING|CHUNKING|BINARYMIME/);
    expect(ehlo).toMatch(/8BITMIME/);
    expect(await client.command('BDAT 0 LAST')).toBe(O365_REPLIES.unrecognizedCommand);
    expect(await client.command(`MAIL FROM:<${SENDER}> BODY=BINARYMIME`)).toMatch(/^501 /);
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe(O365_REPLIES.senderOk);
    expect(await client.command('RCPT TO:<a@fabrikam.test>')).toBe(O365_REPLIES.recipientOk);
    expect(await client.command('DATA')).toMatch(/^354 /);
    expect(await client.command('Subject: lock-step\r\n\r\nhi\r\n.')).toMatch(OK_AFTER_MESSAGE);
    expect(smtp.stats.protocolErrors).toBe(0);
    client.write(`MAIL FROM:<${SENDER}>\r\nRCPT TO:<a@fabrikam.test>\r\n`);
    expect(await client.reply()).toBe(PROTOCOL_SYNC_ERROR);
    await client.waitClosed();
    expect(smtp.stats.protocolErrors).toBe(1);
    expect((await smtp.waitForMessages(1)).map((m) => m.transfer)).toEqual(['DATA']);
  });
});

describe('Office 365 SMTP emulator behind the latency relay: server flights', () => {
  it('counts one flight per reply waited for: a pipelined group is one', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens, networkLatencyMs: 1 });
    try {
      const { client } = await RawSmtpClient.open(smtp.port);
      // Greeting, then EHLO: two flights.
      await client.command('EHLO client.test');
      expect(smtp.wire.serverFlights).toBe(2);
      // Three commands one at a time: three more.
      for (const command of ['NOOP', 'RSET', 'NOOP']) await client.command(command);
      expect(smtp.wire.serverFlights).toBe(5);
      // Three pipelined (PIPELINING allows RSET anywhere in a group; NOOP ends it): one more.
      client.write('RSET\r\nRSET\r\nNOOP\r\n');
      await replies(client, 3);
      expect(smtp.wire.serverFlights).toBe(6);
      client.close();
      smtp.reset();
      expect(smtp.wire.serverFlights).toBe(0);
    } finally {
      await smtp.stop();
    }
  });
});
