import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** One message in the dead-letter queue, with why it is there. */
export interface DeadLetter {
  /** The SQS message id in the DLQ (`dlq show` takes it, or the mail id). */
  messageId: string;
  /** The mail message's own `id` (from its body, else its `MailId` attribute). */
  mailId?: string;
  /** `invalid` / `rejected` (set by the sender); absent when SQS moved it after maxReceiveCount. */
  failureClass?: string;
  failureReason?: string;
  failureAt?: string;
  /** When the message was first sent to SQS (ISO). */
  sentAt?: string;
  subject?: string;
  /** The body's `to`, or the `FailureRecipients` a dead letter for some recipients names. */
  to?: string[];
  body: string;
  attributes: Record<string, string>;
}

/** How long a listing hides the messages it has seen, so repeated receives return new ones. */
const PEEK_VISIBILITY_SECONDS = 30;
const MAX_EMPTY_RECEIVES = 3;

/**
 * Reads up to `limit` dead letters without removing them. SQS has no "peek": the messages are
 * received with a short visibility timeout (so each is seen once), then made visible again at
 * once. The DLQ has no redrive policy, so the receive counts this adds have no effect.
 */
export async function readDeadLetters(
  client: SQSClient,
  dlqUrl: string,
  limit = 1000,
): Promise<DeadLetter[]> {
  // ApproximateNumberOfMessages can lag behind: it says how hard to look, not when to stop.
  const expected = Math.min(limit, await visibleCount(client, dlqUrl));
  const seen = new Map<string, Message>();
  let empty = 0;
  try {
    while (seen.size < limit && empty < MAX_EMPTY_RECEIVES) {
      const missing = seen.size < expected;
      if (!missing && empty > 0) break;
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          // Short polls sample a subset of SQS servers; when some are still missing after an
          // empty one, wait a second so that all of them are asked.
          WaitTimeSeconds: missing && empty > 0 ? 1 : 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      empty = Messages.length === 0 ? empty + 1 : 0;
      for (const message of Messages) if (message.MessageId) seen.set(message.MessageId, message);
    }
  } finally {
    await makeVisibleAgain(client, dlqUrl, [...seen.values()]);
  }
  return [...seen.values()].map(toDeadLetter);
}

/** `ApproximateNumberOfMessages` of a queue (visible messages). */
export async function visibleCount(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function makeVisibleAgain(client: SQSClient, queueUrl: string, messages: Message[]) {
  for (let i = 0; i < messages.length; i += 10) {
    const entries = messages.slice(i, i + 10).map((m, n) => ({
      Id: String(n),
      ReceiptHandle: m.ReceiptHandle!,
      VisibilityTimeout: 0,
    }));
    await client.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
  }
}

/** Finds a dead letter by its SQS message id or by the mail message's `id`. */
export function findDeadLetter(letters: DeadLetter[], id: string): DeadLetter | undefined {
  return letters.find((l) => l.messageId === id) ?? letters.find((l) => l.mailId === id);
}

function toDeadLetter(message: Message): DeadLetter {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  const body = message.Body ?? '';
  const summary = summarizeMailBody(body);
  const sent = message.Attributes?.SentTimestamp;
  // A dead letter for some recipients only names them: they are who it is for.
  const narrowed = attributes.FailureRecipients?.split(',').map((a) => a.trim());
  return {
    messageId: message.MessageId ?? '',
    ...summary,
    ...(narrowed && { to: narrowed }),
    ...(summary.mailId === undefined && attributes.MailId && { mailId: attributes.MailId }),
    failureClass: attributes.FailureClass,
    failureReason: attributes.FailureReason,
    failureAt: attributes.FailureAt,
    sentAt: sent ? new Date(Number(sent)).toISOString() : undefined,
    body,
    attributes,
  };
}

/** Subject, recipients and id for the listing; a body that is not a mail message shows none. */
export function summarizeMailBody(body: string): Pick<DeadLetter, 'mailId' | 'subject' | 'to'> {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; subject?: unknown; to?: unknown };
    const to = Array.isArray(parsed.to)
      ? parsed.to.map((a) =>
          typeof a === 'string' ? a : String((a as { address?: unknown })?.address ?? ''),
        )
      : undefined;
    return {
      mailId: typeof parsed.id === 'string' ? parsed.id : undefined,
      subject: typeof parsed.subject === 'string' ? parsed.subject : undefined,
      to,
    };
  } catch {
    return {};
  }
}
