/**
 * composeMime (MailComposer plus the priority headers) against nodemailer's full Mailer, which it
 * replaced in the bundle: for every kind of message the contract allows, the same MIME byte for
 * byte, the same envelope and Message-ID; and no file or URL is ever read from message content.
 */
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type MailMessage from 'nodemailer/lib/mailer/mail-message.js';
import { describe, expect, it } from 'vitest';
import { composeMail } from '../../../../lib/delivery/compose-mail.ts';
import { composeMime } from '../../../../lib/delivery/compose-mime.ts';
import { parseMailMessage } from '../../../../lib/message/parse-mail-message.ts';

/** What the Mailer builds, as the SMTP transport would send it (the previous composeMime). */
async function throughMailer(mail: Mail.Options) {
  let result: { envelope: object; raw: string; messageId: string } | undefined;
  const transport = nodemailer.createTransport(
    {
      name: 'capture',
      version: '1',
      send(message: MailMessage, done: (err: Error | null, info: unknown) => void) {
        const { from, to } = message.message.getEnvelope();
        message.message.build((err: Error | null, raw?: Buffer) => {
          result = {
            envelope: { from, to },
            raw: raw?.toString('utf8') ?? '',
            messageId: message.message.messageId(),
          };
          done(err, {});
        });
      },
    },
    { disableFileAccess: true, disableUrlAccess: true },
  );
  await transport.sendMail({ ...mail, disableFileAccess: true, disableUrlAccess: true });
  return result!;
}

async function ours(mail: Mail.Options) {
  const { envelope, raw, messageId } = await composeMime(mail);
  return { envelope, raw: raw.toString('utf8'), messageId };
}

const fixed = { date: new Date('2026-11-22T10:00:00Z'), baseBoundary: 'fixedboundary' };

const messages: Record<string, unknown> = {
  'plain text': { to: ['ann@example.com'], subject: 'Hello', text: 'Hi Ann' },
  'text, html, cc, bcc, reply-to, custom headers, high priority': {
    from: 'alerts@contoso.com',
    to: ['Ann Example <ann@example.com>', 'bob@example.com'],
    cc: ['carol@example.com'],
    bcc: ['dave@example.com'],
    replyTo: ['help@contoso.com'],
    subject: 'Ünïcödé subject — with a long tail that needs folding across more than one line',
    text: 'line one\nline two ✓',
    html: '<p>Hello <b>Ann</b> ✓</p>',
    headers: { 'X-Campaign': 'autumn', 'X-Ticket-Id': '42' },
    priority: 'high',
  },
  'low priority': { to: ['ann@example.com'], subject: 'FYI', text: '.', priority: 'low' },
  'normal priority': { to: ['ann@example.com'], subject: 'n', text: '.', priority: 'normal' },
  'attachments, with and without a content type': {
    to: ['ann@example.com'],
    subject: 'Files',
    text: 'see attached',
    html: '<p>see attached</p>',
    attachments: [
      { filename: 'report.pdf', content: Buffer.from('%PDF-1.7 fake').toString('base64') },
      {
        filename: 'data.bin',
        contentType: 'application/octet-stream',
        content: Buffer.from([0, 1, 2, 255]).toString('base64'),
      },
    ],
  },
  'html only': { to: ['ann@example.com'], subject: 'h', html: '<h1>Only html</h1>' },
};

describe('composeMime composes what nodemailer’s Mailer composed', () => {
  for (const [name, input] of Object.entries(messages)) {
    it(name, async () => {
      const result = await composeMail(parseMailMessage(input), {
        sender: 'mailer@contoso.com',
        mailId: `id-${name.length}`,
      });
      if (result.kind !== 'composed') throw new Error(result.reason);
      const mail = { ...result.mail, ...fixed };
      const expected = await throughMailer(mail);
      expect(await ours(mail)).toEqual(expected);
      expect(expected.raw).not.toMatch(/^Bcc:/im);
    });
  }

  it('the doctor’s test message (a bare address, no attachments list)', async () => {
    const mail = { from: 'mailer@contoso.com', to: 'ann@example.com', subject: 't', text: 'x' };
    expect(await ours({ ...mail, ...fixed, messageId: '<m@x>' })).toEqual(
      await throughMailer({ ...mail, ...fixed, messageId: '<m@x>' }),
    );
  });

  it('priority headers appear only for high and low', async () => {
    const { raw } = await ours({ to: 'a@b.c', text: 'x', priority: 'high' });
    expect(raw).toMatch(
      /^X-Priority: 1 \(Highest\)\r\nX-MSMail-Priority: High\r\nImportance: High\r$/im,
    );
    expect((await ours({ to: 'a@b.c', text: 'x', priority: 'normal' })).raw).not.toMatch(
      /Priority|Importance/,
    );
  });
});

describe('composeMime never reads a file or a URL named in a message', () => {
  it.each([
    ['an attachment path', { attachments: [{ filename: 'env', path: '/proc/self/environ' }] }],
    ['an attachment URL', { attachments: [{ filename: 'x', href: 'http://127.0.0.1:9/x' }] }],
    ['a text body from a file', { text: { path: '/etc/passwd' } }],
    ['an html body from a URL', { html: { href: 'http://127.0.0.1:9/' } }],
    [
      'access switched back on by the message',
      {
        disableFileAccess: false,
        disableUrlAccess: false,
        attachments: [{ filename: 'env', path: '/proc/self/environ' }],
      },
    ],
  ])('%s', async (_, extra) => {
    await expect(ours({ to: 'a@b.c', subject: 's', ...(extra as Mail.Options) })).rejects.toThrow(
      /access/i,
    );
  });
});

describe('options only the Mailer acts on', () => {
  it.each([
    ['xMailer', { xMailer: 'x' }],
    ['list', { list: { unsubscribe: 'https://example.com/u' } }],
    ['dkim', { dkim: { domainName: 'x', keySelector: 'y', privateKey: 'z' } }],
    ['attachDataUrls', { attachDataUrls: true }],
  ])('%s is refused, not silently dropped', async (key, extra) => {
    await expect(ours({ to: 'a@b.c', text: 'x', ...(extra as Mail.Options) })).rejects.toThrow(key);
  });
});
