/**
 * Puts a copy of a record back on its queue for the recipients that got a temporary reply while
 * others got the message: the same body (so the same To/Cc headers and Message-ID), narrowed by
 * `FailureRecipients`, and delayed like a retry. The record itself is then done: those who got the
 * message are never sent it again, and the copy's own receives count towards the redrive policy.
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { errorText } from '../errors.ts';
import { SQS_MAX_MESSAGE_BYTES } from '../message/mail-message-limits.ts';
import { sqsAttributesBytes } from '../message/sqs-message-size.ts';
import type { DeadLetterResult } from './dead-letter.ts';
import {
  FAILURE_RECIPIENTS_ATTRIBUTE,
  failureRecipientsValue,
  MAIL_ID_ATTRIBUTE,
} from './failure-recipients.ts';
import type { SqsSender } from './lazy-sqs-client.ts';

/** SQS's longest per-message delay (15 minutes). */
const MAX_DELAY_SECONDS = 900;

export async function requeueForRecipients(
  sqs: SqsSender,
  queueUrl: string,
  record: SQSRecord,
  recipients: readonly string[],
  delaySeconds: number,
  mailId: string,
): Promise<DeadLetterResult> {
  const fifo = queueUrl.endsWith('.fifo');
  const room =
    SQS_MAX_MESSAGE_BYTES -
    Buffer.byteLength(record.body) -
    sqsAttributesBytes({
      [FAILURE_RECIPIENTS_ATTRIBUTE]: { DataType: 'String', StringValue: '' },
      [MAIL_ID_ATTRIBUTE]: { DataType: 'String', StringValue: mailId },
    });
  const list = failureRecipientsValue(recipients, record.body, room);
  try {
    // Loaded here, not at start: see lib/delivery/lazy-sqs-client.ts.
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        MessageAttributes: {
          [FAILURE_RECIPIENTS_ATTRIBUTE]: { DataType: 'String', StringValue: list },
          // The copy gets an SQS message id of its own; the mail keeps its id (and Message-ID).
          [MAIL_ID_ATTRIBUTE]: { DataType: 'String', StringValue: mailId },
        },
        // FIFO queues take no per-message delay; the copy joins the end of its group.
        ...(fifo
          ? {
              MessageGroupId: record.attributes.MessageGroupId ?? 'mail',
              // A repeated copy of the same delivery for the same recipients is dropped by SQS.
              MessageDeduplicationId: createHash('sha256')
                .update(`${record.messageId}\n${list}`)
                .digest('base64url'),
            }
          : { DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))) }),
      }),
    );
    return { ok: true };
  } catch (err) {
    return { ok: false, error: errorText(err) };
  }
}
