import { createTransport } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  O365_REPLIES,
  type Office365Smtp,
  startOffice365Smtp,
} from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import { RawSmtpClient } from './raw-smtp-client.ts';

const SENDER = 'sender@contoso.test';
const NOT_FOUND =
  '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup';
const THREAD_LIMIT = '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let tokens: TokenEndpoint;
let token: string;
beforeAll(async () => {
  tokens = await startTokenEndpoint();
  token = await tokens.issueToken();
});
afterAll(() => tokens.stop());

/** A raw client that is through STARTTLS and XOAUTH2 as SENDER. */
async function authenticated(smtp: Office365Smtp): Promise<RawSmtpClient> {
  const { client } = await RawSmtpClient.open(smtp.port, smtp.secure);
  await client.command('EHLO client.test');
  if (!smtp.secure) await client.startTls();
  await client.command('EHLO client.test');
  const reply = await client.command(
    `AUTH XOAUTH2 ${b64(`user=${SENDER}\x01auth=Bearer ${token}\x01\x01`)}`,
  );
  expect(reply).toBe(O365_REPLIES.authSuccess);
  return client;
}

/** Sends one message on a raw session; returns the final reply (or the first refusal). */
async function sendRaw(client: RawSmtpClient, to = ['a@fabrikam.test'], n = 0): Promise<string> {
  const mail = await client.command(`MAIL FROM:<${SENDER}>`);
  if (!mail.startsWith('250')) return mail;
  for (const rcpt of to) {
    const reply = await client.command(`RCPT TO:<${rcpt}>`);
    if (!reply.startsWith('250')) return reply;
  }
  await client.command('DATA');
  return client.command(`From: ${SENDER}\r\nSubject: n${n}\r\n\r\nbody\r\n.`);
}

describe('Office 365 SMTP emulator limits', () => {
  let clock: number;
  let smtp: Office365Smtp;
  beforeAll(async () => {
    // Read after the file's beforeAll issued `token`: a clock from before its `nbf` (whole seconds)
    // makes the emulator refuse the token as not yet valid.
    clock = Date.now();
    smtp = await startOffice365Smtp({
      tokenEndpoint: tokens,
      now: () => clock,
      recipientsPerDay: 40,
    });
  });
  afterEach(() => smtp.reset());
  afterAll(() => smtp.stop());

  it('answers 421 4.4.2 to message 31 within a minute and disconnects; a minute later it sends again', async () => {
    const client = await authenticated(smtp);
    for (let i = 0; i < 30; i++) {
      expect(await sendRaw(client, ['a@fabrikam.test'], i)).toMatch(/^250 2\.0\.0 OK /);
      clock += 1_000;
    }
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe(O365_REPLIES.rateLimited);
    await client.waitClosed();
    expect(smtp.stats).toMatchObject({ messages: 30, rateLimited: 1, connections: 1 });

    clock += 30_001; // the first message leaves the sliding window
    const again = await authenticated(smtp);
    expect(await sendRaw(again)).toMatch(/^250 /);
    again.close();
  });

  it('refuses a message that would exceed the recipients-per-day quota', async () => {
    const client = await authenticated(smtp);
    const many = Array.from({ length: 30 }, (_, i) => `r${i}@fabrikam.test`);
    expect(await sendRaw(client, many)).toMatch(/^250 /);
    expect(await sendRaw(client, many.slice(0, 11))).toBe(O365_REPLIES.recipientQuotaExceeded);
    expect(await sendRaw(client, many.slice(0, 10))).toMatch(/^250 /);
    client.close();
  });
});

describe('Office 365 SMTP emulator per-message and concurrency limits', () => {
  let smtp: Office365Smtp;
  beforeAll(async () => {
    smtp = await startOffice365Smtp({
      tokenEndpoint: tokens,
      recipientsPerMessage: 2,
      connectionsPerMailbox: 2,
    });
  });
  afterAll(() => smtp.stop());

  it('answers 452 4.5.3 to recipients over the per-message limit and 552 5.3.4 to SIZE over 150 MB', async () => {
    const client = await authenticated(smtp);
    expect(await client.command(`MAIL FROM:<${SENDER}> SIZE=157286401`)).toBe(
      O365_REPLIES.messageTooBig,
    );
    await client.command(`MAIL FROM:<${SENDER}>`);
    await client.command('RCPT TO:<a@fabrikam.test>');
    await client.command('RCPT TO:<b@fabrikam.test>');
    expect(await client.command('RCPT TO:<c@fabrikam.test>')).toBe(O365_REPLIES.tooManyRecipients);
    client.close();
  });

  it('refuses MAIL on a mailbox connection beyond the concurrency limit, until an older one closes', async () => {
    const first = await authenticated(smtp);
    const second = await authenticated(smtp);
    const third = await authenticated(smtp);
    expect(await third.command(`MAIL FROM:<${SENDER}>`)).toBe(O365_REPLIES.concurrentConnections);
    expect(smtp.stats.concurrencyLimited).toBe(1);
    expect(await sendRaw(second)).toMatch(/^250 /);
    expect(await first.command('QUIT')).toBe(O365_REPLIES.quit);
    await first.waitClosed();
    await smtp.waitForOpenConnections(2);
    expect(await sendRaw(third)).toMatch(/^250 /);
    second.close();
    third.close();
  });
});

describe('Office 365 SMTP emulator scripted faults', () => {
  let smtp: Office365Smtp;
  beforeAll(async () => {
    smtp = await startOffice365Smtp({ tokenEndpoint: tokens });
  });
  afterEach(() => smtp.reset());
  afterAll(() => smtp.stop());

  function transport(options: Record<string, unknown> = {}) {
    return createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      requireTLS: true,
      tls: { servername: 'localhost' },
      auth: { type: 'OAuth2', user: SENDER, accessToken: token },
      ...options,
    });
  }
  const mail = { from: SENDER, to: 'a@fabrikam.test', text: 'x' };

  it('answers a scripted recipient with its reply, other recipients normally', async () => {
    smtp.rejectRecipient('gone@fabrikam.test', NOT_FOUND);
    const client = await authenticated(smtp);
    await client.command(`MAIL FROM:<${SENDER}>`);
    expect(await client.command('RCPT TO:<Gone@Fabrikam.test>')).toBe(NOT_FOUND);
    expect(await client.command('RCPT TO:<ok@fabrikam.test>')).toBe(O365_REPLIES.recipientOk);
    client.close();
  });

  it('fails the next N message ends with the scripted reply, then accepts again', async () => {
    smtp.failNextData(THREAD_LIMIT, 2);
    const client = await authenticated(smtp);
    expect(await sendRaw(client)).toBe(THREAD_LIMIT);
    expect(await sendRaw(client)).toBe(THREAD_LIMIT);
    expect(await sendRaw(client)).toMatch(/^250 /);
    client.close();
    expect(smtp.stats).toMatchObject({ messages: 1, rejectedMessages: 2 });
  });

  it('scripts replies at connect, MAIL and AUTH', async () => {
    smtp.failNext('connect', O365_REPLIES.serviceNotAvailable);
    const refused = await RawSmtpClient.open(smtp.port);
    expect(refused.greeting).toBe('421 4.3.2 Service not available');
    await refused.client.waitClosed();

    smtp.failNext('mail', THREAD_LIMIT);
    const client = await authenticated(smtp);
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe(THREAD_LIMIT);
    client.close();

    smtp.failNext('auth', '454 4.7.0 Temporary authentication failure');
    const err = await transport()
      .verify()
      .catch((e) => e);
    expect(err.response).toBe('454 4.7.0 Temporary authentication failure');
  });

  it('resets the connection mid-DATA: the client gets a socket error and nothing is recorded', async () => {
    smtp.dropNextData();
    const t = transport();
    const err = await t.sendMail(mail).catch((e) => e);
    t.close();
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toMatch(/^(ECONNECTION|ECONNRESET|ESOCKET)$/);
    expect(smtp.messages).toHaveLength(0);
    expect(smtp.stats.droppedMessages).toBe(1);
    const t2 = transport();
    await t2.sendMail(mail);
    t2.close();
    expect(smtp.messages).toHaveLength(1);
  });

  it('stalls a stage so a client with a socket timeout gives up', async () => {
    smtp.stallNext('rcpt', 20_000);
    // Idle timeout well above a TLS handshake on a loaded CI box, far below the stall.
    const t = transport({ socketTimeout: 1_000 });
    const err = await t.sendMail(mail).catch((e) => e);
    t.close();
    expect(err.code).toBe('ETIMEDOUT');
    expect(smtp.messages).toHaveLength(0);
  });

  it('keeps one session for several messages (counters show reuse)', async () => {
    const t = transport({ pool: true, maxConnections: 1 });
    await Promise.all([t.sendMail(mail), t.sendMail(mail), t.sendMail(mail)]);
    t.close();
    const messages = await smtp.waitForMessages(3);
    expect(new Set(messages.map((m) => m.connectionId)).size).toBe(1);
    expect(smtp.stats).toMatchObject({
      connections: 1,
      tlsHandshakes: 1,
      authSuccesses: 1,
      messages: 3,
    });
    expect(smtp.stats.commands).toMatchObject({ STARTTLS: 1, AUTH: 1, MAIL: 3, RCPT: 3, DATA: 3 });
  });

  it('waitForMessages rejects with what it has when the timeout passes', async () => {
    await expect(smtp.waitForMessages(1, 20)).rejects.toThrow(/0 of 1 messages after 20 ms/);
  });

  it('reset() clears messages, counters and faults', async () => {
    const t = transport();
    await t.sendMail(mail);
    t.close();
    smtp.failNextData(THREAD_LIMIT);
    smtp.rejectRecipient('a@fabrikam.test', NOT_FOUND);
    smtp.reset();
    expect(smtp.messages).toHaveLength(0);
    expect(smtp.stats.messages).toBe(0);
    const t2 = transport();
    await t2.sendMail(mail);
    t2.close();
    expect(smtp.stats.messages).toBe(1);
  });
});

describe('Office 365 SMTP emulator modes', () => {
  it('implicit TLS: TLS from the first byte, AUTH listed at once, resets work under TLS', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens, implicitTls: true });
    try {
      const { client: probe } = await RawSmtpClient.open(smtp.port, true);
      const ehlo = await probe.command('EHLO client.test');
      expect(ehlo).toContain('\n250-AUTH LOGIN XOAUTH2\n');
      expect(ehlo).not.toContain('STARTTLS');
      probe.close();
      const client = await authenticated(smtp);
      expect(await sendRaw(client)).toMatch(/^250 /);
      client.close();
      const t = createTransport({
        host: '127.0.0.1',
        port: smtp.port,
        secure: true,
        tls: { servername: 'localhost' },
        auth: { type: 'OAuth2', user: SENDER, accessToken: token },
      });
      await t.sendMail({ from: SENDER, to: 'a@fabrikam.test', text: 'x' });
      smtp.dropNextData();
      const err = await t
        .sendMail({ from: SENDER, to: 'a@fabrikam.test', text: 'x' })
        .catch((e) => e);
      t.close();
      expect(err.code).toMatch(/^(ECONNECTION|ECONNRESET|ESOCKET)$/);
      expect(smtp.stats).toMatchObject({ tlsHandshakes: 4, messages: 2, droppedMessages: 1 });
    } finally {
      await smtp.stop();
    }
  });

  it('startTls: false offers no STARTTLS; a TLS-requiring client sends no credential', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens, startTls: false });
    try {
      const { client } = await RawSmtpClient.open(smtp.port);
      const ehlo = await client.command('EHLO client.test');
      expect(ehlo).not.toMatch(/STARTTLS|AUTH/);
      expect(await client.command('STARTTLS')).toBe(O365_REPLIES.unrecognizedCommand);
      expect(await client.command('MAIL FROM:<a@b.test>')).toMatch(/^451 5\.7\.3 /);
      client.close();

      const t = createTransport({
        host: '127.0.0.1',
        port: smtp.port,
        requireTLS: true,
        auth: { type: 'OAuth2', user: SENDER, accessToken: token },
      });
      const err = await t.verify().catch((e) => e);
      t.close();
      expect(err).toBeInstanceOf(Error);
      expect(smtp.stats.insecureAuthAttempts).toBe(0);
      expect(smtp.stats.commands.AUTH).toBeUndefined();
    } finally {
      await smtp.stop();
    }
  });

  it('replyDelayMs holds every reply back by at least the delay', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens, replyDelayMs: 40 });
    try {
      const client = await authenticated(smtp);
      const started = performance.now();
      await client.command(`MAIL FROM:<${SENDER}>`);
      await client.command('RCPT TO:<a@fabrikam.test>');
      expect(performance.now() - started).toBeGreaterThanOrEqual(79);
      client.close();
    } finally {
      await smtp.stop();
    }
  });

  it('stop() closes open sessions and cancels pending stalls', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens });
    const client = await authenticated(smtp);
    smtp.stallNext('mail', 60_000);
    client.write(`MAIL FROM:<${SENDER}>\r\n`);
    await smtp.waitForStall();
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await smtp.stop();
    await client.waitClosed();
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(timersAfter).toBeLessThan(timersBefore);
  });
});
