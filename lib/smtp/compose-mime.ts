/**
 * Turns nodemailer message options into the bytes and envelope sent over SMTP, using nodemailer's
 * own Mailer pipeline (MailComposer plus the priority, List-* and X-Mailer headers it adds) with a
 * transport that only collects the result. The session then sends it on its own SMTPConnection.
 */
import Mail from 'nodemailer/lib/mailer/index.js';

/** A composed message: the SMTP envelope (Bcc recipients included), and the MIME text (no Bcc header). */
export interface ComposedMime {
  envelope: { from: string | false; to: string[] };
  raw: Buffer;
  messageId: string;
}

// The Mailer itself rather than `createTransport` from nodemailer's main entry, which imports every
// transport (SES, sendmail, pool, well-known services): 37 KB of bundle no path here runs.
const composer = new Mail<ComposedMime>(
  {
    name: 'o365-mime',
    version: '1',
    send(mail, callback) {
      // MailComposer already applied an explicit `envelope` option, if the caller gave one.
      const data = mail.message.getEnvelope();
      const envelope = { from: data.from, to: data.to };
      mail.message.build((err, raw) => {
        if (err) return callback(err);
        callback(null, { envelope, raw: raw!, messageId: mail.message.messageId() });
      });
    },
  },
  // No transport options: `createTransport(plugin, defaults)` passes none either.
  {},
  {
    // Message content comes from a queue that any producer can write to: it must never make the
    // sender read a local file (e.g. /proc/self/environ) or fetch a URL on its behalf.
    disableFileAccess: true,
    disableUrlAccess: true,
  },
);

/** Composes `mail`; rejects when the message cannot be built (e.g. a content stream failed). */
export function composeMime(mail: Mail.Options): Promise<ComposedMime> {
  return composer.sendMail({ ...mail, disableFileAccess: true, disableUrlAccess: true });
}
