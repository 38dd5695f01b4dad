/**
 * Moves a record that can never be sent to the dead-letter queue, with the reason attached, and the
 * body exactly as the producer sent it (so `dlq redrive` can replay it after a fix).
 *
 * The source queue's redrive policy only dead-letters after `maxReceiveCount` failed receives and
 * carries no reason; permanent failures go here explicitly instead, at once (SPEC: invalid and
 * rejected are never retried: Office 365 throttles a mailbox that repeats a permanent error).
 */

import type { SQSRecord } from 'aws-lambda';
import { errorText } from '../errors.ts';
import { SQS_MAX_MESSAGE_BYTES } from '../message/mail-message-limits.ts';
import { sqsAttributesBytes } from '../message/sqs-message-size.ts';
import {
  FAILURE_RECIPIENTS_ATTRIBUTE,
  failureRecipientsValue,
  MAIL_ID_ATTRIBUTE,
} from './failure-recipients.ts';
import type { SqsSender } from './lazy-sqs-client.ts';

/** A reason longer than this is a stack dump, not a reason. */
export const MAX_FAILURE_REASON_LENGTH = 1024;

export interface DeadLetterReason {
  failureClass: 'invalid' | 'rejected';
  /** Human text, with the server's reply when there was one. */
  reason: string;
  at: Date;
  /**
   * The recipients the dead letter is for, when not all of the message's (`FailureRecipients`).
   * @default the record's own `FailureRecipients`, if it had one
   */
  recipients?: readonly string[];
  /** The mail id (`MailId`), so a redrive keeps the Message-ID when the body has no `id`. */
  mailId?: string;
}

export type DeadLetterResult =
  | {
      ok: true;
      /** What had to give way for the body to fit SQS's 1 MiB (an oversize body): e.g. `FailureReason shortened`. */
      trimmed?: string;
    }
  | { ok: false; error: string };

/** Truncates on a character boundary and says so, so a reader knows text is missing. */
export function truncateReason(reason: string, max = MAX_FAILURE_REASON_LENGTH): string {
  const oneLine = reason.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (oneLine.length <= max) return oneLine;
  return `${Array.from(oneLine.slice(0, max - 1)).join('')}…`;
}

/**
 * Sends the record to `dlqUrl`. Never throws: a failed DLQ send is reported so the caller can leave
 * the record on the source queue (nothing lost) instead of acknowledging it.
 */
export async function deadLetter(
  sqs: SqsSender,
  dlqUrl: string,
  record: SQSRecord,
  why: DeadLetterReason,
): Promise<DeadLetterResult> {
  const fifo = dlqUrl.endsWith('.fifo');
  const { attributes, trimmed } = deadLetterAttributes(record, why);
  try {
    // Loaded here, not at start: see lib/delivery/lazy-sqs-client.ts.
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: record.body,
        MessageAttributes: attributes,
        // A FIFO DLQ needs a group; keeping the record's group keeps the dead letters in order.
        // The SQS message id as dedup id makes a repeated move of the same delivery a no-op.
        ...(fifo
          ? {
              MessageGroupId: record.attributes.MessageGroupId ?? 'dead-letters',
              MessageDeduplicationId: record.messageId,
            }
          : {}),
      }),
    );
    return trimmed ? { ok: true, trimmed } : { ok: true };
  } catch (err) {
    return { ok: false, error: errorText(err) };
  }
}

type Attribute = { DataType: 'String'; StringValue: string };

/** Reason bytes kept when deciding whether the recipients fit as addresses. */
const REASON_FLOOR_BYTES = 256;

/**
 * The dead letter's attributes. A body the contract accepts leaves room for all of them
 * (`FAILURE_ATTRIBUTES_ROOM_BYTES`); for a bigger one (a producer that skipped validation) the
 * recipients go as positions, then the reason is shortened, then attributes are left out, least
 * needed first, so the message is moved rather than retried forever.
 */
function deadLetterAttributes(
  record: SQSRecord,
  why: DeadLetterReason,
): { attributes: Record<string, Attribute>; trimmed?: string } {
  const budget = SQS_MAX_MESSAGE_BYTES - Buffer.byteLength(record.body);
  const attr = (value: string): Attribute => ({ DataType: 'String', StringValue: value });
  const reason = truncateReason(why.reason) || '-';
  const fixed: Record<string, Attribute> = {
    FailureClass: attr(why.failureClass),
    ...(why.mailId && { [MAIL_ID_ATTRIBUTE]: attr(why.mailId) }),
    FailureAt: attr(why.at.toISOString()),
  };
  const recipientsRoom =
    budget -
    sqsAttributesBytes(fixed) -
    sqsAttributesBytes({ FailureReason: attr(shortenToBytes(reason, REASON_FLOOR_BYTES)) }) -
    sqsAttributesBytes({ [FAILURE_RECIPIENTS_ATTRIBUTE]: attr('') });
  const recipients = why.recipients
    ? failureRecipientsValue(why.recipients, record.body, recipientsRoom)
    : record.messageAttributes?.[FAILURE_RECIPIENTS_ATTRIBUTE]?.stringValue;
  // In order of need: what it is, whom it is for, which mail, when, why.
  const wanted: [string, string][] = [
    ['FailureClass', why.failureClass],
    ...(recipients ? [[FAILURE_RECIPIENTS_ATTRIBUTE, recipients] as [string, string]] : []),
    ...(why.mailId ? [[MAIL_ID_ATTRIBUTE, why.mailId] as [string, string]] : []),
    ['FailureAt', why.at.toISOString()],
    ['FailureReason', reason],
  ];
  const attributes: Record<string, Attribute> = {};
  const trimmed: string[] = [];
  let left = budget;
  for (const [name, value] of wanted) {
    const room = left - Buffer.byteLength(name) - Buffer.byteLength('String');
    const fitted = name === 'FailureReason' ? shortenToBytes(value, room) : value;
    if (fitted.length === 0 || Buffer.byteLength(fitted) > room) {
      trimmed.push(`${name} left out`);
      continue;
    }
    if (fitted !== value) trimmed.push(`${name} shortened`);
    attributes[name] = attr(fitted);
    left = room - Buffer.byteLength(fitted);
  }
  return trimmed.length > 0 ? { attributes, trimmed: trimmed.join(', ') } : { attributes };
}

/** The longest prefix of `text` within `maxBytes` of UTF-8, marked with "…" when cut. */
function shortenToBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  if (maxBytes < 4) return '';
  let out = '';
  let bytes = 3; // the "…"
  for (const ch of text) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > maxBytes) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}
