import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { SenderConfig, SmtpSettings } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { openSmtpSession, type SmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import type { TokenProvider } from '../../lib/types.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const SENDER = 'sender@contoso.com';
const NOBODY = 'nobody@contoso.com';
const NOT_FOUND =
  '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup';
const BUSY = 'busy@contoso.com';
const MAILBOX_BUSY = '450 4.2.1 Mailbox temporarily unavailable, try again later';

let entra: TokenEndpoint;
let o365: Office365Smtp;
const sessions: SmtpSession[] = [];
const servers: Office365Smtp[] = [];

function configFor(
  server: Office365Smtp,
  smtp: Partial<SmtpSettings> = {},
  oauth: Partial<NonNullable<SenderConfig['oauth']>> = {},
): SenderConfig {
  return {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: SENDER,
    allowedFrom: [SENDER],
    smtp: {
      host: server.host,
      port: server.port,
      tls: server.secure ? 'implicit' : 'starttls',
      auth: 'oauth2',
      allowPlaintext: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
      ...smtp,
    },
    oauth: {
      tenantId: entra.tenantId,
      clientId: 'test-client',
      authorityHost: entra.authorityHost,
      scope: 'https://outlook.office365.com/.default',
      clientSecret: 'test-secret',
      ...oauth,
    },
    password: 'mailbox-password',
  };
}

function open(config: SenderConfig, tokenProvider?: TokenProvider): SmtpSession {
  const session = openSmtpSession(config, {
    tokenProvider: tokenProvider ?? createTokenProvider(config.oauth),
  });
  sessions.push(session);
  return session;
}

async function server(options: Parameters<typeof startOffice365Smtp>[0]): Promise<Office365Smtp> {
  const s = await startOffice365Smtp({ tokenEndpoint: entra, ...options });
  servers.push(s);
  return s;
}

const mail = (to: string | string[] = 'rcpt@example.com', extra: object = {}) =>
  composeMime({
    from: SENDER,
    to,
    subject: 'Quarterly report',
    text: 'Hello from the queue.',
    ...extra,
  });

beforeAll(async () => {
  entra = await startTokenEndpoint();
  o365 = await server({
    mailboxes: { [SENDER]: { password: 'mailbox-password', sendAs: ['alerts@contoso.com'] } },
  });
});
beforeEach(() => {
  o365.reset();
  entra.reset();
  clearTokenProviderCache();
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await entra.stop();
});

describe('SMTP session against the Office 365 emulator', () => {
  it('sends a batch over one STARTTLS + XOAUTH2 handshake, as the sending mailbox', async () => {
    const session = open(configFor(o365));
    const outcomes = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(
        await session.send(await mail('rcpt@example.com', { bcc: 'hidden@example.com' })),
      );
    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(outcomes[0]).toMatchObject({
      accepted: ['rcpt@example.com', 'hidden@example.com'],
      refused: [],
    });
    expect(o365.stats).toMatchObject({
      connections: 1,
      tlsHandshakes: 1,
      authSuccesses: 1,
      messages: 5,
    });
    expect(session).toMatchObject({ connections: 1, logins: 1 });
    expect(entra.tokenRequests).toBe(1);
    const [first] = o365.messages;
    expect(first).toMatchObject({
      authUser: SENDER,
      authMethod: 'XOAUTH2',
      envelope: { to: ['rcpt@example.com', 'hidden@example.com'] },
    });
    expect(first!.raw.toString()).not.toMatch(/^Bcc:/im);
    expect(new Set(o365.messages.map((m) => m.connectionId)).size).toBe(1);
  });

  it('keeps the session after a refused recipient (RSET), and names each refused recipient with its own verdict', async () => {
    o365.rejectRecipient(NOBODY, NOT_FOUND);
    o365.rejectRecipient(BUSY, MAILBOX_BUSY);
    const session = open(configFor(o365));
    const refused = await session.send(await mail(NOBODY));
    expect(refused).toMatchObject({
      kind: 'rejected',
      reply: { code: 550, enhanced: '5.1.10', command: 'RCPT TO' },
      refused: [{ recipient: NOBODY, kind: 'rejected' }],
    });
    expect(refused.kind === 'rejected' && refused.reason).toContain(NOT_FOUND);
    expect(await session.send(await mail(['rcpt@example.com', NOBODY, BUSY]))).toMatchObject({
      kind: 'sent',
      accepted: ['rcpt@example.com'],
      refused: [
        { recipient: NOBODY, kind: 'rejected', reply: { enhanced: '5.1.10' } },
        { recipient: BUSY, kind: 'retry', reply: { code: 450, enhanced: '4.2.1' } },
      ],
    });
    // Every recipient refused, one only for now: nothing was sent, and each keeps its verdict.
    expect(await session.send(await mail([NOBODY, BUSY]))).toMatchObject({
      kind: 'retry',
      refused: [
        { recipient: NOBODY, kind: 'rejected' },
        { recipient: BUSY, kind: 'retry' },
      ],
    });
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(session.stats).toMatchObject({ connections: 1, logins: 1, resets: 2, sent: 2 });
    expect(o365.stats.connections).toBe(1);
    expect(o365.messages.map((m) => m.envelope.to)).toEqual([
      ['rcpt@example.com'],
      ['rcpt@example.com'],
    ]);
  });

  it("names the recipients over a server's per-message limit as deferred (452 4.5.3)", async () => {
    const capped = await server({ recipientsPerMessage: 100 });
    const session = open(configFor(capped));
    const to = Array.from({ length: 300 }, (_, i) => `r${i}@example.com`);
    const outcome = await session.send(await mail(to));
    expect(outcome).toMatchObject({ kind: 'sent', accepted: to.slice(0, 100) });
    const refused = outcome.kind === 'sent' ? outcome.refused : [];
    expect(refused.map((r) => r.recipient)).toEqual(to.slice(100));
    expect(new Set(refused.map((r) => `${r.kind} ${r.reply?.code} ${r.reply?.enhanced}`))).toEqual(
      new Set(['retry 452 4.5.3']),
    );
  });

  it('keeps the session when nodemailer refuses a message before sending it', async () => {
    const session = open(configFor(o365));
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(await session.send(await mail([]))).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/No recipients/),
    });
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(o365.stats.connections).toBe(1);
  });

  it('refuses a message sent as someone else after DATA, and goes on with the next', async () => {
    const session = open(configFor(o365));
    const denied = await session.send(await mail('rcpt@example.com', { from: 'ceo@contoso.com' }));
    expect(denied).toMatchObject({ kind: 'rejected', reply: { enhanced: '5.2.252' } });
    expect(
      await session.send(await mail('rcpt@example.com', { from: 'alerts@contoso.com' })),
    ).toMatchObject({ kind: 'sent' });
    expect(o365.stats.connections).toBe(1);
  });

  it('reports a dropped connection as retry and reconnects for the next message', async () => {
    o365.dropNextData();
    const session = open(configFor(o365));
    expect(await session.send(await mail())).toMatchObject({ kind: 'retry' });
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(session).toMatchObject({ connections: 2, logins: 2 });
    expect(entra.tokenRequests).toBe(1);
    expect(o365.stats.messages).toBe(1);
  });

  it('reports throttling as retry with a one-minute floor, then reconnects', async () => {
    const session = open(configFor(o365));
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    o365.failNext(
      'mail',
      '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
    );
    expect(await session.send(await mail())).toMatchObject({
      kind: 'retry',
      minDelaySeconds: 60,
      reply: { code: 421 },
    });
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(session.connections).toBe(2);
  });

  it('turns a stalled server into a quick retry (socket timeout)', async () => {
    o365.stallNext('data', 5_000);
    const session = open(configFor(o365, { socketTimeoutMs: 300 }));
    const outcome = await session.send(await mail());
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/Timed out|Timeout/);
  });

  it('sends no credential to a server that offers no STARTTLS, and stops the batch', async () => {
    const plain = await server({ startTls: false });
    const session = open(configFor(plain));
    const outcome = await session.send(await mail());
    expect(outcome).toMatchObject({ kind: 'config', fix: expect.stringMatching(/SMTP_HOST/) });
    expect(plain.stats).toMatchObject({ authAttempts: 0, insecureAuthAttempts: 0, messages: 0 });
    expect(plain.stats.commands.AUTH ?? 0).toBe(0);
    // The same answer for the rest of the batch, without touching the network again.
    expect(await session.send(await mail())).toEqual(outcome);
    expect(plain.stats.connections).toBe(1);
    expect(entra.tokenRequests).toBe(0);
  });

  it('stops the batch when SMTP AUTH is disabled for the mailbox', async () => {
    const disabled = await server({ mailboxes: { [SENDER]: { smtpAuthDisabled: true } } });
    const session = open(configFor(disabled));
    const outcome = await session.send(await mail());
    expect(outcome).toMatchObject({
      kind: 'config',
      reply: { enhanced: '5.7.139' },
      fix: expect.stringMatching(/Set-CASMailbox/),
    });
    expect(await session.send(await mail())).toBe(outcome);
    expect(disabled.stats).toMatchObject({ connections: 1, authAttempts: 1 }); // no futile retry with a new token
    expect(entra.tokenRequests).toBe(1);
  });

  it('stops the batch when the token endpoint refuses the app, before any AUTH', async () => {
    const session = open(configFor(o365, {}, { clientSecret: 'expired-secret' }));
    const outcome = await session.send(await mail());
    expect(outcome).toMatchObject({
      kind: 'config',
      reason: expect.stringMatching(/AADSTS7000215/),
    });
    expect(o365.stats.authAttempts).toBe(0);
  });

  it('renews a token Exchange refuses once before giving up', async () => {
    let calls = 0;
    const stale: TokenProvider = {
      async getAccessToken(renew) {
        calls++;
        return renew ? entra.issueToken() : entra.issueToken({ roles: [] });
      },
    };
    const session = open(configFor(o365), stale);
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(calls).toBe(2);
    expect(o365.stats).toMatchObject({ authAttempts: 2, authSuccesses: 1 });
  });

  it('speaks implicit TLS (port-465 style servers)', async () => {
    const implicit = await server({ implicitTls: true });
    const session = open(configFor(implicit, { tls: 'implicit' }));
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(implicit.stats).toMatchObject({ tlsHandshakes: 1, messages: 1 });
  });

  it('authenticates with a password (legacy AUTH LOGIN)', async () => {
    const session = open(configFor(o365, { auth: 'password' }));
    expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
    expect(o365.messages[0]).toMatchObject({ authUser: SENDER, authMethod: 'LOGIN' });
    const wrong = open({ ...configFor(o365, { auth: 'password' }), password: 'wrong' });
    expect(await wrong.send(await mail())).toMatchObject({ kind: 'config', reply: { code: 535 } });
  });

  it('retries the rest of the batch at once when the server cannot be reached', async () => {
    const gone = await server({});
    const config = configFor(gone);
    await gone.stop();
    const session = open(config);
    const first = await session.send(await mail());
    expect(first).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(await session.send(await mail())).toBe(first);
    expect(session.connections).toBe(1);
  });

  it('may stay in plain text only for SMTP_AUTH=none to a loopback capture server', async () => {
    const received: string[] = [];
    const capture = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address).join(','));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const port = (capture.server.address() as AddressInfo).port;
      const base = configFor(o365);
      const session = open({
        ...base,
        smtp: { ...base.smtp, port, auth: 'none', allowPlaintext: true },
      });
      expect(await session.send(await mail())).toMatchObject({ kind: 'sent' });
      expect(received).toEqual(['rcpt@example.com']);
      await session.close(); // before the server closes, which waits for its clients
    } finally {
      await new Promise<void>((resolve) => capture.close(() => resolve()));
    }
  });

  it('closes with QUIT and can be closed twice', async () => {
    const session = open(configFor(o365));
    await session.send(await mail());
    await session.close();
    await session.close();
    expect(o365.stats.commands.QUIT).toBe(1);
    expect(await session.send(await mail())).toMatchObject({ kind: 'retry' });
  });
});
