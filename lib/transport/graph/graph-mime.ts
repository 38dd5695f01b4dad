/**
 * The MIME Graph receives: the very bytes the SMTP path sends, plus a Bcc header when the message
 * has Bcc recipients. SMTP carries them in the envelope only; Graph has no envelope and takes the
 * recipients from the To, Cc and Bcc headers (Exchange keeps the Bcc header out of what the
 * recipients get).
 */
import type { ComposedMime } from '../../types.ts';

/** Graph's sendMail takes a request body of about 4 MB; this is the MIME base64-encoded. */
export const SENDMAIL_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** Graph refuses an upload session for an attachment smaller than 3 MB; smaller ones are posted whole. */
export const UPLOAD_SESSION_MIN_BYTES = 3 * 1024 * 1024;

/** `raw` with a Bcc header in front, folded so no line passes 78 characters where avoidable. */
export function withBccHeader(raw: Buffer, bcc: readonly string[] | undefined): Buffer {
  if (!bcc?.length) return raw;
  const lines: string[] = [];
  let line = 'Bcc:';
  for (const [i, address] of bcc.entries()) {
    const part = ` ${address}${i < bcc.length - 1 ? ',' : ''}`;
    if (line.length + part.length > 78 && line !== 'Bcc:') {
      lines.push(line);
      line = '';
    }
    line += part;
  }
  lines.push(line);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'), raw]);
}

/** Length of the sendMail request body: the MIME (with its Bcc header) in base64. */
export function sendMailBodyBytes(mime: ComposedMime): number {
  return base64Length(withBccHeader(mime.raw, mime.bcc).length);
}

export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** `3.9 MB`: sizes in reasons, in the units Microsoft's limits are written in. */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
