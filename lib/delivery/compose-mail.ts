/**
 * Turns a validated {@link MailMessage} into nodemailer options: the one place that decides what
 * goes on the wire. `tags` never leave the process; Bcc recipients travel only in the SMTP envelope
 * (nodemailer drops the Bcc header unless `keepBcc` is set, which we never set).
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { detectMimeType, encodeWord } from 'nodemailer/lib/mime-funcs/index.js';
import type { MailAttachment, MailMessage } from '../types.ts';

/** Reads an attachment's bytes from S3; injected so tests and callers choose the client. */
export type S3ObjectFetcher = (location: { bucket: string; key: string }) => Promise<Uint8Array>;

export interface ComposeOptions {
  /** The authenticating mailbox: default `from`, and the domain of the `Message-ID`. */
  sender: string;
  /** Idempotency key of the message (its `id`, else the SQS message id). */
  mailId: string;
  /** Needed only when the message has S3 attachments. */
  fetchS3Object?: S3ObjectFetcher;
}

export type ComposeResult =
  | { kind: 'composed'; mail: Mail.Options }
  /** The message can never be composed (e.g. its S3 object does not exist). */
  | { kind: 'invalid'; reason: string }
  /** A temporary problem fetching an attachment. */
  | { kind: 'retry'; reason: string };

/**
 * A `Message-ID` that is the same on every attempt for the same mail id, so a recipient's system
 * can drop the duplicate if SQS redelivers a message that was in fact sent.
 */
export function stableMessageId(mailId: string, sender: string): string {
  const hash = createHash('sha256').update(mailId).digest('hex').slice(0, 32);
  const domain = sender.slice(sender.lastIndexOf('@') + 1) || 'localhost';
  return `<${hash}@${domain}>`;
}

export async function composeMail(
  message: MailMessage,
  options: ComposeOptions,
): Promise<ComposeResult> {
  const attachments: Mail.Attachment[] = [];
  for (const attachment of message.attachments) {
    const loaded = await loadAttachment(attachment, options.fetchS3Object);
    if (loaded.kind !== 'loaded') return loaded;
    attachments.push(loaded.attachment);
  }
  const mail: Mail.Options = {
    from: message.from ?? options.sender,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    replyTo: message.replyTo.length > 0 ? message.replyTo : undefined,
    subject: foldable(message.subject),
    text: message.text,
    html: message.html,
    attachments,
    headers: Object.fromEntries(
      Object.entries(message.headers).map(([name, value]) => [name, foldable(value)]),
    ),
    priority: message.priority,
    messageId: stableMessageId(options.mailId, options.sender),
    // The body comes from a queue anyone with SendMessage can write to: never let it make
    // nodemailer read local files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  return { kind: 'composed', mail };
}

/**
 * A header value nodemailer can fold into lines of at most 78 octets. It folds only at spaces, so a
 * run of more than 76 non-space characters (a 998-character subject with no space) would go out as
 * one line over SMTP's 998-octet limit; such a value is written as RFC 2047 encoded-words (each at
 * most 75 octets, separated by spaces), which every client decodes back to the same text. The
 * contract refuses encoded-word syntax in the value itself, so only these are ever decoded.
 */
export function foldable(value: string): string {
  return /[^ \t]{77,}/.test(value) ? encodeWord(value, 'Q', 52) : value;
}

/**
 * The MIME type of an attachment: the producer's, or the one its file name suggests, except that
 * a name never makes it `message/*` (`.eml`, `.mht`) or `multipart/*`: such a part goes out
 * unencoded (NUL, 8-bit bytes, lines over 998 octets reach the wire) or is read as structure.
 */
export function attachmentType(filename: string, contentType: string | undefined): string {
  if (contentType) return contentType;
  const detected = detectMimeType(filename);
  return /^(?:message|multipart)\//i.test(detected) ? 'application/octet-stream' : detected;
}

type LoadResult =
  | { kind: 'loaded'; attachment: Mail.Attachment }
  | { kind: 'invalid'; reason: string }
  | { kind: 'retry'; reason: string };

async function loadAttachment(
  attachment: MailAttachment,
  fetchS3Object: S3ObjectFetcher | undefined,
): Promise<LoadResult> {
  const { filename } = attachment;
  const contentType = attachmentType(filename, attachment.contentType);
  if ('content' in attachment) {
    const content = Buffer.from(attachment.content, 'base64');
    return { kind: 'loaded', attachment: { filename, contentType, content } };
  }
  const where = `s3://${attachment.s3.bucket}/${attachment.s3.key}`;
  if (!fetchS3Object) {
    return {
      kind: 'retry',
      reason: `attachment ${filename}: no S3 client configured for ${where}`,
    };
  }
  try {
    const bytes = await fetchS3Object(attachment.s3);
    return { kind: 'loaded', attachment: { filename, contentType, content: Buffer.from(bytes) } };
  } catch (err) {
    return classifyS3Error(err, `attachment ${filename} (${where})`);
  }
}

/** Missing objects and refused access will not fix themselves by waiting: dead-letter them. */
const PERMANENT_S3_ERRORS = new Set(['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'NotFound']);

function classifyS3Error(err: unknown, what: string): LoadResult {
  const name = err instanceof Error ? err.name : 'Error';
  const detail = err instanceof Error ? err.message : String(err);
  if (PERMANENT_S3_ERRORS.has(name)) {
    const hint = name === 'AccessDenied' ? ' (does the sender role have s3:GetObject on it?)' : '';
    return { kind: 'invalid', reason: `${what}: ${name}${hint}` };
  }
  return { kind: 'retry', reason: `${what}: ${name}: ${detail}` };
}

/** A {@link S3ObjectFetcher} over a real S3 client (GetObject, whole body in memory). */
export function s3ObjectFetcher(client: S3Client): S3ObjectFetcher {
  return async ({ bucket, key }) => {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`empty body for s3://${bucket}/${key}`);
    return response.Body.transformToByteArray();
  };
}
