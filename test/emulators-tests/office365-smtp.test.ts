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
const b64 = (s: string) => Buffer.from(s).toString('base64');
const xoauth2 = (user: string, token: string) =>
  b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);

describe('Office 365 SMTP emulator', () => {
  let tokens: TokenEndpoint;
  let smtp: Office365Smtp;

  beforeAll(async () => {
    tokens = await startTokenEndpoint();
    smtp = await startOffice365Smtp({
      tokenEndpoint: tokens,
      mailboxes: {
        [SENDER]: { password: 'pw', sendAs: ['noreply@contoso.test'] },
        'disabled@contoso.test': { password: 'pw', smtpAuthDisabled: true },
        'nobasic@contoso.test': { password: 'pw', basicAuthDisabled: true },
        'restricted@contoso.test': { allowedApps: ['other-app'] },
      },
    });
  });
  afterEach(() => smtp.reset());
  afterAll(async () => {
    await smtp.stop();
    await tokens.stop();
  });

  function transport(auth: Record<string, unknown>) {
    return createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      requireTLS: true,
      tls: { servername: 'localhost' },
      auth,
    });
  }

  async function sendWithToken(token: string, from = SENDER, user = SENDER) {
    const t = transport({ type: 'OAuth2', user, accessToken: token });
    try {
      return await t.sendMail({ from, to: 'rcpt@fabrikam.test', subject: 'Hello ✓', text: 'hi' });
    } finally {
      t.close();
    }
  }

  it('greets and lists EHLO like smtp.office365.com, AUTH only after STARTTLS', async () => {
    const { client, greeting } = await RawSmtpClient.open(smtp.port);
    expect(greeting).toMatch(
      /^220 EM1P282CA\d{4}\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000 \[[0-9A-F]{16}\]$/,
    );
    const host = greeting.split(' ')[1];
    expect(await client.command('EHLO client.test')).toBe(
      [
        `250-${host} Hello [127.0.0.1]`,
        '250-SIZE 157286400',
        '250-PIPELINING',
        '250-DSN',
        '250-ENHANCEDSTATUSCODES',
        '250-STARTTLS',
        '250-8BITMIME',
        '250-BINARYMIME',
        '250-CHUNKING',
        '250 SMTPUTF8',
      ].join('\n'),
    );
    expect(await client.command(`AUTH XOAUTH2 ${xoauth2(SENDER, 'x')}`)).toBe(
      O365_REPLIES.unrecognizedAuth,
    );
    expect(await client.command('MAIL FROM:<sender@contoso.test>')).toMatch(
      /^451 5\.7\.3 STARTTLS is required to send mail \[EM1P282CA\d{4}\.EMUP282\.PROD\.OUTLOOK\.COM \S+Z [0-9A-F]{16}\]$/,
    );
    expect(await client.startTls()).toBe('220 2.0.0 SMTP server ready');
    expect(await client.command('EHLO client.test')).toBe(
      [
        `250-${host} Hello [127.0.0.1]`,
        '250-SIZE 157286400',
        '250-PIPELINING',
        '250-DSN',
        '250-ENHANCEDSTATUSCODES',
        '250-AUTH LOGIN XOAUTH2',
        '250-8BITMIME',
        '250-BINARYMIME',
        '250-CHUNKING',
        '250 SMTPUTF8',
      ].join('\n'),
    );
    expect(await client.command('AUTH PLAIN')).toBe('504 5.7.4 Unrecognized authentication type');
    expect(await client.command('MAIL FROM:<sender@contoso.test>')).toBe(
      '530 5.7.57 Client not authenticated to send mail.',
    );
    expect(await client.command('QUIT')).toBe('221 2.0.0 Service closing transmission channel');
    client.close();
    expect(smtp.stats.insecureAuthAttempts).toBe(1);
    expect(smtp.stats.tlsHandshakes).toBe(1);
    expect(smtp.stats.commands.EHLO).toBe(2);
  });

  it('answers HELO, NOOP, RSET, unknown commands and bad sequences in Office 365 wording', async () => {
    const { client, greeting } = await RawSmtpClient.open(smtp.port);
    expect(await client.command('MAIL FROM:<a@b.test>')).toBe('503 5.5.2 Send hello first');
    expect(await client.command('HELO client.test')).toBe(
      `250 ${greeting.split(' ')[1]} Hello [127.0.0.1]`,
    );
    expect(await client.command('NOOP')).toBe('250 2.0.0 OK');
    expect(await client.command('RSET')).toBe('250 2.0.0 Resetting');
    expect(await client.command('FOO')).toBe('500 5.3.3 Unrecognized command');
    expect(await client.command('RCPT TO:<a@b.test>')).toBe('503 5.5.1 Bad sequence of commands');
    client.close();
  });

  it('speaks the Office 365 dialogue for a whole message, XOAUTH2 in the 334 form', async () => {
    const token = await tokens.issueToken();
    const { client } = await RawSmtpClient.open(smtp.port);
    await client.command('EHLO client.test');
    await client.startTls();
    await client.command('EHLO client.test');
    expect(await client.command('AUTH XOAUTH2')).toBe('334 ');
    expect(await client.command(xoauth2(SENDER, token))).toBe(
      '235 2.7.0 Authentication successful',
    );
    expect(await client.command(`MAIL FROM:<${SENDER}>`)).toBe('250 2.1.0 Sender OK');
    expect(await client.command('RCPT TO:<a@fabrikam.test>')).toBe('250 2.1.5 Recipient OK');
    expect(await client.command('DATA')).toBe('354 Start mail input; end with <CRLF>.<CRLF>');
    const body = `From: ${SENDER}\r\nTo: a@fabrikam.test\r\nSubject: raw\r\nMessage-ID: <m1@contoso.test>\r\n\r\nhello\r\n.`;
    expect(await client.command(body)).toMatch(
      /^250 2\.0\.0 OK <m1@contoso\.test> \[Hostname=EM1P282CA\d{4}\.EMUP282\.PROD\.OUTLOOK\.COM\]$/,
    );
    client.close();
    const [message] = await smtp.waitForMessages(1);
    expect(message).toMatchObject({
      envelope: { from: SENDER, to: ['a@fabrikam.test'] },
      authUser: SENDER,
      authMethod: 'XOAUTH2',
      messageId: '<m1@contoso.test>',
      subject: 'raw',
      from: SENDER,
    });
    expect(message!.raw.toString()).toContain('\r\n\r\nhello\r\n');
  });

  it('accepts a valid app token through nodemailer (SASL-IR) and records the message', async () => {
    const info = await sendWithToken(await tokens.issueToken());
    expect(info.response).toMatch(/^250 2\.0\.0 OK </);
    const [message] = await smtp.waitForMessages(1);
    expect(message!.subject).toBe('Hello ✓');
    expect(message!.messageId).toBe(info.messageId);
    expect(smtp.stats).toMatchObject({
      connections: 1,
      tlsHandshakes: 1,
      authAttempts: 1,
      authSuccesses: 1,
      authFailures: 0,
      messages: 1,
      insecureAuthAttempts: 0,
    });
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }],
    ['wrong-audience', { aud: 'https://graph.microsoft.com' }],
    ['missing-role', { roles: ['Mail.Send'] }],
  ] as const)('refuses a token that is %s with 535 5.7.3', async (reason, claims) => {
    const err = await sendWithToken(await tokens.issueToken(claims)).catch((e) => e);
    expect(err.responseCode).toBe(535);
    expect(err.response).toMatch(/^535 5\.7\.3 Authentication unsuccessful \[EM1P282CA\d{4}\./);
    expect(smtp.authRefusals).toEqual([
      { user: SENDER, method: 'XOAUTH2', reason, detail: expect.any(String) },
    ]);
    expect(smtp.messages).toHaveLength(0);
  });

  it('refuses a token signed by another key', async () => {
    const other = await startTokenEndpoint();
    try {
      const err = await sendWithToken(await other.issueToken()).catch((e) => e);
      expect(err.response).toMatch(/^535 5\.7\.3 /);
      expect(smtp.authRefusals[0]?.reason).toBe('invalid-token');
    } finally {
      await other.stop();
    }
  });

  it('refuses an app that is not allowed on the mailbox', async () => {
    const err = await sendWithToken(
      await tokens.issueToken(),
      'restricted@contoso.test',
      'restricted@contoso.test',
    ).catch((e) => e);
    expect(err.response).toMatch(/^535 5\.7\.3 /);
    expect(smtp.authRefusals[0]?.reason).toBe('app-not-allowed');
  });

  it('answers 5.7.139 when SMTP AUTH or Basic auth is disabled for the mailbox', async () => {
    const disabled = await sendWithToken(
      await tokens.issueToken(),
      'disabled@contoso.test',
      'disabled@contoso.test',
    ).catch((e) => e);
    expect(disabled.response).toBe(O365_REPLIES.smtpAuthDisabledMailbox);
    const t = transport({ user: 'nobasic@contoso.test', pass: 'pw' });
    const basic = await t.verify().catch((e) => e);
    t.close();
    expect(basic.response).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. \[/,
    );
  });

  it('accepts AUTH LOGIN with the mailbox password and refuses a wrong one', async () => {
    const good = transport({ user: SENDER, pass: 'pw' });
    await good.sendMail({ from: SENDER, to: 'x@fabrikam.test', text: 'x' });
    good.close();
    const bad = transport({ user: SENDER, pass: 'nope' });
    const err = await bad.verify().catch((e) => e);
    bad.close();
    expect(err.response).toMatch(/^535 5\.7\.3 Authentication unsuccessful \[/);
    expect(smtp.messages.map((m) => m.authMethod)).toEqual(['LOGIN']);
  });

  it('checks send-as after DATA: own address and sendAs pass, others get 554 5.2.252', async () => {
    const token = await tokens.issueToken();
    await sendWithToken(token, 'noreply@contoso.test');
    const err = await sendWithToken(token, 'ceo@contoso.test').catch((e) => e);
    expect(err.responseCode).toBe(554);
    expect(err.response).toMatch(
      /^554 5\.2\.252 SendAsDenied; sender@contoso\.test not allowed to send as ceo@contoso\.test; STOREDRV\.Submission\.Exception:SendAsDeniedException\.MapiExceptionSendAsDenied; /,
    );
    expect(smtp.messages.map((m) => m.from)).toEqual(['noreply@contoso.test']);
    expect(smtp.stats.rejectedMessages).toBe(1);
  });
});
