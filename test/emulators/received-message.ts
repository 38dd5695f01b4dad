import { simpleParser } from 'mailparser';

/** A message the SMTP emulator accepted (250 after DATA). */
export interface ReceivedMessage {
  envelope: { from: string; to: string[] };
  /** The authenticated mailbox (AUTH user). */
  authUser: string;
  authMethod: 'LOGIN' | 'XOAUTH2';
  /** Id of the SMTP connection it came on; equal ids = one reused session. */
  connectionId: string;
  /** The message as received (dot-unstuffed), headers and body. */
  raw: Buffer;
  /** How the body came: DATA (dot-stuffed text) or BDAT chunks (CHUNKING). */
  transfer: 'DATA' | 'BDAT';
  /** The MAIL FROM `BODY=` parameter, lower-cased: `7bit` when absent. */
  bodyType: string;
  /** `Message-ID` header with its angle brackets, as the header has it. */
  messageId?: string;
  /** Decoded `Subject` header. */
  subject?: string;
  /** Address of the header `From:`. */
  from?: string;
  receivedAt: Date;
}

/** The headers the emulator reads: what the send-as check and tests need. */
export interface MessageHeaders {
  messageId?: string;
  subject?: string;
  from?: string;
}

/** Reads Message-ID, Subject and From; mailparser decodes encoded words and folded lines for us. */
export async function readHeaders(raw: Buffer): Promise<MessageHeaders> {
  // Only the header block: the body is not needed, and parsing large bodies (attachments) would
  // cost the process running the emulator CPU per message.
  const end = raw.indexOf('\r\n\r\n');
  const parsed = await simpleParser(end < 0 ? raw : raw.subarray(0, end + 4), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
  });
  const from = parsed.from?.value[0]?.address;
  const messageId = parsed.messageId;
  return {
    ...(messageId ? { messageId } : {}),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    ...(from ? { from } : {}),
  };
}
