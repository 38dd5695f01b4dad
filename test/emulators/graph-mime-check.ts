/**
 * What the Graph emulator reads from a base64 MIME body, and how it refuses one, as Exchange does:
 * a body that is not base64 is `ErrorMimeContentInvalidBase64String`; a message without a valid
 * recipient is `ErrorInvalidRecipients`; a From the mailbox may not send as is `ErrorSendAsDenied`.
 */
import { type AddressObject, simpleParser } from 'mailparser';

export interface GraphErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export interface DecodedMime {
  raw: Buffer;
  messageId?: string;
  subject?: string;
  from?: string;
  /** To, Cc and Bcc addresses. */
  recipients: string[];
  bcc: string[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ADDRESS = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;

/** Decodes and reads the MIME; `rejected` are addresses the test declared invalid. */
export async function decodeMime(
  body: string,
  rejected: ReadonlySet<string>,
): Promise<{ ok: true; mime: DecodedMime } | { ok: false; error: GraphErrorAnswer }> {
  const compact = body.replace(/\s+/g, '');
  if (!compact || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    return {
      ok: false,
      error: {
        status: 400,
        code: 'ErrorMimeContentInvalidBase64String',
        message: 'Invalid base64 string for MIME content.',
      },
    };
  }
  const raw = Buffer.from(compact, 'base64');
  const end = raw.indexOf('\r\n\r\n');
  const parsed = await simpleParser(end < 0 ? raw : raw.subarray(0, end + 4), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
  });
  const addresses = (field: AddressObject | AddressObject[] | undefined) =>
    (Array.isArray(field) ? field : field ? [field] : []).flatMap((o) =>
      o.value.flatMap((a) => (a.address ? [a.address.toLowerCase()] : [])),
    );
  const bcc = addresses(parsed.bcc);
  const recipients = [...addresses(parsed.to), ...addresses(parsed.cc), ...bcc];
  const invalid = recipients.filter((a) => !ADDRESS.test(a) || rejected.has(a));
  if (recipients.length === 0 || invalid.length > 0) {
    return {
      ok: false,
      error: {
        status: 400,
        code: 'ErrorInvalidRecipients',
        message:
          recipients.length === 0
            ? "A message can't be sent because it contains no recipients."
            : `At least one recipient isn't valid., Recipient '${invalid[0]}' is not resolved.`,
      },
    };
  }
  const from = parsed.from?.value[0]?.address?.toLowerCase();
  return {
    ok: true,
    mime: {
      raw,
      recipients,
      bcc,
      ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
      ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
      ...(from ? { from } : {}),
    },
  };
}

export function sendAsDenied(): GraphErrorAnswer {
  return {
    status: 403,
    code: 'ErrorSendAsDenied',
    message:
      'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
  };
}
