import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type MailMessage from 'nodemailer/lib/mailer/mail-message.js';
import { describe, expect, it } from 'vitest';
import { composeMail, stableMessageId } from '../../../../lib/delivery/compose-mail.ts';
import { parseMailMessage } from '../../../../lib/message/parse-mail-message.ts';

const sender = 'mailer@contoso.com';

/**
 * Renders through nodemailer's Mailer with a transport that builds the message exactly as its SMTP
 * transport does (the stream transport would keep the Bcc header), so the test sees the wire.
 */
async function render(mail: Mail.Options) {
  let raw = '';
  let envelope = { from: '', to: [] as string[] };
  const transport = nodemailer.createTransport({
    name: 'capture',
    version: '1',
    send(message: MailMessage, done: (err: Error | null, info: unknown) => void) {
      envelope = message.message.getEnvelope() as typeof envelope;
      message.message.build((err: Error | null, built?: Buffer) => {
        raw = built?.toString('utf8') ?? '';
        done(err, {});
      });
    },
  });
  await transport.sendMail(mail);
  return { raw, envelope, parsed: await simpleParser(raw) };
}

async function composed(input: unknown, options: Partial<Parameters<typeof composeMail>[1]> = {}) {
  const result = await composeMail(parseMailMessage(input), {
    sender,
    mailId: 'order-42',
    ...options,
  });
  if (result.kind !== 'composed') throw new Error(`not composed: ${JSON.stringify(result)}`);
  return result.mail;
}

const base = { to: ['Ann <ann@example.com>'], subject: 'Hello', text: 'Hi' };

describe('composeMail', () => {
  it('sends from the configured mailbox by default and from the message when it names one', async () => {
    expect((await render(await composed(base))).envelope.from).toBe(sender);
    const own = await render(await composed({ ...base, from: 'Billing <billing@contoso.com>' }));
    expect(own.envelope.from).toBe('billing@contoso.com');
    expect(own.parsed.from?.value[0]).toEqual({ name: 'Billing', address: 'billing@contoso.com' });
  });

  it('puts Bcc recipients in the envelope only, never in a header', async () => {
    const { raw, envelope } = await render(
      await composed({ ...base, cc: ['cc@example.com'], bcc: ['secret@example.com'] }),
    );
    expect(envelope.to).toEqual(['ann@example.com', 'cc@example.com', 'secret@example.com']);
    expect(raw).not.toContain('secret@example.com');
    expect(raw).toMatch(/^Cc: cc@example.com/m);
  });

  it('never sends tags, and keeps X- headers, Reply-To and priority', async () => {
    const { raw, parsed } = await render(
      await composed({
        ...base,
        tags: { tenant: 'acme-secret-tag' },
        headers: { 'X-Campaign': 'spring' },
        replyTo: ['support@contoso.com'],
        priority: 'high',
      }),
    );
    expect(raw).not.toContain('acme-secret-tag');
    expect(parsed.headers.get('x-campaign')).toBe('spring');
    expect(parsed.replyTo?.value[0]?.address).toBe('support@contoso.com');
    expect(raw).toMatch(/^X-Priority: 1 \(Highest\)\r$/m);
    expect(raw).toMatch(/^Importance: High\r$/m);
  });

  it('derives a Message-ID from the mail id that is the same on every attempt', async () => {
    const first = await render(await composed(base));
    const again = await render(await composed(base));
    const other = await render(await composed(base, { mailId: 'order-43' }));
    expect(first.parsed.messageId).toBe(stableMessageId('order-42', sender));
    expect(first.parsed.messageId).toMatch(/^<[0-9a-f]{32}@contoso\.com>$/);
    expect(again.parsed.messageId).toBe(first.parsed.messageId);
    expect(other.parsed.messageId).not.toBe(first.parsed.messageId);
  });

  it('decodes base64 attachments and fetches S3 ones through the injected fetcher', async () => {
    const requested: unknown[] = [];
    const mail = await composed(
      {
        ...base,
        attachments: [
          {
            filename: 'a.txt',
            contentType: 'text/plain',
            content: Buffer.from('inline').toString('base64'),
          },
          { filename: 'b.csv', s3: { bucket: 'reports', key: 'q1/b.csv' } },
        ],
      },
      {
        fetchS3Object: async (location) => {
          requested.push(location);
          return new TextEncoder().encode('x,y\n1,2\n');
        },
      },
    );
    const { parsed } = await render(mail);
    expect(requested).toEqual([{ bucket: 'reports', key: 'q1/b.csv' }]);
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString('utf8')])).toEqual([
      ['a.txt', 'inline'],
      ['b.csv', 'x,y\n1,2\n'],
    ]);
  });

  it.each([
    ['NoSuchKey', 'invalid'],
    ['AccessDenied', 'invalid'],
    ['SlowDown', 'retry'],
    ['TimeoutError', 'retry'],
  ])('an S3 %s makes the message %s', async (name, kind) => {
    const message = parseMailMessage({
      ...base,
      attachments: [{ filename: 'b.csv', s3: { bucket: 'reports', key: 'gone.csv' } }],
    });
    const result = await composeMail(message, {
      sender,
      mailId: 'm',
      fetchS3Object: async () => {
        throw Object.assign(new Error('nope'), { name });
      },
    });
    expect(result.kind).toBe(kind);
    expect(result.kind !== 'composed' && result.reason).toContain('s3://reports/gone.csv');
  });

  it('refuses to let a message make nodemailer read files or URLs', async () => {
    const mail = await composed(base);
    expect(mail.disableFileAccess).toBe(true);
    expect(mail.disableUrlAccess).toBe(true);
  });
});
