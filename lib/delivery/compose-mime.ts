/**
 * Turns nodemailer message options into the bytes and envelope sent over SMTP with nodemailer's
 * MailComposer. The session then sends them on its own SMTPConnection.
 *
 * MailComposer rather than nodemailer's Mailer (`Mail`, what `createTransport` wraps): for the
 * options this project composes, the Mailer adds only the three priority headers on top of
 * MailComposer, and it brings DKIM signing, proxy sockets, plugins and data-URL images into the
 * Lambda bundle, none of which a path here runs (23 KB of bundle). The priority headers
 * are set below exactly as the Mailer sets them; test/unit/lib/delivery/compose-mime.test.ts checks the MIME
 * against the Mailer's byte for byte. Options only the Mailer acts on are refused, not dropped.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { detectMimeType } from 'nodemailer/lib/mime-funcs/index.js';
import type { ComposedAttachment, ComposedMime } from '../types.ts';

export type { ComposedAttachment, ComposedMime } from '../types.ts';

/** Options the Mailer acts on before or after MailComposer; nothing here sets them. */
const MAILER_ONLY_OPTIONS = ['xMailer', 'list', 'dkim', 'attachDataUrls'] as const;

/** The Mailer's `setPriorityHeaders` (nodemailer 10.6): nothing for normal priority. */
const PRIORITY_HEADERS: Record<string, [string, string][]> = {
  high: [
    ['X-Priority', '1 (Highest)'],
    ['X-MSMail-Priority', 'High'],
    ['Importance', 'High'],
  ],
  low: [
    ['X-Priority', '5 (Lowest)'],
    ['X-MSMail-Priority', 'Low'],
    ['Importance', 'Low'],
  ],
};

/** Composes `mail`; rejects when the message cannot be built (e.g. a content stream failed). */
export async function composeMime(mail: Mail.Options): Promise<ComposedMime> {
  const { envelope, raw, messageId, bcc } = await build(mail);
  const composed: ComposedMime = { envelope, raw, messageId };
  if (bcc.length > 0) composed.bcc = bcc;
  if (mail.attachments?.length) {
    // Composed again only when a transport asks (rare: Graph messages over 4 MB).
    composed.detachAttachments = async () => ({
      raw: (await build({ ...mail, attachments: [] })).raw,
      attachments: (mail.attachments ?? []).map(detached),
    });
  }
  return composed;
}

function build(
  mail: Mail.Options,
): Promise<Pick<ComposedMime, 'envelope' | 'raw' | 'messageId'> & { bcc: string[] }> {
  return new Promise((resolve, reject) => {
    const unsupported = MAILER_ONLY_OPTIONS.filter((key) => mail[key]);
    if (unsupported.length > 0) {
      reject(new TypeError(`composeMime does not support ${unsupported.join(', ')}`));
      return;
    }
    let message: ReturnType<MailComposer['compile']>;
    try {
      message = new MailComposer({
        ...mail,
        headers: mail.headers ?? {},
        // Message content comes from a queue that any producer can write to: it must never make
        // the sender read a local file (e.g. /proc/self/environ) or fetch a URL on its behalf.
        // Last, so no option of the message can switch them off.
        disableFileAccess: true,
        disableUrlAccess: true,
      }).compile();
      for (const [key, value] of PRIORITY_HEADERS[String(mail.priority ?? '').toLowerCase()] ??
        []) {
        message.setHeader(key, value);
      }
    } catch (err) {
      reject(err);
      return;
    }
    // MailComposer already applied an explicit `envelope` option, if the caller gave one.
    const { from, to } = message.getEnvelope();
    const bcc = (message.getAddresses().bcc ?? []).flatMap((a) => (a.address ? [a.address] : []));
    message.build((err, raw) => {
      if (err) reject(err);
      else resolve({ envelope: { from, to }, raw, messageId: message.messageId(), bcc });
    });
  });
}

/** An attachment as composeMail builds it: a name and bytes (a string for text content). */
function detached(attachment: Mail.Attachment): ComposedAttachment {
  const filename = typeof attachment.filename === 'string' ? attachment.filename : 'attachment';
  const content = attachment.content;
  if (!(Buffer.isBuffer(content) || typeof content === 'string')) {
    throw new TypeError(`attachment ${filename}: only in-memory content can be detached`);
  }
  return {
    filename,
    contentType: attachment.contentType ?? detectMimeType(filename.split('.').pop() ?? 'bin'),
    content: Buffer.isBuffer(content) ? content : Buffer.from(content),
  };
}
