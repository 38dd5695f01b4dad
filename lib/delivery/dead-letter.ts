/**
 * Moves a record that can never be sent to the dead-letter queue, with the reason attached, and the
 * body exactly as the producer sent it (so `dlq redrive` can replay it after a fix).
 *
 * The source queue's redrive policy only dead-letters after `maxReceiveCount` failed receives and
 * carries no reason; permanent failures go here explicitly instead, at once (SPEC: invalid and
 * rejected are never retried: Office 365 throttles a mailbox that repeats a permanent error).
 */

import type { SQSRecord } from 'aws-lambda';
import {
  FAILURE_RECIPIENTS_ATTRIBUTE,
  formatFailureRecipients,
  MAIL_ID_ATTRIBUTE,
} from './failure-recipients.ts';
import type { SqsSender } from './lazy-sqs-client.ts';

/** SQS attribute values may be large, but a reason longer than this is a stack dump, not a reason. */
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

export type DeadLetterResult = { ok: true } | { ok: false; error: string };

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
  try {
    // Loaded here, not at start: see lib/delivery/lazy-sqs-client.ts.
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const recipients = why.recipients
      ? formatFailureRecipients(why.recipients)
      : record.messageAttributes?.[FAILURE_RECIPIENTS_ATTRIBUTE]?.stringValue;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: record.body,
        MessageAttributes: {
          FailureClass: { DataType: 'String', StringValue: why.failureClass },
          FailureReason: { DataType: 'String', StringValue: truncateReason(why.reason) || '-' },
          FailureAt: { DataType: 'String', StringValue: why.at.toISOString() },
          ...(recipients && {
            [FAILURE_RECIPIENTS_ATTRIBUTE]: { DataType: 'String', StringValue: recipients },
          }),
          ...(why.mailId && {
            [MAIL_ID_ATTRIBUTE]: { DataType: 'String', StringValue: why.mailId },
          }),
        },
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
    return { ok: true };
  } catch (err) {
    return { ok: false, error: errorText(err) };
  }
}

/** A failed SQS send, in a few words. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
