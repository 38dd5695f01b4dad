import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { SenderConfig } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { openSmtpSession, type SmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import type { SendOutcome } from '../../lib/types.ts';
import {
  type Office365Smtp,
  type Office365SmtpOptions,
  startOffice365Smtp,
} from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const SENDER = 'sender@contoso.com';
const NOBODY = 'nobody@contoso.com';
const NOT_FOUND =
  '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup';
const RATE_LIMITED =
  '421 4.4.2 Message submission rate for this client has exceeded the configured limit';

let entra: TokenEndpoint;
const sessions: SmtpSession[] = [];
const servers: Office365Smtp[] = [];

beforeAll(async () => {
  entra = await startTokenEndpoint();
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  clearTokenProviderCache();
});
afterAll(() => entra.stop());

async function server(options: Office365SmtpOptions = {}): Promise<Office365Smtp> {
  const s = await startOffice365Smtp({
    tokenEndpoint: entra,
    mailboxes: { [SENDER]: { sendAs: ['alerts@contoso.com'] } },
    ...options,
  });
  servers.push(s);
  return s;
}

function open(smtp: Office365Smtp): SmtpSession {
  const config: SenderConfig = {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: SENDER,
    allowedFrom: [SENDER],
    smtp: {
      host: smtp.host,
      port: smtp.port,
      tls: 'starttls',
      auth: 'oauth2',
      allowPlaintext: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
    },
    oauth: {
      tenantId: entra.tenantId,
      clientId: 'test-client',
      authorityHost: entra.authorityHost,
      scope: 'https://outlook.office365.com/.default',
      clientSecret: 'test-secret',
    },
  };
  const session = openSmtpSession(config, { tokenProvider: createTokenProvider(config.oauth) });
  sessions.push(session);
  return session;
}

const mail = (n: number, extra: { to?: string | string[]; from?: string } = {}) =>
  composeMime({
    from: extra.from ?? SENDER,
    to: extra.to ?? `rcpt-${n}@example.com`,
    subject: `message ${n}`,
    // A line that is a lone dot and one that starts with one: DATA must stuff them, BDAT must not.
    text: `Hello ${n}\n.\n.leading dot\n`,
  });

/** Sends every message without waiting for the previous answer, as a batch does. */
async function sendAll(session: SmtpSession, mimes: Awaited<ReturnType<typeof mail>>[]) {
  return Promise.all(mimes.map((mime) => session.send(mime)));
}

const kinds = (outcomes: SendOutcome[]) => outcomes.map((o) => o.kind);

const MODES: { name: string; options: Office365SmtpOptions; transfer: 'BDAT' | 'DATA' }[] = [
  { name: 'CHUNKING + PIPELINING', options: {}, transfer: 'BDAT' },
  { name: 'PIPELINING only', options: { chunking: false }, transfer: 'DATA' },
  { name: 'CHUNKING only', options: { pipelining: false }, transfer: 'BDAT' },
  { name: 'neither', options: { pipelining: false, chunking: false }, transfer: 'DATA' },
];

describe.each(MODES)('pipelined SMTP transactions, server with $name', ({ options, transfer }) => {
  it('sends a batch whose messages overlap, each exactly as composed, on one connection', async () => {
    const smtp = await server(options);
    const session = open(smtp);
    const mimes = await Promise.all([1, 2, 3, 4, 5].map((n) => mail(n)));
    expect(kinds(await sendAll(session, mimes))).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    const received = await smtp.waitForMessages(5);
    expect(received.map((m) => m.subject)).toEqual([1, 2, 3, 4, 5].map((n) => `message ${n}`));
    expect(received.map((m) => m.transfer)).toEqual(Array(5).fill(transfer));
    for (const [i, message] of received.entries()) {
      // The composed bytes, with CRLF line ends (MailComposer keeps a text body's bare LFs).
      const expected = mimes[i]!.raw.toString('latin1').replace(/\r?\n/g, '\r\n');
      expect(message.raw.toString('latin1')).toBe(expected);
      expect(message.envelope).toEqual({ from: SENDER, to: [`rcpt-${i + 1}@example.com`] });
    }
    expect(smtp.stats).toMatchObject({ connections: 1, protocolErrors: 0 });
  });

  it('fails a refused message alone: the ones around it go out with their own envelopes', async () => {
    const smtp = await server(options);
    smtp.rejectRecipient(NOBODY, NOT_FOUND);
    const session = open(smtp);
    const outcomes = await sendAll(session, [
      await mail(1),
      await mail(2, { to: NOBODY }),
      await mail(3, { from: 'ceo@contoso.com' }),
      await mail(4, { to: [NOBODY, 'rcpt-4@example.com'] }),
      await mail(5, { from: 'alerts@contoso.com' }),
    ]);
    expect(kinds(outcomes)).toEqual(['sent', 'rejected', 'rejected', 'sent', 'sent']);
    expect(outcomes[1]).toMatchObject({ reply: { enhanced: '5.1.10', command: 'RCPT TO' } });
    expect(outcomes[2]).toMatchObject({ reply: { enhanced: '5.2.252' } });
    expect(outcomes[3]).toMatchObject({
      accepted: ['rcpt-4@example.com'],
      refused: [{ recipient: NOBODY, kind: 'rejected', reply: { enhanced: '5.1.10' } }],
    });
    const received = await smtp.waitForMessages(3);
    expect(received.map((m) => [m.subject, m.envelope.from, m.envelope.to])).toEqual([
      ['message 1', SENDER, ['rcpt-1@example.com']],
      ['message 4', SENDER, ['rcpt-4@example.com']],
      ['message 5', 'alerts@contoso.com', ['rcpt-5@example.com']],
    ]);
    expect(smtp.stats).toMatchObject({ connections: 1, protocolErrors: 0 });
  });

  it('retries what a dropped connection took down and sends the rest on a new one', async () => {
    const smtp = await server(options);
    const session = open(smtp);
    expect((await session.send(await mail(0))).kind).toBe('sent');
    smtp.dropNextData();
    const outcomes = await sendAll(session, await Promise.all([1, 2, 3].map((n) => mail(n))));
    // The dropped message is retried; whatever shared its connection too (never sent twice).
    expect(outcomes[0]!.kind).toBe('retry');
    expect(outcomes.every((o) => o.kind === 'retry' || o.kind === 'sent')).toBe(true);
    expect(kinds(await sendAll(session, [await mail(4)]))).toEqual(['sent']);
    const sent = smtp.messages.map((m) => m.subject);
    const again = outcomes.flatMap((o, i) => (o.kind === 'sent' ? [`message ${i + 1}`] : []));
    expect(sent).toEqual(['message 0', ...again, 'message 4']);
    expect(smtp.stats.protocolErrors).toBe(0);
  });
});

describe('pipelined SMTP transactions: what the wire shows', () => {
  it('CHUNKING: a batch of ten costs about one server flight per message, or less', async () => {
    const smtp = await server({ networkLatencyMs: 2 });
    const session = open(smtp);
    // The connection is set up (greeting, EHLO, STARTTLS, EHLO, AUTH) with the first message.
    expect((await session.send(await mail(0))).kind).toBe('sent');
    const before = smtp.wire.serverFlights;
    const mimes = await Promise.all(Array.from({ length: 10 }, (_, i) => mail(i + 1)));
    expect(kinds(await sendAll(session, mimes))).toEqual(Array(10).fill('sent'));
    expect(smtp.wire.serverFlights - before).toBeLessThanOrEqual(10);
    expect(smtp.stats.protocolErrors).toBe(0);
  });

  it('PIPELINING only: each message but the first rides with the previous end of data', async () => {
    const smtp = await server({ networkLatencyMs: 2, chunking: false });
    const session = open(smtp);
    expect((await session.send(await mail(0))).kind).toBe('sent');
    const before = smtp.wire.serverFlights;
    const mimes = await Promise.all(Array.from({ length: 10 }, (_, i) => mail(i + 1)));
    expect(kinds(await sendAll(session, mimes))).toEqual(Array(10).fill('sent'));
    // Envelope + DATA, then body + next envelope + DATA ...: one flight per message, plus the last 250.
    expect(smtp.wire.serverFlights - before).toBeLessThanOrEqual(11);
  });

  it('without PIPELINING: one command at a time (the server would end the session otherwise)', async () => {
    const smtp = await server({ networkLatencyMs: 2, pipelining: false, chunking: false });
    const session = open(smtp);
    expect((await session.send(await mail(0))).kind).toBe('sent');
    const before = smtp.wire.serverFlights;
    const mimes = await Promise.all(
      [1, 2].map((n) => mail(n, { to: ['a@example.com', 'b@example.com'] })),
    );
    expect(kinds(await sendAll(session, mimes))).toEqual(['sent', 'sent']);
    // MAIL, RCPT, RCPT, DATA, body: five replies waited for, per message.
    expect(smtp.wire.serverFlights - before).toBe(10);
    expect(smtp.stats.protocolErrors).toBe(0);
  });
});

describe('pipelined SMTP transactions: replies that end the session or the batch', () => {
  it('a 421 throttles the message it answered and those still unanswered behind it', async () => {
    const smtp = await server();
    const session = open(smtp);
    expect((await session.send(await mail(0))).kind).toBe('sent');
    smtp.failNext('mail', RATE_LIMITED);
    const outcomes = await sendAll(session, await Promise.all([1, 2, 3].map((n) => mail(n))));
    expect(outcomes[0]).toMatchObject({ kind: 'retry', minDelaySeconds: 60, reply: { code: 421 } });
    for (const later of outcomes.slice(1)) {
      expect(later).toMatchObject({ kind: 'retry', minDelaySeconds: 60 });
    }
    expect(kinds(await sendAll(session, [await mail(4)]))).toEqual(['sent']);
    expect(smtp.messages.map((m) => m.subject)).toEqual(['message 0', 'message 4']);
    expect(session.connections).toBe(2);
  });

  it('a configuration error stops the batch: messages already written get their own answers', async () => {
    const smtp = await server();
    const session = open(smtp);
    smtp.failNext('mail', '530 5.7.57 Client not authenticated to send mail.');
    const outcomes = await sendAll(session, await Promise.all([1, 2].map((n) => mail(n))));
    expect(outcomes[0]).toMatchObject({ kind: 'config', reply: { enhanced: '5.7.57' } });
    // Message 2 was on the wire behind it (CHUNKING): the server's answer is its outcome.
    expect(outcomes[1]!.kind).toBe('sent');
    expect(await session.send(await mail(3))).toBe(session.stoppedBy);
    await smtp.waitForOpenConnections(0);
    expect(smtp.stats.commands.QUIT).toBe(1);
    expect(smtp.messages.map((m) => m.subject)).toEqual(['message 2']);
  });
});
