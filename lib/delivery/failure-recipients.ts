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
import type { SQSRecord } from 'aws-lambda';

export const FAILURE_RECIPIENTS_ATTRIBUTE = 'FailureRecipients';
/**
 * The mail id of a copy or dead letter whose body has no `id`: the SQS message id of the record it
 * came from, so the Message-ID and the ledger key stay those of the first attempt.
 */
export const MAIL_ID_ATTRIBUTE = 'MailId';
const MAIL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Addresses never hold a comma or a space in this contract, so a plain list reads and parses back. */
const SEPARATOR = ', ';

/** The attribute's value for `recipients`. */
export function formatFailureRecipients(recipients: readonly string[]): string {
  return recipients.join(SEPARATOR);
}

/** The mail id a record carries in `MailId`, if it is a valid one. */
export function mailIdAttributeOf(record: SQSRecord): string | undefined {
  const id = record.messageAttributes?.[MAIL_ID_ATTRIBUTE]?.stringValue;
  return id !== undefined && MAIL_ID.test(id) ? id : undefined;
}

/** The recipients a record is narrowed to (lower case, deduplicated), or undefined for all of them. */
export function failureRecipientsOf(record: SQSRecord): string[] | undefined {
  const raw = record.messageAttributes?.[FAILURE_RECIPIENTS_ATTRIBUTE]?.stringValue;
  if (raw === undefined) return undefined;
  const list = raw
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(list)];
}

/**
 * The envelope for a narrowed record: the message's own envelope recipients that the attribute
 * names, in the message's order. Names the message does not hold are ignored: the attribute can
 * narrow a message, never add a recipient to it.
 */
export function narrowEnvelope(envelope: readonly string[], narrowTo: readonly string[]): string[] {
  const wanted = new Set(narrowTo);
  return envelope.filter((address) => wanted.has(address.toLowerCase()));
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
