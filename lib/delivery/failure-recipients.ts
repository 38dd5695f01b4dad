/**
 * The `FailureRecipients` message attribute: which of a message's recipients one queue message is
 * for. A record without it goes to every recipient of its body. A copy the sender puts back on the
 * queue for recipients that got a temporary reply, and a dead letter for recipients that were
 * refused for good, carry it, so the next attempt (or the redrive after a fix) reaches them alone
 * while the body, and with it To/Cc and the Message-ID, stays as the producer wrote it.
 *
 * The attribute travels with the message through the queue's redrive policy, the DLQ and
 * `dlq redrive`, so it needs no delivery ledger; the ledger keys a narrowed record apart from the
 * whole message (see {@link ledgerKeyOf}), so "sent to some" never reads as "sent to all".
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { SQSRecord } from 'aws-lambda';
import { splitAddressString } from '../message/mail-address.ts';
import type { MailMessage } from '../types.ts';

export const FAILURE_RECIPIENTS_ATTRIBUTE = 'FailureRecipients';
/**
 * The mail id of a copy or dead letter whose body has no `id`: the SQS message id of the record it
 * came from, so the Message-ID and the ledger key stay those of the first attempt.
 */
export const MAIL_ID_ATTRIBUTE = 'MailId';
const MAIL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Addresses never hold a comma or a space in this contract, so a plain list reads and parses back. */
const SEPARATOR = ', ';

/**
 * The attribute's value for `recipients`: their addresses, or, when those are longer than
 * `maxBytes` (a body near SQS's limit and hundreds of recipients), their positions in the body's
 * to, cc and bcc taken in that order (`#0,3,17`), which any number of recipients fits in.
 */
export function failureRecipientsValue(
  recipients: readonly string[],
  body: string,
  maxBytes = Number.POSITIVE_INFINITY,
): string {
  const list = recipients.join(SEPARATOR);
  if (Buffer.byteLength(list, 'utf8') <= maxBytes) return list;
  const all = bodyRecipients(body).map(addressKey);
  const wanted = new Set(recipients.map(addressKey));
  const positions = all.flatMap((key, i) => (wanted.has(key) ? [i] : []));
  return positions.length > 0 ? `#${positions.join(',')}` : list;
}

/** The mail id a record carries in `MailId`, if it is a valid one. */
export function mailIdAttributeOf(record: SQSRecord): string | undefined {
  const id = record.messageAttributes?.[MAIL_ID_ATTRIBUTE]?.stringValue;
  return id !== undefined && MAIL_ID.test(id) ? id : undefined;
}

/**
 * The recipients a record is narrowed to, as comparison keys ({@link addressKey}, deduplicated),
 * or undefined for all of them. Positions (`#0,3`) are read against `message`.
 */
export function failureRecipientsOf(record: SQSRecord, message: MailMessage): string[] | undefined {
  const raw = record.messageAttributes?.[FAILURE_RECIPIENTS_ATTRIBUTE]?.stringValue;
  if (raw === undefined) return undefined;
  let list: string[];
  if (raw.trimStart().startsWith('#')) {
    const all = [...message.to, ...message.cc, ...message.bcc].map((a) => a.address);
    list = raw
      .trim()
      .slice(1)
      .split(',')
      .map((n) => all[Number(n.trim())])
      .filter((a): a is string => a !== undefined);
  } else {
    list = raw.split(',').map((a) => a.trim());
  }
  return [...new Set(list.filter(Boolean).map(addressKey))];
}

/**
 * The envelope for a narrowed record: the message's own envelope recipients that the attribute
 * names, in the message's order. Names the message does not hold are ignored: the attribute can
 * narrow a message, never add a recipient to it.
 */
export function narrowEnvelope(envelope: readonly string[], narrowTo: readonly string[]): string[] {
  const wanted = new Set(narrowTo);
  return envelope.filter((address) => wanted.has(addressKey(address)));
}

/**
 * How two spellings of one address compare: lower case, the domain in its ASCII (punycode) form, as
 * nodemailer writes an international domain in the SMTP envelope.
 */
export function addressKey(address: string): string {
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  return `${address.slice(0, at)}@${domainToASCII(domain) || domain}`.toLowerCase();
}

/** The addresses of a queue body's to, cc and bcc, in order; none when it is not a mail message. */
function bodyRecipients(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return ['to', 'cc', 'bcc'].flatMap((field) => {
      const list = parsed[field];
      if (!Array.isArray(list)) return [];
      return list.map((entry: unknown) =>
        typeof entry === 'string'
          ? splitAddressString(entry).address
          : String((entry as { address?: unknown })?.address ?? ''),
      );
    });
  } catch {
    return [];
  }
}

/**
 * The delivery ledger's key: the mail id for the whole message, the mail id plus a digest of the
 * recipients for a narrowed one. `/` cannot occur in a mail id, so no key of one shape can be the
 * other's.
 */
export function ledgerKeyOf(mailId: string, narrowTo: readonly string[] | undefined): string {
  if (!narrowTo) return mailId;
  const digest = createHash('sha256')
    .update([...narrowTo].sort().join('\n'))
    .digest('base64url')
    .slice(0, 22);
  return `${mailId}/${digest}`;
}
